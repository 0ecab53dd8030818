// The audit log: who did what, when, from where, and how it ended. Append-only; read by admins.

import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { optionalTime } from '../query-params.js';
import { PageQuerySchema, authErrors, pageOf } from '../schemas.js';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.Enum(['ok', 'refused', 'failed']),
  source: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export function registerAuditRoutes(app: ApiApp, deps: Pick<ApiDeps, 'store'>): void {
  app.get(
    '/api/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first',
        description:
          'Filters: actor, action (exact, or a prefix ending in `*` such as `user.*`), target, ' +
          'outcome, and since/until (RFC 3339). Append-only: nothing can change or delete an entry.',
        querystring: Type.Object(
          {
            actor: Type.Optional(Type.String({ maxLength: 256 })),
            action: Type.Optional(Type.String({ maxLength: 128 })),
            target: Type.Optional(Type.String({ maxLength: 256 })),
            outcome: Type.Optional(Type.Enum(['ok', 'refused', 'failed'])),
            since: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339' })),
            until: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339' })),
            ...PageQuerySchema,
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(AuditEntrySchema), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.audit.list({
        limit: q.limit ?? 50,
        offset: q.offset ?? 0,
        actor: q.actor,
        action: q.action,
        target: q.target,
        outcome: q.outcome,
        since: optionalTime('since', q.since),
        until: optionalTime('until', q.until),
      });
    },
  );
}
