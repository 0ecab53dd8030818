// Remote actions: pause / resume / cancel a job on its device, and the record of every command
// (who, what, when, result). Alert acknowledgement is in alerts.ts.

import { Type } from 'typebox';
import {
  CcError,
  COMMAND_STATUSES,
  WS_JOB_ACTIONS,
  type DeviceCommand,
} from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { deviceIdVisible, visibleDeviceIds } from '../device-scope.js';
import { actorOf, principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, PageQuerySchema, authErrors, pageOf } from '../schemas.js';

export const CommandSchema = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  action: Type.Enum(['pause', 'resume', 'cancel', 'acknowledge']),
  targetId: Type.String(),
  channel: Type.Enum(['web-services', 'mqtt']),
  status: Type.Enum(COMMAND_STATUSES),
  message: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  completedAt: Type.Union([Type.String(), Type.Null()]),
});

async function deviceOfJob(
  deps: Pick<ApiDeps, 'store' | 'ingest'>,
  jobId: string,
): Promise<string> {
  for (const device of deps.ingest.fleet.list()) {
    if (device.currentJob?.id === jobId) return device.id;
  }
  const job = await deps.store.jobs.get(jobId);
  if (job === undefined) throw new CcError('NOT_FOUND', `no job with id ${jobId}`);
  return job.deviceId;
}

export function registerCommandRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'devices' | 'store' | 'ingest'>,
): void {
  const { commands } = deps.devices;
  const scope = { fleet: deps.ingest.fleet, store: deps.store };

  app.post(
    '/api/v1/jobs/:id/:action',
    {
      config: { permission: 'jobs:act' },
      schema: {
        tags: ['jobs'],
        summary: 'Pause, resume or cancel a job on its device',
        description:
          'Sent over the device’s Web Services (or MQTT `commands` when it has none); answers ' +
          'when the device does, or when the command times out. `status` says how it ended.',
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 128 }),
          action: Type.Enum(WS_JOB_ACTIONS),
        }),
        response: { 200: CommandSchema, ...authErrors, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request): Promise<DeviceCommand> => {
      const deviceId = await deviceOfJob(deps, request.params.id);
      if (!(await deviceIdVisible(principalOf(request), scope, deviceId))) {
        // The same answer as for a job that does not exist.
        throw new CcError('NOT_FOUND', `no job with id ${request.params.id}`);
      }
      return commands.send({
        deviceId,
        action: request.params.action,
        targetId: request.params.id,
        actor: actorOf(request),
      });
    },
  );

  app.get(
    '/api/v1/commands',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['commands'],
        summary: 'Commands sent to devices, newest first',
        querystring: Type.Object(
          {
            deviceId: Type.Optional(Type.String({ maxLength: 128 })),
            status: Type.Optional(Type.Enum(COMMAND_STATUSES)),
            ...PageQuerySchema,
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(CommandSchema), ...authErrors },
      },
    },
    async (request) =>
      commands.list({
        limit: request.query.limit ?? 50,
        offset: request.query.offset ?? 0,
        deviceId: request.query.deviceId,
        deviceIds: visibleDeviceIds(principalOf(request), deps.ingest.fleet),
        status: request.query.status,
      }),
  );

  app.get(
    '/api/v1/commands/:id',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['commands'],
        summary: 'One command and its result',
        params: IdParamsSchema,
        response: { 200: CommandSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const command = await commands.get(request.params.id);
      const visible =
        command !== undefined &&
        (await deviceIdVisible(principalOf(request), scope, command.deviceId));
      if (!visible) throw new CcError('NOT_FOUND', `no command ${request.params.id}`);
      return command;
    },
  );
}
