// The proxy's own answers: `{ "error": { "code", "message" } }` with the status of the code, the
// headers a refusal needs (WWW-Authenticate, Allow, Retry-After), and the security headers every
// answer carries. Never a stack trace; a device's internals appear only as a DEVICE_* code.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CcError, ERROR_STATUS, isCcError } from '../domain/index.js';

export const PROXY_REALM = 'Command Center API Proxy';

/** Headers on every answer of the proxy, forwarded or its own. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  // Device answers are data for programs; a browser must never run or frame them.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
  'referrer-policy': 'no-referrer',
};

export function asCcError(err: unknown): CcError {
  if (isCcError(err)) return err;
  return new CcError('INTERNAL', 'internal error');
}

/** Headers a refusal carries besides the body. */
function refusalHeaders(err: CcError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.status === 401) {
    headers['www-authenticate'] =
      err.details?.invalidToken === true
        ? `Bearer realm="${PROXY_REALM}", error="invalid_token"`
        : `Bearer realm="${PROXY_REALM}"`;
  }
  const allow = err.details?.allow;
  if (typeof allow === 'string') headers.allow = allow;
  const retry = err.details?.retryAfterSeconds;
  if (typeof retry === 'number') headers['retry-after'] = String(retry);
  return headers;
}

export function errorJson(err: CcError): string {
  // 500 INTERNAL hides its message; every other code's message is written for the caller.
  const message = err.code === 'INTERNAL' ? 'internal error' : err.message;
  return JSON.stringify({ error: { code: err.code, message } });
}

/** Answers `err`; when a body was sent and not read, the connection is closed after the answer. */
export function sendError(
  res: ServerResponse,
  err: CcError,
  extra: { requestId: string; closeConnection: boolean },
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorJson(err);
  res.writeHead(ERROR_STATUS[err.code], {
    ...SECURITY_HEADERS,
    ...refusalHeaders(err),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': extra.requestId,
    ...(extra.closeConnection ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** A raw 400 on a socket Node could not parse a request from (or a CONNECT). */
export function sendRawError(socket: Socket, err: CcError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorJson(err);
  const status = ERROR_STATUS[err.code];
  socket.end(
    `HTTP/1.1 ${status} ${status === 405 ? 'Method Not Allowed' : 'Bad Request'}\r\n` +
      Object.entries(SECURITY_HEADERS)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'cache-control: no-store\r\nconnection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}
