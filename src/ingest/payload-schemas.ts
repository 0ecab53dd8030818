// JSON Schemas (TypeBox) of what devices publish on `state`, `telemetry` and `events` (DESIGN §4.2),
// compiled once. docs/protocols/mqtt-payloads.md explains them; docs/schemas/*.json export them.
//
// Forward compatible: objects accept and ignore fields they do not know, so newer firmware can add
// fields without being refused by an older server. The exception is `metrics`, whose keys are data:
// there every key must be a metric name. Everything is bounded (string lengths, list sizes, ranges)
// so one payload cannot make the server hold much.

import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  ALERT_SEVERITIES,
  CONSUMABLE_STATUSES,
  DEVICE_KINDS,
  DEVICE_STATES,
  JOB_STATES,
  METRIC_NAME_PATTERN,
} from '../domain/index.js';

export const PAYLOAD_LIMITS = {
  maxIdLength: 64,
  maxNameLength: 256,
  maxMessageLength: 1024,
  maxMetrics: 256,
  maxConsumables: 64,
  maxAlerts: 256,
} as const;

/** RFC 3339 with a `T`, seconds, optional fraction and `Z` or a numeric offset — no suffixes. */
const RFC3339_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

function enumOf(values: readonly string[], description: string): TSchema {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );
}

const Time = (description: string): TSchema =>
  Type.String({ format: 'date-time', pattern: RFC3339_PATTERN, maxLength: 40, description });
const OptionalTime = (description: string): TSchema =>
  Type.Optional(Type.Union([Time(description), Type.Null()]));
const Id = (description: string): TSchema =>
  Type.String({ minLength: 1, maxLength: PAYLOAD_LIMITS.maxIdLength, description });
const Name = (description: string): TSchema =>
  Type.String({ maxLength: PAYLOAD_LIMITS.maxNameLength, description });
const Percent = (description: string): TSchema =>
  Type.Number({ minimum: 0, maximum: 100, description });
const OptionalCount = (description: string): TSchema =>
  Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1e9, description }), Type.Null()]));

export const JobReportSchema = Type.Object(
  {
    id: Id('Job id, unique across the site.'),
    name: Name('Job name shown to operators.'),
    owner: Name('User who submitted the job.'),
    state: enumOf(JOB_STATES, 'Job state.'),
    progress: Percent('Progress, 0–100.'),
    startedAt: OptionalTime('When the job started.'),
    estimatedEndAt: OptionalTime('When the device expects the job to end.'),
    endedAt: OptionalTime('When the job reached a final state.'),
    layer: OptionalCount('Current layer.'),
    layers: OptionalCount('Total layers.'),
    materialUsedG: Type.Optional(
      Type.Union([
        Type.Number({ minimum: 0, maximum: 1e9, description: 'Material used, grams.' }),
        Type.Null(),
      ]),
    ),
  },
  { description: 'A job (build) as the device reports it.' },
);

export const ConsumableReportSchema = Type.Object(
  {
    slot: Id('Slot the consumable sits in (unique per device).'),
    type: Id('agent, printhead, material, filter, lamp … (open set).'),
    level: Percent('Level, 0–100.'),
    status: enumOf(CONSUMABLE_STATUSES, 'Consumable status.'),
    expiresAt: OptionalTime('Expiry date, if any.'),
  },
  { description: 'A consumable in one slot.' },
);

export const AlertReportSchema = Type.Object(
  {
    id: Id('Alert id: a new id for each occurrence (a cleared alert is never reopened).'),
    code: Id('Machine-readable alert code.'),
    severity: enumOf(ALERT_SEVERITIES, 'Alert severity.'),
    message: Type.String({ maxLength: PAYLOAD_LIMITS.maxMessageLength, description: 'Text.' }),
    raisedAt: Time('When the alert was raised.'),
  },
  { description: 'An alert open on the device.' },
);

export const StateMessageSchema = Type.Object(
  {
    ts: Time('Device time of the snapshot; an older snapshot than the last applied is ignored.'),
    kind: enumOf(DEVICE_KINDS, 'Device kind.'),
    model: Name('Device model.'),
    serial: Name('Serial number.'),
    name: Name('Display name.'),
    firmwareVersion: Name('Installed firmware version.'),
    state: enumOf(DEVICE_STATES, 'Device state.'),
    job: Type.Optional(
      Type.Union([JobReportSchema, Type.Null()], {
        description: 'Current job; null when none; left out when not reported.',
      }),
    ),
    consumables: Type.Optional(
      Type.Array(ConsumableReportSchema, {
        maxItems: PAYLOAD_LIMITS.maxConsumables,
        description: 'Consumables, upserted by slot.',
      }),
    ),
    alerts: Type.Optional(
      Type.Array(AlertReportSchema, {
        maxItems: PAYLOAD_LIMITS.maxAlerts,
        description: 'The full set of open alerts: alerts not listed are cleared.',
      }),
    ),
  },
  { $id: 'cc-v1-state', title: 'StateMessage', description: 'cc/v1/devices/{id}/state payload.' },
);

export const TelemetryMessageSchema = Type.Object(
  {
    ts: Time('Device time of the samples.'),
    metrics: Type.Record(
      Type.String({ pattern: METRIC_NAME_PATTERN.source }),
      Type.Number({ description: 'A finite number.' }),
      {
        additionalProperties: false,
        maxProperties: PAYLOAD_LIMITS.maxMetrics,
        description: 'Metric name → value.',
      },
    ),
  },
  {
    $id: 'cc-v1-telemetry',
    title: 'TelemetryMessage',
    description: 'cc/v1/devices/{id}/telemetry payload.',
  },
);

const eventTs = Time('Device time of the event.');

export const EVENT_SCHEMAS = {
  'job.updated': Type.Object({
    type: Type.Literal('job.updated'),
    ts: eventTs,
    job: JobReportSchema,
  }),
  'alert.raised': Type.Object({
    type: Type.Literal('alert.raised'),
    ts: eventTs,
    alert: AlertReportSchema,
  }),
  'alert.cleared': Type.Object({
    type: Type.Literal('alert.cleared'),
    ts: eventTs,
    alertId: Id('Id of the alert cleared.'),
  }),
  'consumable.updated': Type.Object({
    type: Type.Literal('consumable.updated'),
    ts: eventTs,
    consumable: ConsumableReportSchema,
  }),
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

export const EventMessageSchema = Type.Union(Object.values(EVENT_SCHEMAS), {
  $id: 'cc-v1-events',
  title: 'EventMessage',
  description: 'cc/v1/devices/{id}/events payload, told apart by `type`.',
});

/** Compiled once at import: validation runs on every message. */
export const stateValidator = Compile(StateMessageSchema);
export const telemetryValidator = Compile(TelemetryMessageSchema);
export const eventValidators = {
  'job.updated': Compile(EVENT_SCHEMAS['job.updated']),
  'alert.raised': Compile(EVENT_SCHEMAS['alert.raised']),
  'alert.cleared': Compile(EVENT_SCHEMAS['alert.cleared']),
  'consumable.updated': Compile(EVENT_SCHEMAS['consumable.updated']),
} as const;
