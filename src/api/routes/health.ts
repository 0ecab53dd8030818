// Liveness and readiness (public, no secrets): for load balancers, systemd and container probes.
// Readiness stays 200 while the disk is full — reads are still served — and carries the storage
// state (ok, low, full) so a probe or a monitoring system can see it.

import { Type } from 'typebox';
import { STORAGE_STATES, type StorageState } from '../../storage-health/index.js';
import type { ApiApp } from '../api-types.js';
import { ErrorSchema } from '../schemas.js';

const HealthSchema = Type.Object({ status: Type.String() });
const ReadySchema = Type.Object({
  status: Type.String(),
  storage: Type.Optional(
    Type.Enum(STORAGE_STATES, {
      description: 'Room to write: ok, low, or full (writes refused, reads served).',
    }),
  ),
});

export interface Readiness {
  /** Resolves when the server can serve requests (the store answers). */
  check(): Promise<void>;
  /** The storage state, reported beside readiness. */
  storage?: () => StorageState;
}

/** The body of a ready answer, on the HTTPS and the HTTP port alike. */
export async function readyAnswer(
  readiness: Readiness,
): Promise<{ status: 'ready'; storage?: StorageState }> {
  await readiness.check();
  return readiness.storage
    ? { status: 'ready', storage: readiness.storage() }
    : { status: 'ready' };
}

export function registerHealthRoutes(app: ApiApp, readiness: Readiness): void {
  app.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: { tags: ['health'], summary: 'Liveness', response: { 200: HealthSchema } },
    },
    () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the store answers (with the storage state)',
        response: { 200: ReadySchema, 503: ErrorSchema },
      },
    },
    async (_request, reply) => {
      try {
        return await readyAnswer(readiness);
      } catch {
        return reply
          .code(503)
          .send({ error: { code: 'NOT_READY', message: 'the store does not answer' } });
      }
    },
  );
}
