// While the data directory is full, state-changing API requests are answered 507 STORAGE_FULL
// before they read a body or touch the store; reads keep working. Signing in and out stays open:
// operators must be able to sign in to see the banner and act, those writes are a few hundred
// bytes that fit in the reserve the minimum free space keeps, and should the disk be truly full
// they fail with the same 507 rather than a 500.

import type { FastifyRequest } from 'fastify';
import { isCcError } from '../domain/index.js';
import type { StorageGate } from '../storage-health/index.js';
import type { ApiApp } from './api-types.js';
import { errorBody } from './error-handler.js';

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Writes that stay open while storage is full (method and route pattern). */
export const WRITES_OPEN_WHEN_FULL: ReadonlySet<string> = new Set([
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/logout-all',
]);

/** Callers that have not signed in learn that the disk is full, not where it is. */
const ANONYMOUS_MESSAGE =
  'the server has no room to write, so changes are refused; fix: an administrator must free space in its data directory — writes resume on their own';

function isGuarded(request: FastifyRequest): boolean {
  if (!WRITE_METHODS.has(request.method)) return false;
  // The route pattern (undefined for unknown routes, which answer 404 themselves).
  const route = request.routeOptions.url;
  if (route === undefined || !route.startsWith('/api/v1/')) return false;
  return !WRITES_OPEN_WHEN_FULL.has(`${request.method} ${route}`);
}

export function registerStorageGuard(app: ApiApp, storage: StorageGate): void {
  // onRequest, after the route guard: the caller is known and no body has been read yet (a
  // firmware upload is refused before its bytes arrive).
  app.addHook('onRequest', async (request, reply) => {
    if (!isGuarded(request)) return;
    try {
      storage.assertWritable('api');
    } catch (err) {
      if (!isCcError(err)) throw err;
      request.log.debug({ reqId: request.id }, 'write refused: storage full');
      return reply
        .code(507)
        .send(errorBody(err.code, request.principal === null ? ANONYMOUS_MESSAGE : err.message));
    }
    await Promise.resolve();
  });
  // A write that failed for lack of room before the monitor noticed makes it notice now.
  app.addHook('onError', async (_request, _reply, error) => {
    storage.reportFailure(error, 'api');
    await Promise.resolve();
  });
}
