// The individual network checks: DNS, TCP, TLS, FTP banner, HTTPS request and proxy CONNECT. Each
// is bounded by its own timeout and returns a verdict (and the socket when a later check needs it).

import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { connectTcp, errorCode, readUntil, tlsHandshake, withTimeout } from './socket-io.js';
import {
  explainDns,
  explainTcp,
  explainTlsAuthorization,
  explainTlsError,
  failure,
  type Verdict,
} from './explain.js';

const DAY_MS = 86_400_000;
/** A certificate expiring sooner than this is a warning: renewal is overdue somewhere. */
export const EXPIRY_WARNING_DAYS = 14;

export async function checkDns(host: string, ms: number): Promise<Verdict> {
  if (isIP(host) !== 0) return { status: 'ok', detail: `${host} is an IP address` };
  try {
    // dns.lookup cannot be cancelled; the timeout stops waiting for it.
    const addresses = await withTimeout(`DNS lookup of ${host}`, ms, () =>
      lookup(host, { all: true }),
    );
    return { status: 'ok', detail: addresses.map((a) => a.address).join(', ') };
  } catch (err) {
    return explainDns(host, err);
  }
}

export async function checkTcp(
  host: string,
  port: number,
  ms: number,
): Promise<{ verdict: Verdict; socket?: Socket }> {
  try {
    const socket = await connectTcp(host, port, ms);
    return {
      verdict: { status: 'ok', detail: `connected to ${socket.remoteAddress ?? host}` },
      socket,
    };
  } catch (err) {
    return { verdict: explainTcp(`${host}:${String(port)}`, err) };
  }
}

/** Why the peer's certificate is not acceptable (chain first, then host name), or null. */
function verificationCode(
  authError: unknown,
  host: string,
  cert: ReturnType<TLSSocket['getPeerCertificate']>,
): string | null {
  if (typeof authError === 'string') return authError;
  if (authError instanceof Error) return errorCode(authError) ?? authError.message;
  const identityError: unknown = checkServerIdentity(host, cert);
  return identityError === undefined ? null : (errorCode(identityError) ?? 'host name mismatch');
}

export async function checkTls(
  socket: Socket,
  host: string,
  ms: number,
  ca: string | undefined,
  now = Date.now(),
): Promise<{ verdict: Verdict; tls?: TLSSocket }> {
  let tls: TLSSocket;
  try {
    tls = await tlsHandshake(socket, host, ms, {
      ...(ca !== undefined ? { ca } : {}),
      verify: false,
    });
  } catch (err) {
    return { verdict: explainTlsError(err) };
  }
  const cert = tls.getPeerCertificate();
  const protocol = tls.getProtocol() ?? 'unknown protocol';
  const code = verificationCode(tls.authorizationError, host, cert);
  if (code !== null) {
    tls.destroy();
    return { verdict: explainTlsAuthorization(host, code) };
  }
  const daysLeft = Math.floor((new Date(cert.valid_to).getTime() - now) / DAY_MS);
  const detail = `${protocol}, certificate valid, expires in ${String(daysLeft)} days (${cert.valid_to})`;
  if (protocol !== 'TLSv1.3' && protocol !== 'TLSv1.2') {
    return {
      verdict: failure(
        `${detail}; outdated protocol ${protocol}`,
        'the server or a middlebox negotiates an outdated TLS version',
        'the server must offer TLS 1.2 or later',
      ),
      tls,
    };
  }
  if (daysLeft < EXPIRY_WARNING_DAYS) {
    return {
      verdict: {
        status: 'warn',
        detail,
        cause: `the certificate expires in less than ${String(EXPIRY_WARNING_DAYS)} days`,
        fix: 'the server operator must renew the certificate soon; check again after renewal',
      },
      tls,
    };
  }
  return { verdict: { status: 'ok', detail }, tls };
}

export async function checkFtpBanner(socket: Socket, host: string, ms: number): Promise<Verdict> {
  try {
    const text = await readUntil(socket, `FTP banner from ${host}`, ms, (t) =>
      /^\d{3} [^\n]*\n/m.test(t),
    );
    const line = /^(\d{3})[ -]([^\r\n]*)/.exec(text);
    if (line?.[1] === '220') return { status: 'ok', detail: `220 ${line[2] ?? ''}`.trim() };
    return failure(
      `unexpected FTP greeting: ${(line?.[0] ?? text.slice(0, 80)).trim()}`,
      'the server refuses service (421: too many users / maintenance) or this is not an FTP server',
      'retry later; if it persists, check that the port belongs to the FTP service',
    );
  } catch (err) {
    const v = explainTlsError(err);
    return failure(
      v.detail.replace('TLS handshake', 'FTP banner'),
      'the port accepts connections but sends no FTP greeting: a firewall or proxy holds FTP',
      'allow FTP (port 21 and passive data ports) on the site firewall',
    );
  }
}

/** The server's clock as its `Date` header gave it, and when the request was sent and answered. */
export interface ClockSample {
  subject: string;
  serverDate: string;
  sentAt: number;
  receivedAt: number;
}

export async function checkHttps(
  tls: TLSSocket,
  host: string,
  ms: number,
): Promise<{ verdict: Verdict; date?: string; sentAt: number; receivedAt: number }> {
  const sentAt = Date.now();
  tls.write(
    `HEAD / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: command-center-doctor\r\nConnection: close\r\n\r\n`,
  );
  try {
    const text = await readUntil(tls, `HTTPS request to ${host}`, ms, (t) =>
      t.includes('\r\n\r\n'),
    );
    const receivedAt = Date.now();
    const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text)?.[1];
    if (status === undefined)
      return {
        verdict: failure(
          'HTTPS request got no HTTP answer',
          'the server answered with something other than HTTP',
          'check that the endpoint is an HTTPS service',
        ),
        sentAt,
        receivedAt,
      };
    const date = /\r\ndate:[ \t]*([^\r\n]{1,64})/i.exec(text)?.[1]?.trim();
    const timing = { sentAt, receivedAt, ...(date !== undefined ? { date } : {}) };
    if (status.startsWith('5'))
      return {
        verdict: {
          status: 'warn',
          detail: `HTTP ${status}`,
          cause: 'the service answers but reports a server error',
          fix: 'retry later; the service may be down for maintenance',
        },
        ...timing,
      };
    return { verdict: { status: 'ok', detail: `HTTP ${status}` }, ...timing };
  } catch (err) {
    return {
      verdict: failure(
        `HTTPS request failed: ${err instanceof Error ? err.message : String(err)}`,
        'the TLS connection was established but the request got no answer',
        'check for a filtering proxy or firewall inspecting HTTPS to this host',
      ),
      sentAt,
      receivedAt: Date.now(),
    };
  } finally {
    tls.destroy();
  }
}

/** Opens a tunnel through an HTTP proxy with CONNECT; the socket carries the target's bytes. */
export async function checkProxyConnect(
  proxy: URL,
  host: string,
  port: number,
  ms: number,
): Promise<{ verdict: Verdict; socket?: Socket }> {
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = proxy.port === '' ? 80 : Number(proxy.port);
  const where = `${proxyHost}:${String(proxyPort)}`;
  let socket: Socket;
  try {
    socket = await connectTcp(proxyHost, proxyPort, ms);
  } catch (err) {
    const v = explainTcp(where, err);
    return {
      verdict: failure(
        `proxy ${where} unreachable: ${v.detail}`,
        `the proxy is not running or not reachable (${v.cause ?? ''})`,
        'check the proxy setting (HTTPS_PROXY or --proxy) and that the proxy is up',
      ),
    };
  }
  const authority = isIP(host) === 6 ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
  const auth =
    proxy.username !== ''
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : '';
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  let head: string;
  try {
    head = await readUntil(socket, `CONNECT through ${where}`, ms, (t) => t.includes('\r\n\r\n'));
  } catch (err) {
    socket.destroy();
    return {
      verdict: failure(
        `proxy CONNECT failed: ${err instanceof Error ? err.message : String(err)}`,
        'the proxy accepted the connection but did not answer CONNECT',
        'check that the proxy is an HTTP proxy that supports CONNECT',
      ),
    };
  }
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head)?.[1];
  if (status === '200')
    return { verdict: { status: 'ok', detail: `tunnel through proxy ${where}` }, socket };
  socket.destroy();
  if (status === '407')
    return {
      verdict: failure(
        `proxy ${where} requires authentication (407)`,
        'the proxy needs credentials, or the ones given are wrong',
        'put the user and password in the proxy URL (http://user:password@proxy:port)',
      ),
    };
  return {
    verdict: failure(
      `proxy ${where} refused CONNECT to ${authority} (${status ?? 'no HTTP status'})`,
      'the proxy policy does not allow tunnels to this host or port',
      `ask the proxy administrator to allow CONNECT to ${authority}`,
    ),
  };
}
