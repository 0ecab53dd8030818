// Cross-origin access for integrations' web pages, off unless the admin lists origins
// (`http.corsOrigins`). Only listed origins get Access-Control-Allow-Origin (never "*"), always
// with Vary: Origin; credentials are never allowed, so a cross-origin page must send an API token
// and the session cookie is never usable from another origin.

import fastifyCors from '@fastify/cors';
import type { ApiApp } from './api-types.js';

/** Methods and request headers a cross-origin page may use; preflights are cached 10 minutes. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-request-id'];
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'content-disposition'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** The route the plugin adds to answer preflights (OPTIONS for any path). */
export const PREFLIGHT_ROUTE_URL = '*';

export async function registerCors(app: ApiApp, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(fastifyCors, {
    // `false` leaves a request from any other origin without CORS headers: the browser then keeps
    // the answer from the page, and a preflight from it falls through to 404.
    origin: (origin, callback) => {
      callback(null, origin !== undefined && allowed.has(origin));
    },
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    // A non-preflight OPTIONS from a listed origin gets the same 204; the plugin's strict mode
    // would answer it with a text/plain 400 instead of the API's JSON errors.
    strictPreflight: false,
    hideOptionsRoute: true,
  });
}
