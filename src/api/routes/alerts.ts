// Alerts: history from the store (filtered, paginated) and acknowledgement by a person.

import { Type } from 'typebox';
import { CcError, isServerAlertId } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { optionalTime } from '../query-params.js';
import { deviceIdVisible, visibleDeviceIds } from '../device-scope.js';
import { actorOf, principalOf } from '../route-guard.js';
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

export function registerAlertRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'store' | 'ingest' | 'devices' | 'logger'>,
): void {
  const scope = { fleet: deps.ingest.fleet, store: deps.store };
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
        deviceIds: visibleDeviceIds(principalOf(request), deps.ingest.fleet),
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
        description:
          'Recorded at once; an open alert of the device itself is also acknowledged on the ' +
          'device (a command whose result shows on the live stream and in /api/v1/commands).',
        params: IdParamsSchema,
        response: { 200: AlertSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.sites !== null) {
        const known = await deps.store.alerts.get(request.params.id);
        if (!known || !(await deviceIdVisible(principal, scope, known.deviceId))) {
          throw new CcError('NOT_FOUND', `no alert with id ${request.params.id}`);
        }
      }
      const alert = await deps.ingest.acknowledgeAlert(
        request.params.id,
        principalOf(request).username,
      );
      if (!alert) throw new CcError('NOT_FOUND', `no alert with id ${request.params.id}`);
      if (alert.clearedAt === null && !isServerAlertId(alert.id)) {
        // Best effort, not awaited: the device's answer is a command record of its own.
        deps.devices.commands
          .send({
            deviceId: alert.deviceId,
            action: 'acknowledge',
            targetId: alert.id,
            actor: actorOf(request),
          })
          .catch((err: unknown) => {
            deps.logger.warn(
              { err, alertId: alert.id },
              'cannot acknowledge the alert on its device',
            );
          });
      }
      return alert;
    },
  );
}
