// Liveness and readiness (public, no secrets): for load balancers, systemd and container probes.

import { Type } from 'typebox';
import type { ApiApp } from '../api-types.js';
import { ErrorSchema } from '../schemas.js';

const HealthSchema = Type.Object({ status: Type.String() });

export interface Readiness {
  /** Resolves when the server can serve requests (the store answers). */
  check(): Promise<void>;
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
        summary: 'Readiness: the store answers',
        response: { 200: HealthSchema, 503: ErrorSchema },
      },
    },
    async (_request, reply) => {
      try {
        await readiness.check();
        return { status: 'ready' };
      } catch {
        return reply
          .code(503)
          .send({ error: { code: 'NOT_READY', message: 'the store does not answer' } });
      }
    },
  );
}
