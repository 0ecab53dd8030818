// POSTs one JSON payload to an allow-listed HTTPS endpoint on a connection of its own (no agent,
// `Connection: close`, every socket destroyed after the answer), follows 307/308 redirects that
// stay on the allow-list, and returns the cloud's answer: status and parsed JSON body. Non-2xx
// answers are results, not errors; the outbox decides what a 4xx or 5xx means for a report.

import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { isAllowed } from './allow-list.js';
import { openChannel, SocketScope, type Channel } from './channel.js';
import { Deadline } from './deadline.js';
import { authorityOf, normalizeHost } from './host-port.js';
import { resolveProxy, type ProxyChoice } from './proxy-choice.js';
import { SendError } from './send-error.js';
import { pinsForHost } from './spki-pin.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_MAX_REDIRECTS = 3;

export interface SendPolicy {
  /** Host patterns a payload may go to (see allow-list.ts); redirects are held to it too. */
  allow: readonly string[];
  /** Accepted SPKI pins (base64 SHA-256, optionally `sha256/`-prefixed) by host name. */
  pins?: Readonly<Record<string, readonly string[]>>;
  /** Extra trusted CA (PEM), added to the bundled roots; when set, NODE_EXTRA_CA_CERTS is not read. */
  ca?: string;
  proxy: ProxyChoice;
  /** Deadline for the whole send, redirects included. */
  timeoutMs: number;
  /** Largest answer body read, in bytes (default 64 KiB). */
  maxResponseBytes?: number;
  /** Redirects followed at most (default 3). */
  maxRedirects?: number;
}

export interface SendResult {
  status: number;
  /** The parsed JSON body, or null when the body was empty (or a non-2xx body was not JSON). */
  body: unknown;
  via: 'direct' | 'proxy';
  /** The proxy used, password redacted. */
  proxy?: string;
  /** Peer address of the TCP connection: the cloud's, or the proxy's when tunnelled. */
  remoteAddress?: string;
  /** The URL that answered, after redirects. */
  url: string;
  /** The cloud's Retry-After (seconds or an HTTP date), in seconds from now, when it sent one. */
  retryAfterSeconds?: number;
}

/** Longest Retry-After taken into account: a day. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; anything else is ignored. */
export function retryAfterOf(
  value: string | undefined,
  nowMs: number,
): { retryAfterSeconds?: number } {
  if (value === undefined) return {};
  const text = value.trim();
  let seconds: number;
  if (/^\d{1,10}$/.test(text)) {
    seconds = Number(text);
  } else if (/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) {
    // IMF-fixdate, the form RFC 9110 requires senders to use.
    const at = Date.parse(text);
    if (Number.isNaN(at)) return {};
    seconds = Math.max(0, Math.ceil((at - nowMs) / 1000));
  } else {
    return {};
  }
  return { retryAfterSeconds: Math.min(seconds, MAX_RETRY_AFTER_SECONDS) };
}

interface Answer {
  status: number;
  location: string | undefined;
  retryAfter: string | undefined;
  body: Buffer;
  channel: Channel;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function checkTarget(text: string, redirectFrom?: URL): URL {
  const refuse = (kind: 'insecure-url' | 'redirect-refused', why: string): SendError =>
    new SendError(
      kind,
      redirectFrom === undefined
        ? why
        : `redirect from ${authorityOf(redirectFrom)} refused: ${why}`,
    );
  const kind = redirectFrom === undefined ? 'insecure-url' : 'redirect-refused';
  if (!URL.canParse(text, redirectFrom?.href)) throw refuse(kind, 'the target is not a valid URL');
  const url = new URL(text, redirectFrom);
  if (url.protocol !== 'https:') {
    throw refuse(kind, `only https:// targets are allowed, not ${url.protocol}//${url.host}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw refuse(kind, `the target URL for ${url.host} carries credentials; they are never sent`);
  }
  return url;
}

function checkAllowed(target: URL, allow: readonly string[], redirectFrom?: URL): void {
  if (isAllowed(target, allow)) return;
  const authority = authorityOf(target);
  if (redirectFrom === undefined) {
    throw new SendError(
      'not-allowed',
      `${authority} is not on the uplink allow-list; nothing was sent (allowed: ${allow.join(', ') || 'none'})`,
      { host: target.hostname },
    );
  }
  throw new SendError(
    'redirect-refused',
    `redirect from ${authorityOf(redirectFrom)} to ${authority} refused: ${target.hostname} is not on the uplink allow-list`,
    { host: target.hostname },
  );
}

async function readBody(
  res: IncomingMessage,
  target: URL,
  limit: number,
  deadline: Deadline,
): Promise<Buffer> {
  const authority = authorityOf(target);
  const tooLarge = (): SendError =>
    new SendError(
      'response-too-large',
      `${authority} answered ${res.statusCode ?? 0} with a body over the ${limit}-byte limit; it was not read further`,
      { host: target.hostname, status: res.statusCode ?? 0 },
    );
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  deadline.phase = `rest of the answer from ${authority}`;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** One hop: a connection, one request, one answer, every socket destroyed afterwards. */
async function exchange(
  target: URL,
  payload: Buffer,
  policy: SendPolicy,
  deadline: Deadline,
): Promise<Answer> {
  const proxy = resolveProxy(target, policy.proxy);
  const scope = new SocketScope();
  const onAbort = (): void => scope.destroyAll();
  deadline.signal.addEventListener('abort', onAbort, { once: true });
  const authority = authorityOf(target);
  try {
    const channel = await openChannel(
      target,
      proxy,
      { ca: policy.ca, pins: pinsForHost(policy.pins, normalizeHost(target.hostname)) },
      scope,
      deadline,
    );
    deadline.phase = `answer from ${authority}`;
    const req = scope.add(
      request({
        createConnection: () => channel.socket,
        method: 'POST',
        path: `${target.pathname}${target.search}`,
        setHost: false,
        headers: {
          host: target.host,
          'content-type': 'application/json',
          'content-length': payload.length,
          accept: 'application/json',
          'user-agent': 'command-center-uplink',
          // One connection per payload: the cloud must not hold it open for another request.
          connection: 'close',
        },
      }),
    );
    req.end(payload);
    const [res] = (await once(req, 'response', { signal: deadline.signal })) as [IncomingMessage];
    scope.add(res);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    // A redirect's body is never needed, and the connection is closed anyway.
    const body = REDIRECTS.has(status)
      ? Buffer.alloc(0)
      : await readBody(
          res,
          target,
          policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
          deadline,
        );
    return { status, location, retryAfter: res.headers['retry-after'], body, channel };
  } catch (err) {
    if (err instanceof SendError) throw err;
    if (deadline.signal.aborted) throw deadline.error(target.hostname);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    if (code.startsWith('HPE_')) {
      throw new SendError(
        'bad-response',
        `${authority} did not answer with valid HTTP: ${message}`,
        {
          host: target.hostname,
          cause: err,
        },
      );
    }
    throw new SendError(
      'network',
      `connection to ${authority} failed before the answer was complete: ${message}`,
      { host: target.hostname, cause: err },
    );
  } finally {
    deadline.signal.removeEventListener('abort', onAbort);
    scope.destroyAll();
  }
}

function parseBody(answer: Answer, target: URL): unknown {
  if (answer.body.length === 0) return null;
  try {
    return JSON.parse(answer.body.toString('utf8')) as unknown;
  } catch (err) {
    if (answer.status < 200 || answer.status > 299) return null;
    throw new SendError(
      'bad-response',
      `${authorityOf(target)} answered ${answer.status} with a body that is not JSON`,
      { host: target.hostname, status: answer.status, cause: err },
    );
  }
}

function nextHop(answer: Answer, from: URL, redirects: number, policy: SendPolicy): URL {
  const authority = authorityOf(from);
  const details = { host: from.hostname, status: answer.status };
  if (answer.status !== 307 && answer.status !== 308) {
    throw new SendError(
      'redirect-refused',
      `${authority} answered ${answer.status}: only 307 and 308 redirects are followed, because the others may turn the POST into a GET`,
      details,
    );
  }
  if (answer.location === undefined || answer.location === '') {
    throw new SendError(
      'bad-response',
      `${authority} answered ${answer.status} without a Location`,
      details,
    );
  }
  const max = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (redirects >= max) {
    throw new SendError(
      'redirect-refused',
      `${authority} redirected once more after ${redirects} redirects; at most ${max} are followed`,
      details,
    );
  }
  const next = checkTarget(answer.location, from);
  checkAllowed(next, policy.allow, from);
  return next;
}

/**
 * POSTs `body` as JSON to `url` under `policy`. Resolves with the cloud's answer whatever its
 * status; rejects with a SendError when the payload could not be delivered or the answer read.
 */
export async function postJson(
  url: string,
  body: unknown,
  policy: SendPolicy,
  signal?: AbortSignal,
): Promise<SendResult> {
  let target = checkTarget(url);
  checkAllowed(target, policy.allow);
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new TypeError('postJson: the body has no JSON representation');
  const payload = Buffer.from(json, 'utf8');
  if (!Number.isFinite(policy.timeoutMs) || policy.timeoutMs <= 0) {
    throw new RangeError('postJson: timeoutMs must be a positive number of milliseconds');
  }
  const deadline = new Deadline(policy.timeoutMs, signal);
  try {
    for (let redirects = 0; ; redirects += 1) {
      if (deadline.signal.aborted) throw deadline.error(target.hostname);
      const answer = await exchange(target, payload, policy, deadline);
      if (!REDIRECTS.has(answer.status)) {
        const { channel } = answer;
        return {
          status: answer.status,
          body: parseBody(answer, target),
          via: channel.via,
          ...(channel.proxy === undefined ? {} : { proxy: channel.proxy }),
          ...(channel.remoteAddress === undefined ? {} : { remoteAddress: channel.remoteAddress }),
          url: target.href,
          ...retryAfterOf(answer.retryAfter, Date.now()),
        };
      }
      target = nextHop(answer, target, redirects, policy);
    }
  } finally {
    deadline.dispose();
  }
}
