// Turns one raw MQTT payload into a validated device message, or a reason to drop it. Never throws:
// every failure is a code (PAYLOAD_TOO_LARGE, MALFORMED_JSON, SCHEMA_INVALID) and a short message.

import type {
  DeviceStatus,
  EventMessage,
  StateMessage,
  TelemetryMessage,
} from '../domain/index.js';
import { toIso, parseIso } from '../domain/index.js';
import type { DeviceChannel } from './ingest-types.js';
import {
  EVENT_TYPES,
  eventValidators,
  stateValidator,
  telemetryValidator,
  type EventType,
} from './payload-schemas.js';

/** Largest payload ingest parses; the broker's packet limit is usually lower. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Keys that turn into prototype writes in careless merging code downstream: refused anywhere. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type RejectCode = 'PAYLOAD_TOO_LARGE' | 'MALFORMED_JSON' | 'SCHEMA_INVALID';

export type ParsedMessage =
  | { channel: 'state'; msg: StateMessage }
  | { channel: 'telemetry'; msg: TelemetryMessage }
  | { channel: 'events'; msg: EventMessage }
  | { channel: 'status'; status: DeviceStatus };

export type ParseResult =
  { ok: true; parsed: ParsedMessage } | { ok: false; code: RejectCode; message: string };

/** Messages may quote device-chosen keys: bounded so one payload cannot flood the logs. */
const MAX_MESSAGE_LENGTH = 300;

function reject(code: RejectCode, message: string): ParseResult {
  const short =
    message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
  return { ok: false, code, message: short };
}

interface Checker {
  Check(value: unknown): boolean;
  Errors(value: unknown): { instancePath: string; message: string }[];
}

function firstError(validator: Checker, value: unknown): string {
  const [first] = validator.Errors(value);
  if (first === undefined) return 'payload does not match the schema';
  return `${first.instancePath === '' ? '/' : first.instancePath} ${first.message}`;
}

/** Path of the first forbidden key, walking iteratively (a deep payload cannot blow the stack). */
function forbiddenKeyPath(root: unknown): string | null {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      const childPath = `${path}/${key}`;
      if (FORBIDDEN_KEYS.has(key)) return childPath;
      stack.push({ value: (value as Record<string, unknown>)[key], path: childPath });
    }
  }
  return null;
}

/** Every device time becomes canonical UTC with milliseconds, as the rest of the product expects. */
function utc(value: string): string {
  const ms = parseIso(value);
  return ms === null ? value : toIso(ms);
}

function utcOrNull(value: string | null | undefined): string | null | undefined {
  return typeof value === 'string' ? utc(value) : value;
}

function normalizeState(msg: StateMessage): StateMessage {
  return {
    ts: utc(msg.ts),
    kind: msg.kind,
    model: msg.model,
    serial: msg.serial,
    name: msg.name,
    firmwareVersion: msg.firmwareVersion,
    state: msg.state,
    ...(msg.job === undefined ? {} : { job: msg.job === null ? null : normalizeJob(msg.job) }),
    ...(msg.consumables === undefined ? {} : { consumables: msg.consumables.map(normalizeSlot) }),
    ...(msg.alerts === undefined ? {} : { alerts: msg.alerts.map(normalizeAlert) }),
  };
}

// Copies only known fields: fields newer firmware adds are dropped here, not carried along.
function normalizeJob(j: NonNullable<StateMessage['job']>): NonNullable<StateMessage['job']> {
  return {
    id: j.id,
    name: j.name,
    owner: j.owner,
    state: j.state,
    progress: j.progress,
    startedAt: utcOrNull(j.startedAt),
    estimatedEndAt: utcOrNull(j.estimatedEndAt),
    endedAt: utcOrNull(j.endedAt),
    layer: j.layer,
    layers: j.layers,
    materialUsedG: j.materialUsedG,
  };
}

type Slot = NonNullable<StateMessage['consumables']>[number];
function normalizeSlot(c: Slot): Slot {
  return {
    slot: c.slot,
    type: c.type,
    level: c.level,
    status: c.status,
    expiresAt: utcOrNull(c.expiresAt),
  };
}

type AlertIn = NonNullable<StateMessage['alerts']>[number];
function normalizeAlert(a: AlertIn): AlertIn {
  return {
    id: a.id,
    code: a.code,
    severity: a.severity,
    message: a.message,
    raisedAt: utc(a.raisedAt),
  };
}

function normalizeEvent(e: EventMessage): EventMessage {
  const ts = utc(e.ts);
  switch (e.type) {
    case 'job.updated':
      return { type: e.type, ts, job: normalizeJob(e.job) };
    case 'alert.raised':
      return { type: e.type, ts, alert: normalizeAlert(e.alert) };
    case 'alert.cleared':
      return { type: e.type, ts, alertId: e.alertId };
    case 'consumable.updated':
      return { type: e.type, ts, consumable: normalizeSlot(e.consumable) };
    default:
      return e satisfies never;
  }
}

function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as string[]).includes(value);
}

function parseJson(channel: DeviceChannel, payload: Buffer): ParseResult {
  let value: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return reject('MALFORMED_JSON', `payload is not UTF-8 JSON: ${reason}`);
  }
  // Cheap text test first: only payloads that could hold such a key are walked.
  if (/__proto__|constructor|prototype|\\u/.test(text)) {
    const path = forbiddenKeyPath(value);
    if (path !== null) return reject('SCHEMA_INVALID', `${path} is a forbidden key`);
  }
  switch (channel) {
    case 'state':
      if (!stateValidator.Check(value)) {
        return reject('SCHEMA_INVALID', firstError(stateValidator, value));
      }
      return { ok: true, parsed: { channel, msg: normalizeState(value as StateMessage) } };
    case 'telemetry': {
      if (!telemetryValidator.Check(value)) {
        return reject('SCHEMA_INVALID', firstError(telemetryValidator, value));
      }
      const msg = value as TelemetryMessage;
      return { ok: true, parsed: { channel, msg: { ts: utc(msg.ts), metrics: msg.metrics } } };
    }
    case 'events': {
      const type: unknown =
        typeof value === 'object' && value !== null
          ? (value as { type?: unknown }).type
          : undefined;
      if (!isEventType(type)) {
        return reject('SCHEMA_INVALID', `/type must be one of ${EVENT_TYPES.join(', ')}`);
      }
      const validator = eventValidators[type];
      if (!validator.Check(value)) return reject('SCHEMA_INVALID', firstError(validator, value));
      return { ok: true, parsed: { channel, msg: normalizeEvent(value as EventMessage) } };
    }
    case 'status':
      return reject('SCHEMA_INVALID', 'status is handled as text');
  }
}

/** Validates one payload of a channel; the status channel carries plain text `online`/`offline`. */
export function parsePayload(channel: DeviceChannel, payload: Buffer): ParseResult {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return reject(
      'PAYLOAD_TOO_LARGE',
      `payload of ${String(payload.length)} bytes exceeds ${String(MAX_PAYLOAD_BYTES)}`,
    );
  }
  if (channel === 'status') {
    const text = payload.toString('latin1').trim();
    if (text === 'online' || text === 'offline') {
      return { ok: true, parsed: { channel, status: text } };
    }
    return reject('SCHEMA_INVALID', 'status must be the text online or offline');
  }
  return parseJson(channel, payload);
}
