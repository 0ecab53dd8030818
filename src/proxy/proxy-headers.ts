// Which headers cross the proxy, in each direction. Both ways an allow-list: hop-by-hop headers
// (RFC 9110 §7.6.1: Connection and every header it names, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) never pass, and neither does anything that authenticates — the
// integration's token and cookies stay here, the device credential is the server's own.

import type { IncomingHttpHeaders } from 'node:http';

/** Request headers an integration may send on to a device. */
const REQUEST_ALLOW = [
  'accept',
  'accept-language',
  'content-type',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
] as const;

/** Device answer headers passed back to the integration. */
const RESPONSE_ALLOW = [
  'content-type',
  'content-language',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'allow',
  'retry-after',
] as const;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

type HeaderBag = Record<string, string | string[] | undefined>;

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value.join(', ') : value;
  // Never pass a header value that could split a header or a response.
  return v === undefined || /[\r\n\0]/.test(v) ? undefined : v;
}

/** Header names the Connection header lists (each is hop-by-hop for this message). */
export function connectionTokens(headers: HeaderBag): Set<string> {
  const value = single(headers.connection) ?? '';
  return new Set(
    value
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

function isHopByHop(name: string, listed: Set<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listed.has(name);
}

function pick(headers: HeaderBag, allow: readonly string[]): Record<string, string> {
  const listed = connectionTokens(headers);
  const out: Record<string, string> = {};
  for (const name of allow) {
    if (isHopByHop(name, listed)) continue;
    const value = single(headers[name]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export interface DeviceRequestExtras {
  /** `Basic …` from the registry: the only credential a device ever gets. */
  authorization: string;
  requestId: string;
  via: string;
  /** When the body length is known (or 0 for a body-less write). */
  contentLength?: number;
}

/** The headers of the request to the device: allowed ones, then the proxy's own. */
export function deviceRequestHeaders(
  incoming: IncomingHttpHeaders,
  extras: DeviceRequestExtras,
): Record<string, string> {
  const out = pick(incoming, REQUEST_ALLOW);
  out.authorization = extras.authorization;
  out['x-request-id'] = extras.requestId;
  const via = single(incoming.via);
  out.via = via === undefined ? extras.via : `${via}, ${extras.via}`;
  if (extras.contentLength !== undefined) out['content-length'] = String(extras.contentLength);
  return out;
}

/** The headers of the answer to the integration (without Content-Length, set by the caller). */
export function clientResponseHeaders(
  fromDevice: HeaderBag,
  extras: { requestId: string; via: string },
): Record<string, string> {
  const out = pick(fromDevice, RESPONSE_ALLOW);
  out['cache-control'] ??= 'no-store';
  out['x-content-type-options'] = 'nosniff';
  out['x-request-id'] = extras.requestId;
  out.via = extras.via;
  return out;
}
