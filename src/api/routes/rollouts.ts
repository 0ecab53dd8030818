// Staged firmware rollouts: create one (a catalog package, a device selection, canary size,
// concurrency, failure threshold), list and show them with per-device progress, pause / resume /
// abort, and follow one live as Server-Sent Events. Reading needs `fleet:read`; acting needs
// `firmware:manage`. A site-scoped principal sees only its sites' devices of a rollout (a rollout
// with none of them does not exist for it), creates rollouts over its sites only, and acts only on
// rollouts wholly within its sites.

import type { ServerResponse } from 'node:http';
import { Type, type TSchema } from 'typebox';
import type { Principal } from '../../auth/index.js';
import { CcError, DEVICE_ID_PATTERN } from '../../domain/index.js';
import {
  countStatuses,
  isFinalStatus,
  type RolloutEvent,
  type RolloutService,
  type RolloutSummary,
} from '../../firmware/rollouts/index.js';
import {
  ROLLOUT_DEVICE_STATUSES,
  ROLLOUT_STAGES,
  ROLLOUT_STATES,
  type RolloutDevice,
  type RolloutSelection,
} from '../../store/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { deviceIdVisible, type DeviceScopeDeps } from '../device-scope.js';
import { actorOf, principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, PageQuerySchema, authErrors, pageOf } from '../schemas.js';

export interface RolloutRouteDeps {
  rollouts: RolloutService;
  ingest: Pick<ApiDeps['ingest'], 'fleet'>;
  store: ApiDeps['store'];
}

const time = Type.String({ format: 'date-time' });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const SelectionSchema = Type.Object(
  {
    models: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64, uniqueItems: true }),
    ),
    sites: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 1000,
        uniqueItems: true,
      }),
    ),
    devices: Type.Optional(
      Type.Array(Type.String({ pattern: DEVICE_ID_PATTERN.source }), {
        maxItems: 10_000,
        uniqueItems: true,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Devices matching every list given (absent lists do not limit); only devices the package is ' +
      'for, below its version, and in no other unfinished rollout are taken',
  },
);

const CountsSchema = Type.Object(
  Object.fromEntries(ROLLOUT_DEVICE_STATUSES.map((s) => [s, Type.Integer()])),
  { description: 'Devices per status' },
);

const RolloutDeviceSchema = Type.Object({
  rolloutId: Type.String(),
  deviceId: Type.String(),
  stage: Type.Enum([...ROLLOUT_STAGES]),
  order: Type.Integer(),
  status: Type.Enum([...ROLLOUT_DEVICE_STATUSES]),
  reason: nullable(Type.String({ description: 'Why it failed or was skipped' })),
  fromVersion: nullable(Type.String()),
  toVersion: Type.String(),
  progress: nullable(Type.Number({ minimum: 0, maximum: 100 })),
  updatedAt: time,
});

const summaryFields = {
  id: Type.String(),
  packageId: Type.String(),
  packageName: nullable(Type.String()),
  toVersion: nullable(Type.String()),
  state: Type.Enum([...ROLLOUT_STATES]),
  pausedReason: nullable(Type.String()),
  canarySize: Type.Integer(),
  concurrency: Type.Integer(),
  failureThreshold: Type.Integer(),
  selection: SelectionSchema,
  createdAt: time,
  createdBy: Type.String(),
  updatedAt: time,
  finishedAt: nullable(time),
  total: Type.Integer(),
  counts: CountsSchema,
};

const RolloutSummarySchema = Type.Object(summaryFields);
const RolloutDetailSchema = Type.Object({
  ...summaryFields,
  devices: Type.Array(RolloutDeviceSchema, { description: 'Canary group first, in order' }),
});
const CreatedRolloutSchema = Type.Object({
  ...summaryFields,
  devices: Type.Array(RolloutDeviceSchema),
  excluded: Type.Array(Type.Object({ deviceId: Type.String(), reason: Type.String() }), {
    description: 'Selected devices the rollout did not take, and why',
  }),
  limitedToSites: nullable(
    Type.Array(Type.String(), {
      description: 'The selection was narrowed to these sites: the caller’s own',
    }),
  ),
});

const CreateBody = Type.Object(
  {
    packageId: Type.String({ minLength: 1, maxLength: 128 }),
    selection: SelectionSchema,
    canarySize: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100_000,
        default: 1,
        description: 'Devices updated first; the rest waits until they are all through',
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Pushes at a time' }),
    ),
    failureThreshold: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 1,
        description: 'Failed devices that pause the rollout',
      }),
    ),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  { state: Type.Optional(Type.Enum([...ROLLOUT_STATES])), ...PageQuerySchema },
  { additionalProperties: false },
);

const rolloutErrors = { ...authErrors, 404: ErrorSchema, 409: ErrorSchema };
/** A slow event-stream client is dropped past this much unsent data; it reconnects for a snapshot. */
const MAX_STREAM_BUFFER = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/** Rollouts read per store page when a scoped list is filtered before paging. */
const SCAN_PAGE = 500;

type Visible = (device: RolloutDevice) => boolean;

export function registerRolloutRoutes(app: ApiApp, deps: RolloutRouteDeps): void {
  const { rollouts } = deps;
  const scopeDeps: DeviceScopeDeps = { fleet: deps.ingest.fleet, store: deps.store };
  const streams = new Set<ServerResponse>();

  /** Which of these rollout devices the principal may see (all of them when unscoped). */
  async function visibility(principal: Principal, devices: readonly RolloutDevice[]) {
    if (principal.sites === null) return () => true;
    const seen = new Set<string>();
    for (const d of devices) {
      if (await deviceIdVisible(principal, scopeDeps, d.deviceId)) seen.add(d.deviceId);
    }
    return (d: RolloutDevice) => seen.has(d.deviceId);
  }

  function narrowSelection(principal: Principal, selection: RolloutSelection, ids: Set<string>) {
    const { sites } = principal;
    if (sites === null) return selection;
    return {
      ...(selection.models ? { models: selection.models } : {}),
      ...(selection.sites ? { sites: selection.sites.filter((s) => sites.includes(s)) } : {}),
      ...(selection.devices ? { devices: selection.devices.filter((d) => ids.has(d)) } : {}),
    };
  }

  /** The rollout as the principal may see it; undefined when none of its devices is visible. */
  function present<T extends RolloutSummary>(
    principal: Principal,
    rollout: T,
    devices: readonly RolloutDevice[],
    visible: Visible,
  ): (T & { devices: RolloutDevice[] }) | undefined {
    const shown = devices.filter(visible);
    if (principal.sites === null) return { ...rollout, devices: [...devices] };
    if (shown.length === 0) return undefined;
    const ids = new Set(shown.map((d) => d.deviceId));
    return {
      ...rollout,
      selection: narrowSelection(principal, rollout.selection, ids),
      total: shown.length,
      counts: countStatuses(shown),
      devices: shown,
    };
  }

  async function visibleDetail(principal: Principal, id: string) {
    const detail = await rollouts.get(id);
    if (detail === undefined) throw new CcError('NOT_FOUND', `no rollout ${id}`);
    const visible = await visibility(principal, detail.devices);
    const shown = present(principal, detail, detail.devices, visible);
    if (shown === undefined) throw new CcError('NOT_FOUND', `no rollout ${id}`);
    return { detail: shown, visible, hidden: detail.devices.length - shown.devices.length };
  }

  /** Acting on a rollout needs every one of its devices in the principal's sites. */
  async function assertMayAct(principal: Principal, id: string): Promise<void> {
    const { hidden } = await visibleDetail(principal, id);
    if (hidden > 0) {
      throw new CcError(
        'FORBIDDEN',
        `rollout ${id} includes devices outside your sites: only a user of every site can change it`,
      );
    }
  }

  app.post(
    '/api/v1/firmware/rollouts',
    {
      config: { permission: 'firmware:manage' },
      schema: {
        tags: ['firmware'],
        summary: 'Start a staged rollout of a catalog package',
        description:
          'Takes the selected devices the package is for, that run an older version (or any, ' +
          'for a package that allows a downgrade) and are in no other unfinished rollout; ' +
          'offline ones are shown as skipped. The first `canarySize` devices are updated first; ' +
          'the rest starts once they are all through, at most `concurrency` at a time. The ' +
          'rollout pauses when `failureThreshold` devices have failed, or when the canary stage ' +
          'ends with a failure. A site-scoped caller’s selection is narrowed to its sites ' +
          '(`limitedToSites`).',
        body: CreateBody,
        response: { 201: CreatedRolloutSchema, ...rolloutErrors, 422: ErrorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await rollouts.create(
        {
          packageId: body.packageId,
          selection: body.selection,
          ...(body.canarySize !== undefined ? { canarySize: body.canarySize } : {}),
          ...(body.concurrency !== undefined ? { concurrency: body.concurrency } : {}),
          ...(body.failureThreshold !== undefined
            ? { failureThreshold: body.failureThreshold }
            : {}),
          scope: principalOf(request).sites,
        },
        actorOf(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/firmware/rollouts',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['firmware'],
        summary: 'Rollouts, newest first, with devices per status',
        querystring: ListQuery,
        response: { 200: pageOf(RolloutSummarySchema), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const offset = q.offset ?? 0;
      const principal = principalOf(request);
      if (principal.sites === null) return rollouts.list({ limit, offset, state: q.state });
      // Scoped: keep the rollouts with a visible device, then page (rollouts are few).
      const items: RolloutSummary[] = [];
      for (let at = 0; ; at += SCAN_PAGE) {
        const page = await rollouts.list({ limit: SCAN_PAGE, offset: at, state: q.state });
        for (const summary of page.items) {
          const detail = await rollouts.get(summary.id);
          if (detail === undefined) continue;
          const shown = present(
            principal,
            summary,
            detail.devices,
            await visibility(principal, detail.devices),
          );
          if (shown) {
            const { devices: _devices, ...rest } = shown;
            items.push(rest);
          }
        }
        if (at + SCAN_PAGE >= page.total) break;
      }
      return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
    },
  );

  app.get(
    '/api/v1/firmware/rollouts/:id',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['firmware'],
        summary: 'A rollout with every device’s status, progress and reason',
        params: IdParamsSchema,
        response: { 200: RolloutDetailSchema, ...rolloutErrors },
      },
    },
    async (request) => (await visibleDetail(principalOf(request), request.params.id)).detail,
  );

  const actions = [
    ['pause', 'Pause: pushes under way finish, no new one starts'],
    ['resume', 'Resume a paused rollout: queued devices go on; failed ones stay failed'],
    ['abort', 'Abort: cancel pushes under way, skip the queued devices'],
  ] as const;
  for (const [action, summary] of actions) {
    app.post(
      `/api/v1/firmware/rollouts/:id/${action}`,
      {
        config: { permission: 'firmware:manage' },
        schema: {
          tags: ['firmware'],
          summary,
          params: IdParamsSchema,
          response: { 200: RolloutDetailSchema, ...rolloutErrors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { id } = request.params;
        await assertMayAct(principal, id);
        const actor = actorOf(request);
        const detail =
          action === 'pause'
            ? await rollouts.pause(id, actor)
            : action === 'resume'
              ? await rollouts.resume(id, actor)
              : await rollouts.abort(id, actor);
        return detail;
      },
    );
  }

  app.get(
    '/api/v1/firmware/rollouts/:id/events',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['firmware'],
        summary: 'Follow a rollout live (text/event-stream)',
        description:
          'Server-Sent Events: `snapshot` (the rollout with its devices, as GET gives it), then ' +
          '`device` (one device’s status, progress or reason changed) and `rollout` (its state or ' +
          'tallies changed). The stream ends after the event that finishes the rollout. Reconnect ' +
          'for a new snapshot.',
        params: IdParamsSchema,
        response: { ...rolloutErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { detail, visible } = await visibleDetail(principal, request.params.id);
      const id = detail.id;
      const devices = new Map(detail.devices.map((d) => [d.deviceId, d]));
      // Security headers set by hooks so far go out with the stream's own.
      const headers = reply.getHeaders();
      reply.hijack();
      const res = reply.raw;
      for (const [name, value] of Object.entries(headers)) {
        if (value !== undefined) res.setHeader(name, value);
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      streams.add(res);
      let off: () => void = () => undefined;
      let finished = false;
      const end = () => {
        off();
        clearInterval(heartbeat);
        streams.delete(res);
        if (!res.writableEnded) res.end();
      };
      const send = (event: string, data: unknown) => {
        if (res.writableEnded) return;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (res.writableLength > MAX_STREAM_BUFFER) end();
      };
      const allFinal = () => [...devices.values()].every((d) => isFinalStatus(d.status));
      const heartbeat = setInterval(() => {
        if (!res.writableEnded) res.write(': keep-alive\n\n');
      }, HEARTBEAT_MS);
      // The response's close: the client went away (the request's own ends with its body).
      res.on('close', end);
      send('snapshot', detail);
      if (detail.state === 'completed' || detail.state === 'aborted') {
        end();
        return;
      }
      off = rollouts.onChange((event: RolloutEvent) => {
        if (event.type === 'device') {
          if (event.rolloutId !== id || !visible(event.device)) return;
          devices.set(event.device.deviceId, event.device);
          send('device', event.device);
          if (finished && allFinal()) end();
          return;
        }
        if (event.rollout.id !== id) return;
        const shown = present(principal, event.rollout, [...devices.values()], visible);
        if (shown === undefined) return;
        const { devices: _devices, ...summary } = shown;
        send('rollout', principal.sites === null ? event.rollout : summary);
        finished = event.rollout.state === 'completed' || event.rollout.state === 'aborted';
        // An abort reports its cancelled pushes after its state: the stream waits for them.
        if (finished && allFinal()) end();
      });
    },
  );

  // Open event streams would hold the server's close until they end on their own.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
    await Promise.resolve();
  });
}
