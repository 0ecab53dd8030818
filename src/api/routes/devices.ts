// Devices from the live fleet: list with filters, sort and pagination; one device by id.

import { Type } from 'typebox';
import type { DeviceView } from '../../domain/index.js';
import { CcError } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { deviceVisible } from '../device-scope.js';
import { principalOf } from '../route-guard.js';
import {
  DeviceKindSchema,
  DeviceStateSchema,
  DeviceViewSchema,
  ErrorSchema,
  IdParamsSchema,
  PageQuerySchema,
  authErrors,
  pageOf,
} from '../schemas.js';

const SORT_KEYS = ['id', 'name', 'kind', 'state', 'siteId', 'lastSeenAt'] as const;
type SortKey = (typeof SORT_KEYS)[number];

const ListQuery = Type.Object(
  {
    siteId: Type.Optional(Type.String({ maxLength: 128 })),
    kind: Type.Optional(DeviceKindSchema),
    state: Type.Optional(DeviceStateSchema),
    q: Type.Optional(
      Type.String({ maxLength: 128, description: 'Substring of id, name, model or serial' }),
    ),
    sort: Type.Optional(Type.Enum(SORT_KEYS, { default: 'id' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { default: 'asc' })),
    ...PageQuerySchema,
  },
  { additionalProperties: false },
);

function matches(device: DeviceView, q: string): boolean {
  const needle = q.toLowerCase();
  return [device.id, device.name, device.model, device.serial].some((v) =>
    v.toLowerCase().includes(needle),
  );
}

function compareBy(key: SortKey): (a: DeviceView, b: DeviceView) => number {
  return (a, b) => {
    const va = a[key] ?? '';
    const vb = b[key] ?? '';
    return va < vb ? -1 : va > vb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

export function registerDeviceRoutes(app: ApiApp, deps: Pick<ApiDeps, 'ingest'>): void {
  const { fleet } = deps.ingest;

  app.get(
    '/api/v1/devices',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['devices'],
        summary: 'Devices of the fleet, live',
        querystring: ListQuery,
        response: { 200: pageOf(DeviceViewSchema), ...authErrors },
      },
    },
    (request) => {
      const { siteId, kind, state, q, sort = 'id', order = 'asc' } = request.query;
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const principal = principalOf(request);
      const selected = fleet
        .list()
        .filter(
          (d) =>
            deviceVisible(principal, d) &&
            (siteId === undefined || d.siteId === siteId) &&
            (kind === undefined || d.kind === kind) &&
            (state === undefined || d.state === state) &&
            (q === undefined || q === '' || matches(d, q)),
        )
        .sort(compareBy(sort));
      if (order === 'desc') selected.reverse();
      return {
        items: selected.slice(offset, offset + limit),
        total: selected.length,
        limit,
        offset,
      };
    },
  );

  app.get(
    '/api/v1/devices/:id',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['devices'],
        summary: 'One device, live',
        params: IdParamsSchema,
        response: { 200: DeviceViewSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    (request) => {
      const device = fleet.get(request.params.id);
      if (!device || !deviceVisible(principalOf(request), device)) {
        throw new CcError('DEVICE_NOT_FOUND', `no device with id ${request.params.id}`);
      }
      return device;
    },
  );
}
