// GETs a file from an allow-listed HTTPS server and hands back its body as a stream: the same
// connection code as the uplink's POSTs (allow-list checked before any lookup, the site's proxy,
// TLS 1.2+ with chain and host name verified, an extra CA), for downloads too large to buffer
// (firmware packages). One connection per download, closed with it; redirects are followed only
// while they stay https:// and on the allow-list. One deadline covers the redirects, the answer
// and the whole body.

import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { isAllowed } from './allow-list.js';
import { openChannel, SocketScope } from './channel.js';
import { Deadline } from './deadline.js';
import { authorityOf } from './host-port.js';
import { resolveProxy, type ProxyChoice } from './proxy-choice.js';
import { SendError } from './send-error.js';

export interface DownloadPolicy {
  /** Host patterns (see allow-list.ts) the download and its redirects may go to. */
  allow: readonly string[];
  /** How messages name the allow-list, e.g. `firmware.allowedHosts`. */
  allowName: string;
  /** Extra trusted CA (PEM), added to the bundled roots. */
  ca?: string | undefined;
  proxy: ProxyChoice;
  /** Deadline for the whole download: redirects, answer and body. */
  timeoutMs: number;
  /** Redirects followed at most (default 3). */
  maxRedirects?: number;
}

export interface Download {
  /** The 2xx answer's status. */
  status: number;
  /** The answer body; read it to the end or call close(). */
  body: Readable;
  /** Content-Length, when the server sent one. */
  contentLength: number | null;
  /** The URL that answered, after redirects. */
  url: string;
  via: 'direct' | 'proxy';
  /**
   * Why the body stopped, when the deadline or the caller's signal ended it (a stream error alone
   * only says that the socket closed); null otherwise.
   */
  failure(): SendError | null;
  /** Destroys the connection (if still open) and the deadline; call once done with the body. */
  close(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_REDIRECTS = 3;

function checkTarget(text: string, from?: URL): URL {
  const kind = from === undefined ? 'insecure-url' : 'redirect-refused';
  const prefix = from === undefined ? '' : `redirect from ${authorityOf(from)} refused: `;
  if (!URL.canParse(text, from?.href)) {
    throw new SendError(kind, `${prefix}the target is not a valid URL`);
  }
  const url = new URL(text, from);
  if (url.protocol !== 'https:') {
    throw new SendError(
      kind,
      `${prefix}only https:// targets are allowed, not ${url.protocol}//${url.host}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new SendError(kind, `${prefix}the URL for ${url.host} carries credentials`);
  }
  return url;
}

function checkAllowed(target: URL, policy: DownloadPolicy, from?: URL): void {
  if (isAllowed(target, policy.allow)) return;
  const authority = authorityOf(target);
  throw new SendError(
    from === undefined ? 'not-allowed' : 'redirect-refused',
    (from === undefined ? '' : `redirect from ${authorityOf(from)} refused: `) +
      `${authority} is not on ${policy.allowName}; nothing was connected ` +
      `(allowed: ${policy.allow.join(', ') || 'none'})`,
    { host: target.hostname },
  );
}

function failureOf(err: unknown, target: URL, deadline: Deadline, timeoutMs: number): SendError {
  if (err instanceof SendError && err.kind !== 'timeout' && err.kind !== 'aborted') return err;
  if (deadline.signal.aborted) return timeoutOrAbort(deadline, target, timeoutMs);
  if (err instanceof SendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new SendError(
    code.startsWith('HPE_') ? 'bad-response' : 'network',
    `${authorityOf(target)} did not answer the download: ${message}`,
    { host: target.hostname, cause: err },
  );
}

/** The deadline's verdict in download terms: which phase was still waiting when time ran out. */
function timeoutOrAbort(deadline: Deadline, target: URL, timeoutMs: number): SendError {
  const timedOut = deadline.error(target.hostname).kind === 'timeout';
  return new SendError(
    timedOut ? 'timeout' : 'aborted',
    timedOut
      ? `downloading from ${authorityOf(target)} did not finish in time: ${timeoutMs} ms passed while waiting for the ${deadline.phase}`
      : `downloading from ${authorityOf(target)} was cancelled during the ${deadline.phase}`,
    { host: target.hostname },
  );
}

/**
 * Opens a download of `url` under `policy`. Resolves once a 2xx answer's headers are in; rejects
 * with a SendError when the target is refused, cannot be reached, or answers anything but 2xx
 * (after following allowed redirects). The caller reads `body` and then calls `close()`.
 */
export async function openDownload(
  url: string,
  policy: DownloadPolicy,
  signal?: AbortSignal,
): Promise<Download> {
  let target = checkTarget(url);
  checkAllowed(target, policy);
  if (!Number.isFinite(policy.timeoutMs) || policy.timeoutMs <= 0) {
    throw new RangeError('openDownload: timeoutMs must be a positive number of milliseconds');
  }
  const deadline = new Deadline(policy.timeoutMs, signal);
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  for (let redirects = 0; ; redirects += 1) {
    const scope = new SocketScope();
    const onAbort = (): void => scope.destroyAll();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    const release = (): void => {
      deadline.signal.removeEventListener('abort', onAbort);
      scope.destroyAll();
    };
    let res: IncomingMessage;
    let via: 'direct' | 'proxy';
    try {
      if (deadline.signal.aborted) throw timeoutOrAbort(deadline, target, policy.timeoutMs);
      const proxy = resolveProxy(target, policy.proxy);
      const channel = await openChannel(target, proxy, { ca: policy.ca }, scope, deadline);
      via = channel.via;
      deadline.phase = `answer from ${authorityOf(target)}`;
      const req = scope.add(
        request({
          createConnection: () => channel.socket,
          method: 'GET',
          path: `${target.pathname}${target.search}`,
          setHost: false,
          headers: {
            host: target.host,
            accept: '*/*',
            'user-agent': 'command-center-firmware-sync',
            connection: 'close',
          },
        }),
      );
      req.end();
      [res] = (await once(req, 'response', { signal: deadline.signal })) as [IncomingMessage];
      scope.add(res);
    } catch (err) {
      release();
      deadline.dispose();
      throw failureOf(err, target, deadline, policy.timeoutMs);
    }
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      const from = target;
      release();
      try {
        if (redirects >= maxRedirects) {
          throw new SendError(
            'redirect-refused',
            `${authorityOf(from)} redirected once more after ${redirects} redirects; at most ${maxRedirects} are followed`,
            { host: from.hostname, status },
          );
        }
        const location = res.headers.location;
        if (location === undefined || location === '') {
          throw new SendError(
            'bad-response',
            `${authorityOf(from)} answered ${status} without a Location`,
            {
              host: from.hostname,
              status,
            },
          );
        }
        target = checkTarget(location, from);
        checkAllowed(target, policy, from);
      } catch (err) {
        deadline.dispose();
        throw err;
      }
      continue;
    }
    if (status < 200 || status > 299) {
      release();
      deadline.dispose();
      throw new SendError(
        'bad-response',
        `${authorityOf(target)} answered ${status} ${(res.statusMessage ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 60)} for ${target.pathname}`.trimEnd(),
        { host: target.hostname, status },
      );
    }
    deadline.phase = `body of ${target.pathname} from ${authorityOf(target)}`;
    const declared = Number(res.headers['content-length']);
    const answered = target;
    let closed = false;
    return {
      status,
      body: res,
      contentLength: Number.isSafeInteger(declared) && declared >= 0 ? declared : null,
      url: answered.href,
      via,
      failure: () =>
        deadline.signal.aborted ? timeoutOrAbort(deadline, answered, policy.timeoutMs) : null,
      close: () => {
        if (closed) return;
        closed = true;
        release();
        deadline.dispose();
      },
    };
  }
}
