// GET /metrics — Prometheus text format. Needs `metrics:read` (admins); scrapers send an admin's
// API token as `Authorization: Bearer`.

import type { ApiApp, ApiDeps } from '../api-types.js';

export function registerPrometheusRoutes(app: ApiApp, deps: Pick<ApiDeps, 'metrics'>): void {
  app.get(
    '/metrics',
    {
      config: { permission: 'metrics:read' },
      schema: {
        tags: ['server'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
}
