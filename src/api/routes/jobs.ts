// GET /api/v1/jobs — job history from the store, filtered and paginated. Roles without
// `jobs:read-all` see only the jobs they own.

import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { optionalTime } from '../query-params.js';
import { visibleDeviceIds } from '../device-scope.js';
import { principalOf } from '../route-guard.js';
import { JobSchema, JobStateSchema, PageQuerySchema, authErrors, pageOf } from '../schemas.js';

const JobsQuery = Type.Object(
  {
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    state: Type.Optional(JobStateSchema),
    owner: Type.Optional(Type.String({ maxLength: 128 })),
    since: Type.Optional(
      Type.String({ maxLength: 40, description: 'RFC 3339, updated at or after' }),
    ),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339, updated before' })),
    ...PageQuerySchema,
  },
  { additionalProperties: false },
);

export function registerJobRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'store' | 'auth' | 'ingest'>,
): void {
  app.get(
    '/api/v1/jobs',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['jobs'],
        summary: 'Jobs, newest first',
        querystring: JobsQuery,
        response: { 200: pageOf(JobSchema), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const principal = principalOf(request);
      const owner = deps.auth.can(principal, 'jobs:read-all') ? q.owner : principal.username;
      return deps.store.jobs.list({
        limit: q.limit ?? 50,
        offset: q.offset ?? 0,
        deviceId: q.deviceId,
        state: q.state,
        owner,
        deviceIds: visibleDeviceIds(principal, deps.ingest.fleet),
        since: optionalTime('since', q.since),
        until: optionalTime('until', q.until),
      });
    },
  );
}
