// Prometheus metrics of the HTTPS API and dashboard: request latency by method, route pattern and
// status, and error answers by their JSON error code. Every label is bounded: the route is the
// pattern Fastify matched (never the raw URL), unknown methods and error codes count as OTHER.

import type { Duplex } from 'node:stream';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ERROR_STATUS } from '../domain/index.js';
import type { ApiApp } from './api-types.js';
import { CLIENT_ERROR_CODES, clientErrorAnswer } from './error-handler.js';

/** The route label of requests no route matched (404 ROUTE_NOT_FOUND, malformed URLs). */
export const UNMATCHED_ROUTE = 'unmatched';
/** The method or error code label of a value outside the known set. */
export const OTHER = 'OTHER';

const DURATION = 'cc_http_request_duration_seconds';
const ERRORS = 'cc_http_errors_total';
const METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);
const ERROR_CODES: ReadonlySet<string> = new Set([
  ...Object.keys(ERROR_STATUS),
  ...CLIENT_ERROR_CODES,
]);
/** Error bodies are a few hundred bytes; a longer payload is not one of ours and is not parsed. */
const MAX_ERROR_BODY_CHARS = 4096;

type DurationLabel = 'method' | 'route' | 'status';

/** The `code` of an `{ "error": { "code", "message" } }` body, or OTHER. */
export function errorCodeOf(payload: unknown): string {
  if (
    typeof payload !== 'string' ||
    payload.length > MAX_ERROR_BODY_CHARS ||
    !payload.startsWith('{"error"')
  ) {
    return OTHER;
  }
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return OTHER;
  }
  if (typeof body !== 'object' || body === null || !('error' in body)) return OTHER;
  const { error } = body;
  if (typeof error !== 'object' || error === null || !('code' in error)) return OTHER;
  return typeof error.code === 'string' && ERROR_CODES.has(error.code) ? error.code : OTHER;
}

// The API server may be built again on the same registry (stop, then start): reuse its metrics.
function durationHistogram(registry: Registry): Histogram<DurationLabel> {
  const known = registry.getSingleMetric(DURATION);
  if (known instanceof Histogram) return known;
  return new Histogram({
    name: DURATION,
    help: 'Time from an HTTPS API or dashboard request arriving to its answer being sent, by method, route pattern and status (accepted WebSocket upgrades excluded).',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}

function errorCounter(registry: Registry): Counter<'code'> {
  const known = registry.getSingleMetric(ERRORS);
  if (known instanceof Counter) return known;
  return new Counter({
    name: ERRORS,
    help: 'HTTPS API error answers (status 400 and above) by error code, including requests refused before routing; OTHER for a code outside the known set.',
    labelNames: ['code'],
    registers: [registry],
  });
}

/** Adds the hooks that measure every request of `app`; call it before any route is registered. */
export function registerHttpMetrics(app: ApiApp, registry: Registry): void {
  const duration = durationHistogram(registry);
  const errors = errorCounter(registry);

  // Every error answer Fastify sends passes here: the error handler's, the not-found handler's,
  // the framework's (malformed URLs) and any a plugin sends itself.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode >= 400) errors.inc({ code: errorCodeOf(payload) });
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    // An accepted upgrade is hijacked by the live stream and sends no HTTP answer; were this hook
    // ever to run for it, its duration would be the whole session. Refused upgrades (401, 403) are
    // ordinary answers and are measured; stream sessions are counted by cc_stream_clients.
    if (!(request.ws && reply.statusCode < 400)) {
      duration.observe(
        {
          method: METHODS.has(request.method) ? request.method : OTHER,
          route: request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE),
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    }
    done();
  });

  // Requests Node refuses before Fastify sees them (oversized headers, unparsable request lines,
  // timeouts) are answered by clientErrorHandler; this listener runs first, on the same verdict.
  app.server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(err, socket);
    if (answer !== null) errors.inc({ code: answer.code });
  });
}
