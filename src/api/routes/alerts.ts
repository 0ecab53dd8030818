// Alerts: history from the store (filtered, paginated) and acknowledgement by a person.

import { Type } from 'typebox';
import { CcError } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { optionalTime } from '../query-params.js';
import { principalOf } from '../route-guard.js';
import {
  AlertSchema,
  AlertSeveritySchema,
  ErrorSchema,
  IdParamsSchema,
  PageQuerySchema,
  authErrors,
  pageOf,
} from '../schemas.js';

const AlertsQuery = Type.Object(
  {
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    severity: Type.Optional(AlertSeveritySchema),
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('cleared')])),
    since: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339' })),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339' })),
    ...PageQuerySchema,
  },
  { additionalProperties: false },
);

export function registerAlertRoutes(app: ApiApp, deps: Pick<ApiDeps, 'store' | 'ingest'>): void {
  app.get(
    '/api/v1/alerts',
    {
      config: { permission: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first',
        querystring: AlertsQuery,
        response: { 200: pageOf(AlertSchema), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.alerts.list({
        limit: q.limit ?? 50,
        offset: q.offset ?? 0,
        deviceId: q.deviceId,
        severity: q.severity,
        status: q.status,
        since: optionalTime('since', q.since),
        until: optionalTime('until', q.until),
      });
    },
  );

  app.post(
    '/api/v1/alerts/:id/ack',
    {
      config: { permission: 'alerts:ack' },
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert (the first acknowledgement stands)',
        params: IdParamsSchema,
        response: { 200: AlertSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const alert = await deps.ingest.acknowledgeAlert(
        request.params.id,
        principalOf(request).username,
      );
      if (!alert) throw new CcError('NOT_FOUND', `no alert with id ${request.params.id}`);
      return alert;
    },
  );
}
