// One place that turns every failure into `{ "error": { "code", "message" } }` with the right status:
// CcError codes, validation, parser and framework errors, unknown routes, and malformed requests
// rejected by Node before Fastify sees them. Never a stack trace; details of 5xx only in the log.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type {
  FastifyError,
  FastifyInstance,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import { ERROR_STATUS, isCcError, type ErrorCode } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { classifyStorageFailure } from '../storage-health/index.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

interface Mapped {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('statusCode' in err || 'validation' in err);
}

export function mapError(err: unknown): Mapped {
  // A write that failed for lack of room, whatever wrapped it, is a 507 the client can act on.
  if (classifyStorageFailure(err) === 'full' && !(isCcError(err) && err.code === 'STORAGE_FULL')) {
    return {
      status: 507,
      code: 'STORAGE_FULL',
      message:
        'the server ran out of room to write, so the change was not stored; fix: free space in its data directory — writes resume on their own',
    };
  }
  if (isCcError(err)) {
    const retry = err.details?.retryAfterSeconds;
    return {
      status: ERROR_STATUS[err.code],
      code: err.code,
      // A 500 is our own failure and its message may describe internals; 502–504 describe an
      // upstream (a device, the cloud) in words written for the client.
      message: err.status === 500 ? 'internal error' : err.message,
      ...(typeof retry === 'number' ? { headers: { 'retry-after': String(retry) } } : {}),
    };
  }
  if (isFastifyError(err)) {
    if (err.validation) {
      return { status: 400, code: 'VALIDATION_FAILED', message: err.message };
    }
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return { status: 400, code: 'BAD_REQUEST', message: 'the request body is not valid JSON' };
    }
    const code = CODE_BY_STATUS[status];
    if (status >= 400 && status < 500 && code) return { status, code, message: err.message };
    if (status >= 400 && status < 500) return { status, code: 'BAD_REQUEST', message: err.message };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

export function registerErrorHandling<S extends RawServerBase, P extends FastifyTypeProvider>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, Logger, P>,
  logger: Logger,
): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const mapped = mapError(err);
    // A full disk is logged once by the storage monitor, not for every refused request.
    if (mapped.status >= 500 && mapped.code !== 'STORAGE_FULL') {
      logger.error({ err, reqId: request.id, url: request.url }, 'request failed');
    } else {
      logger.debug(
        { reqId: request.id, code: mapped.code, status: mapped.status },
        'request refused',
      );
    }
    void reply
      .code(mapped.status)
      .headers(mapped.headers ?? {})
      .type('application/json; charset=utf-8')
      .send(errorBody(mapped.code, mapped.message));
  });
}

/** Unknown routes answer 404 ROUTE_NOT_FOUND in the same JSON shape. */
export function registerNotFound<S extends RawServerBase, P extends FastifyTypeProvider>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, Logger, P>,
): void {
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

export interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
}

const CLIENT_ERRORS: Record<string, ClientErrorAnswer> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    message: 'the request headers are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'TIMEOUT', message: 'the request took too long' },
};

const MALFORMED: ClientErrorAnswer = {
  status: 400,
  code: 'BAD_REQUEST',
  message: 'the request is malformed',
};

/** Codes answered to requests Node rejects before Fastify; they are not CcError codes. */
export const CLIENT_ERROR_CODES: readonly string[] = Object.values(CLIENT_ERRORS).map(
  (a) => a.code,
);

/** How a request Node rejected is answered; null when nobody is left to answer. */
export function clientErrorAnswer(
  err: NodeJS.ErrnoException,
  socket: Pick<Socket, 'writable'>,
): ClientErrorAnswer | null {
  if (!socket.writable || err.code === 'ECONNRESET') return null;
  return CLIENT_ERRORS[err.code ?? ''] ?? MALFORMED;
}

/**
 * Node rejects some requests before any route runs (oversized headers, unparsable request lines,
 * timeouts); answer those with the same JSON shape, then close the connection.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  const answer = clientErrorAnswer(err, socket);
  if (answer === null) {
    socket.destroy();
    return;
  }
  const { status, code, message } = answer;
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
