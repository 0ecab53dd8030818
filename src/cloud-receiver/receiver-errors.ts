// The receiver's error codes (docs/protocols/cloud-uplink.md) and the one handler that turns every
// failure — its own, Fastify's body and content-type checks, unknown routes, unparsable requests —
// into `{ "error": { "code", "message" } }`. Never a stack trace; 5xx details only in the log.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import type { Logger } from '../observability/index.js';

export const RECEIVER_ERROR_STATUS = {
  BAD_REQUEST: 400,
  MALFORMED_ENVELOPE: 400,
  /** The MAC verified but the plaintext did not decrypt to UTF-8 JSON: the sender sealed it wrongly. */
  UNREADABLE_REPORT: 400,
  SEQ_MISMATCH: 400,
  ENROLLMENT_REFUSED: 401,
  UNKNOWN_SITE: 401,
  UNKNOWN_KEY: 401,
  BAD_MAC: 401,
  UNAUTHENTICATED: 401,
  SITE_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REPLAYED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const;

export type ReceiverErrorCode = keyof typeof RECEIVER_ERROR_STATUS;

export class ReceiverError extends Error {
  readonly code: ReceiverErrorCode;
  readonly headers: Record<string, string>;

  constructor(code: ReceiverErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ReceiverError';
    this.code = code;
    this.headers = headers;
  }

  get status(): number {
    return RECEIVER_ERROR_STATUS[this.code];
  }
}

export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

const CODE_BY_STATUS: Partial<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

/** The generic code of a status: for framework errors and injected failures (failNext). */
export function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

interface Mapped {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

function mapError(err: unknown, url: string): Mapped {
  if (err instanceof ReceiverError) {
    return { status: err.status, code: err.code, message: err.message, headers: err.headers };
  }
  const fastify = err as { code?: unknown; statusCode?: unknown };
  const status = typeof fastify.statusCode === 'number' ? fastify.statusCode : 500;
  const headers = {};
  switch (fastify.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: 'the request body is too large',
        headers,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      if (status === 415) {
        return {
          status,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'request bodies are application/json',
          headers,
        };
      }
      break;
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      // On the report route a body that is not JSON is simply not an envelope.
      return url.startsWith('/v1/reports')
        ? {
            status: 400,
            code: 'MALFORMED_ENVELOPE',
            message: 'the body is not a JSON envelope',
            headers,
          }
        : {
            status: 400,
            code: 'BAD_REQUEST',
            message: 'the request body is not valid JSON',
            headers,
          };
    default:
      break;
  }
  if (status >= 400 && status < 500) {
    const message = err instanceof Error ? err.message : (STATUS_CODES[status] ?? 'bad request');
    return { status, code: codeForStatus(status), message, headers };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', headers };
}

export function registerReceiverErrors<S extends RawServerBase>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, Logger>,
  logger: Logger,
): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const mapped = mapError(err, request.url);
    if (mapped.status >= 500) {
      logger.error({ err, reqId: request.id, url: request.url }, 'cloud receiver request failed');
    } else {
      logger.debug({ reqId: request.id, code: mapped.code }, 'cloud receiver refused a request');
    }
    void reply
      .code(mapped.status)
      .headers(mapped.headers)
      .type('application/json; charset=utf-8')
      .send(errorBody(mapped.code, mapped.message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(
        errorBody(
          'ROUTE_NOT_FOUND',
          `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
        ),
      );
  });
}

/** Requests Node rejects before any route runs get the same JSON shape, then the socket closes. */
export function receiverClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'TIMEOUT', 'the request took too long']
        : [400, 'BAD_REQUEST', 'the request is malformed'];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
