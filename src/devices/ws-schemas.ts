// JSON Schemas (TypeBox) of what a device's Web Services answer (DESIGN §4.3, src/domain/web-services.ts),
// compiled once. The parts shared with MQTT (jobs, consumables, alerts) are the ingest schemas, so a
// job reads the same whichever channel brought it. Objects accept fields they do not know (newer
// firmware may add some); everything is bounded so one answer cannot make the server hold much.

import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  DEVICE_KINDS,
  DEVICE_STATES,
  FIRMWARE_STATES,
  type WsActionResult,
  type WsAlerts,
  type WsConsumables,
  type WsFirmwareStatus,
  type WsIdentity,
  type WsJobs,
  type WsStatus,
} from '../domain/index.js';
import {
  AlertReportSchema,
  ConsumableReportSchema,
  JobReportSchema,
  PAYLOAD_LIMITS,
} from '../ingest/payload-schemas.js';

/** Most jobs one `GET /ws/v1/jobs` answer may list. */
export const MAX_JOBS_PER_ANSWER = 500;

const RFC3339_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

const Ts = Type.String({ pattern: RFC3339_PATTERN, maxLength: 40 });
const Name = Type.String({ maxLength: PAYLOAD_LIMITS.maxNameLength });
const Id = Type.String({ minLength: 1, maxLength: PAYLOAD_LIMITS.maxIdLength });

function enumOf(values: readonly string[]): TSchema {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

export const WsIdentitySchema = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: PAYLOAD_LIMITS.maxIdLength,
    pattern: '^[A-Za-z0-9._-]+$',
  }),
  kind: enumOf(DEVICE_KINDS),
  model: Name,
  serial: Name,
  name: Name,
  firmwareVersion: Name,
  apiVersion: Type.Integer({ minimum: 1, maximum: 1000 }),
});

export const WsStatusSchema = Type.Object({
  ts: Ts,
  state: enumOf(DEVICE_STATES),
  name: Name,
  firmwareVersion: Name,
  job: Type.Union([JobReportSchema, Type.Null()]),
});

export const WsConsumablesSchema = Type.Object({
  ts: Ts,
  consumables: Type.Array(ConsumableReportSchema, { maxItems: PAYLOAD_LIMITS.maxConsumables }),
});

export const WsAlertsSchema = Type.Object({
  ts: Ts,
  alerts: Type.Array(AlertReportSchema, { maxItems: PAYLOAD_LIMITS.maxAlerts }),
});

export const WsJobsSchema = Type.Object({
  ts: Ts,
  jobs: Type.Array(JobReportSchema, { maxItems: MAX_JOBS_PER_ANSWER }),
});

export const WsActionResultSchema = Type.Object({
  accepted: Type.Boolean(),
  message: Type.String({ maxLength: PAYLOAD_LIMITS.maxMessageLength }),
  ts: Ts,
});

export const WsFirmwareStatusSchema = Type.Object({
  ts: Ts,
  firmwareVersion: Name,
  state: enumOf(FIRMWARE_STATES),
  message: Type.Union([Type.String({ maxLength: PAYLOAD_LIMITS.maxMessageLength }), Type.Null()]),
  progress: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()])),
  code: Type.Optional(
    Type.Union([Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' }), Type.Null()]),
  ),
});

/** The error body devices send with 4xx/5xx, read only for its message. */
export const WsErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.Optional(Id),
    message: Type.String({ maxLength: PAYLOAD_LIMITS.maxMessageLength }),
  }),
});

export interface Checker<T> {
  Check(value: unknown): value is T;
  Errors(value: unknown): Iterable<{ instancePath: string; message: string }>;
}

/** Compiled checker typed as the contract's interface (the tests hold schema and type together). */
function checker<T>(schema: TSchema): Checker<T> {
  return Compile(schema) as unknown as Checker<T>;
}

export const wsValidators = {
  identity: checker<WsIdentity>(WsIdentitySchema),
  status: checker<WsStatus>(WsStatusSchema),
  consumables: checker<WsConsumables>(WsConsumablesSchema),
  alerts: checker<WsAlerts>(WsAlertsSchema),
  jobs: checker<WsJobs>(WsJobsSchema),
  action: checker<WsActionResult>(WsActionResultSchema),
  firmware: checker<WsFirmwareStatus>(WsFirmwareStatusSchema),
  error: checker<{ error: { code?: string; message: string } }>(WsErrorSchema),
} as const;
