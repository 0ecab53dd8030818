// Opens the TLS channel for one payload: a fresh TCP connection to the target or an HTTP CONNECT
// tunnel through the proxy, then TLS 1.2+ with the chain and host name verified and, when pins are
// configured for the host, the SPKI pin checked inside the handshake, before a byte of the payload
// is written. Every socket it opens belongs to a SocketScope that the caller destroys.

import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import {
  checkServerIdentity,
  connect as connectTls,
  rootCertificates,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';
import type { Deadline } from './deadline.js';
import { authorityOf, normalizeHost, portOf } from './host-port.js';
import { proxyAuthorization, proxyUserName } from './proxy-choice.js';
import { SendError, redactProxyUrl } from './send-error.js';
import { chainPins } from './spki-pin.js';

interface Destroyable {
  destroy(): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Everything one send opened, destroyed together: on abort, on failure and after the answer. */
export class SocketScope {
  private readonly members = new Set<Destroyable>();

  add<T extends Destroyable>(member: T): T {
    // An error after its step settled was already reported by that step (or is the echo of our
    // own destroy); without a listener it would crash the process.
    member.on('error', () => undefined);
    this.members.add(member);
    return member;
  }

  destroyAll(): void {
    for (const member of this.members) member.destroy();
    this.members.clear();
  }
}

class PinMismatch extends Error {
  constructor(readonly presented: string[]) {
    super('no certificate key in the chain matches a configured pin');
  }
}

export interface ChannelOptions {
  /** Extra trusted CA (PEM), on top of Node's bundled roots. */
  ca?: string | undefined;
  /** Accepted SPKI pins for the target host; undefined when the host is not pinned. */
  pins?: readonly string[] | undefined;
}

export interface Channel {
  socket: TLSSocket;
  via: 'direct' | 'proxy';
  /** The proxy, password redacted. */
  proxy?: string;
  /** Address of the peer of the TCP connection: the target, or the proxy when tunnelled. */
  remoteAddress?: string;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && !err.message.includes(code)
    ? `${err.message} (${code})`
    : err.message;
}

/** Runs one phase: records it on the deadline and turns its failure into a SendError. */
async function during<T>(
  deadline: Deadline,
  host: string,
  phase: string,
  fail: (err: unknown) => SendError,
  work: () => Promise<T>,
): Promise<T> {
  deadline.phase = phase;
  try {
    return await work();
  } catch (err) {
    if (err instanceof SendError) throw err;
    if (deadline.signal.aborted) throw deadline.error(host);
    throw fail(err);
  }
}

async function connectDirect(target: URL, scope: SocketScope, deadline: Deadline): Promise<Socket> {
  const authority = authorityOf(target);
  return during(
    deadline,
    target.hostname,
    `connection to ${authority}`,
    (err) =>
      new SendError('network', `cannot connect to ${authority}: ${describe(err)}`, {
        host: target.hostname,
        cause: err,
      }),
    async () => {
      const socket = scope.add(
        connectTcp({ host: normalizeHost(target.hostname), port: portOf(target) }),
      );
      await once(socket, 'connect', { signal: deadline.signal });
      return socket;
    },
  );
}

// OpenSSL's verdicts for a chain that does not end at a trusted CA.
const UNTRUSTED_CHAIN = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** Names the two usual causes, which an admin can act on. */
function untrustedHint(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && UNTRUSTED_CHAIN.has(code)
    ? '; the chain does not lead to a trusted CA (a TLS-inspecting proxy, or a receiver whose CA is not configured)'
    : '';
}

function shortStatusText(text: string | undefined): string {
  return (text ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 80);
}

async function connectThroughProxy(
  target: URL,
  proxy: URL,
  scope: SocketScope,
  deadline: Deadline,
): Promise<Socket> {
  const authority = authorityOf(target);
  const proxyName = redactProxyUrl(proxy);
  const authorization = proxyAuthorization(proxy);
  let reached = false;
  const [response, socket, head] = await during(
    deadline,
    target.hostname,
    `connection to the proxy ${proxyName}`,
    (err) =>
      new SendError(
        'proxy',
        reached
          ? `proxy ${proxyName} failed to answer CONNECT ${authority}: ${describe(err)}`
          : `cannot reach the proxy ${proxyName} (for ${authority}): ${describe(err)}`,
        { host: target.hostname, proxy: proxyName, cause: err },
      ),
    async () => {
      const req = scope.add(
        request({
          host: normalizeHost(proxy.hostname),
          port: portOf(proxy),
          method: 'CONNECT',
          path: authority,
          agent: false,
          setHost: false,
          headers: {
            host: authority,
            ...(authorization === undefined ? {} : { 'proxy-authorization': authorization }),
          },
        }),
      );
      req.once('socket', (socket: Socket) => {
        scope.add(socket);
        socket.once('connect', () => {
          reached = true;
          deadline.phase = `proxy's answer to CONNECT ${authority} (${proxyName})`;
        });
      });
      req.end();
      return (await once(req, 'connect', { signal: deadline.signal })) as [
        IncomingMessage,
        Socket,
        Buffer,
      ];
    },
  );
  scope.add(socket);
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    const answer = `${status} ${shortStatusText(response.statusMessage)}`.trim();
    const details = { host: target.hostname, proxy: proxyName, status };
    // 407 is the standard answer; some proxies (tinyproxy among them) answer 401 to a CONNECT
    // with wrong credentials. Before the tunnel exists only the proxy can have sent either.
    if (status === 407 || status === 401) {
      throw new SendError(
        'proxy-auth',
        authorization === undefined
          ? `proxy authentication required: ${proxyName} answered ${answer} to CONNECT ${authority}; put the user and password in the proxy URL`
          : `proxy authentication failed: ${proxyName} rejected the credentials of user '${proxyUserName(proxy)}' (${answer})`,
        details,
      );
    }
    throw new SendError(
      'proxy',
      `proxy ${proxyName} refused CONNECT ${authority}: ${answer}`,
      details,
    );
  }
  if (head.length > 0) socket.unshift(head);
  return socket;
}

async function startTls(
  target: URL,
  raw: Socket,
  options: ChannelOptions,
  scope: SocketScope,
  deadline: Deadline,
): Promise<TLSSocket> {
  const authority = authorityOf(target);
  const host = normalizeHost(target.hostname);
  const pins = options.pins;
  return during(
    deadline,
    target.hostname,
    `TLS handshake with ${authority}`,
    (err) =>
      err instanceof PinMismatch
        ? new SendError(
            'pin-mismatch',
            `${authority} presented a valid certificate chain whose keys (${err.presented.join(', ')}) match none of the pins configured for ${host}`,
            { host: target.hostname, cause: err },
          )
        : new SendError(
            'tls',
            `TLS handshake with ${authority} failed: ${describe(err)}${untrustedHint(err)}`,
            {
              host: target.hostname,
              cause: err,
            },
          ),
    async () => {
      const socket = scope.add(
        connectTls({
          socket: raw,
          host,
          // RFC 6066: SNI carries host names only, never IP literals.
          servername: isIP(host) === 0 ? host : undefined,
          minVersion: 'TLSv1.2',
          rejectUnauthorized: true,
          // `ca` replaces the bundled roots (and NODE_EXTRA_CA_CERTS), so the extra CA is appended
          // to the bundled roots rather than trusted alone.
          ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }),
          // Called only after the chain verified; no session is ever resumed (no agent, no session
          // cache), so it runs on every connection.
          checkServerIdentity: (name: string, cert: PeerCertificate) => {
            const failure = checkServerIdentity(name, cert);
            if (failure !== undefined || pins === undefined) return failure;
            const presented = chainPins(cert);
            return presented.some((pin) => pins.includes(pin))
              ? undefined
              : new PinMismatch(presented);
          },
        }),
      );
      await once(socket, 'secureConnect', { signal: deadline.signal });
      return socket;
    },
  );
}

/** A verified TLS channel to `target`, direct or through `proxy`. */
export async function openChannel(
  target: URL,
  proxy: URL | null,
  options: ChannelOptions,
  scope: SocketScope,
  deadline: Deadline,
): Promise<Channel> {
  const raw =
    proxy === null
      ? await connectDirect(target, scope, deadline)
      : await connectThroughProxy(target, proxy, scope, deadline);
  const socket = await startTls(target, raw, options, scope, deadline);
  return {
    socket,
    via: proxy === null ? 'direct' : 'proxy',
    ...(proxy === null ? {} : { proxy: redactProxyUrl(proxy) }),
    ...(raw.remoteAddress === undefined ? {} : { remoteAddress: raw.remoteAddress }),
  };
}
