// TypeBox schemas of everything the API returns and accepts in common (DESIGN §4.1): they validate
// requests, speed up serialization and become the OpenAPI document.

import { Type, type TSchema } from 'typebox';
import {
  ALERT_SEVERITIES,
  CONSUMABLE_STATUSES,
  DEVICE_KINDS,
  DEVICE_STATES,
  JOB_STATES,
} from '../domain/index.js';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const time = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) });

export const DeviceKindSchema = Type.Enum(DEVICE_KINDS);
export const DeviceStateSchema = Type.Enum(DEVICE_STATES);
export const JobStateSchema = Type.Enum(JOB_STATES);
export const AlertSeveritySchema = Type.Enum(ALERT_SEVERITIES);
export const RoleSchema = Type.Enum(['admin', 'operator', 'dashboard', 'user']);

export const JobSchema = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  name: Type.String(),
  owner: Type.String(),
  state: JobStateSchema,
  progress: Type.Number({ minimum: 0, maximum: 100 }),
  startedAt: nullable(time()),
  estimatedEndAt: nullable(time()),
  endedAt: nullable(time()),
  layer: nullable(Type.Integer()),
  layers: nullable(Type.Integer()),
  materialUsedG: nullable(Type.Number()),
  updatedAt: time(),
});

export const AlertSchema = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  code: Type.String(),
  severity: AlertSeveritySchema,
  message: Type.String(),
  raisedAt: time(),
  clearedAt: nullable(time()),
  acknowledgedBy: nullable(Type.String()),
  acknowledgedAt: nullable(time()),
});

export const ConsumableSchema = Type.Object({
  deviceId: Type.String(),
  slot: Type.String(),
  type: Type.String(),
  level: Type.Number(),
  status: Type.Enum(CONSUMABLE_STATUSES),
  expiresAt: nullable(time()),
  updatedAt: time(),
});

const deviceFields = {
  id: Type.String(),
  kind: DeviceKindSchema,
  model: Type.String(),
  serial: Type.String(),
  name: Type.String(),
  siteId: nullable(Type.String()),
  firmwareVersion: Type.String(),
  address: nullable(Type.String({ description: 'Web Services base URL' })),
  state: DeviceStateSchema,
  lastSeenAt: nullable(time()),
  stateAt: nullable(time()),
};

export const DeviceViewSchema = Type.Object({
  ...deviceFields,
  currentJob: nullable(JobSchema),
  consumables: Type.Array(ConsumableSchema),
  openAlerts: Type.Array(AlertSchema),
  metrics: Type.Record(Type.String(), Type.Object({ value: Type.Number(), ts: time() }), {
    description: 'Latest value of each metric',
  }),
});

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ description: 'Items matching the filters, over all pages' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });

export const PageQuerySchema = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
};

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable machine-readable code, e.g. DEVICE_NOT_FOUND' }),
    message: Type.String(),
  }),
});

export const UserSummarySchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
});

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const authErrors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
};

export const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
