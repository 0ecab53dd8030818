// Row ⇄ domain object conversions for the fleet tables (snake_case, epoch ms ⇄ camelCase, RFC 3339).

import type { Selectable } from 'kysely';
import type {
  Alert,
  AlertSeverity,
  Consumable,
  ConsumableStatus,
  Device,
  DeviceKind,
  DeviceState,
  Job,
  JobState,
} from '../../domain/index.js';
import type { AlertsTable, ConsumablesTable, DevicesTable, JobsTable } from './database.js';
import { fromMs, fromMsOrNull, toMs, toMsOrNull } from './time-columns.js';

export type DeviceRow = Selectable<DevicesTable>;
export type JobRow = Selectable<JobsTable>;
export type AlertRow = Selectable<AlertsTable>;
export type ConsumableRow = Selectable<ConsumablesTable>;

/** What the case-insensitive device search matches against (see DeviceFilter.q). */
export function deviceSearchText(d: Device): string {
  return [d.id, d.name, d.model, d.serial].map((s) => s.toLowerCase()).join('\n');
}

export function deviceToRow(d: Device) {
  return {
    id: d.id,
    kind: d.kind,
    model: d.model,
    serial: d.serial,
    name: d.name,
    site_id: d.siteId,
    firmware_version: d.firmwareVersion,
    address: d.address,
    state: d.state,
    last_seen_at: toMsOrNull(d.lastSeenAt, 'device.lastSeenAt'),
    state_at: toMsOrNull(d.stateAt, 'device.stateAt'),
    search_text: deviceSearchText(d),
  };
}

// Enum-typed columns are written only from typed domain objects, so reading them back is a narrowing
// the schema guarantees rather than an unchecked guess.
export function rowToDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    kind: r.kind as DeviceKind,
    model: r.model,
    serial: r.serial,
    name: r.name,
    siteId: r.site_id,
    firmwareVersion: r.firmware_version,
    address: r.address,
    state: r.state as DeviceState,
    lastSeenAt: fromMsOrNull(r.last_seen_at),
    stateAt: fromMsOrNull(r.state_at),
  };
}

export function jobToRow(j: Job) {
  return {
    id: j.id,
    device_id: j.deviceId,
    name: j.name,
    owner: j.owner,
    state: j.state,
    progress: j.progress,
    started_at: toMsOrNull(j.startedAt, 'job.startedAt'),
    estimated_end_at: toMsOrNull(j.estimatedEndAt, 'job.estimatedEndAt'),
    ended_at: toMsOrNull(j.endedAt, 'job.endedAt'),
    layer: j.layer,
    layers: j.layers,
    material_used_g: j.materialUsedG,
    updated_at: toMs(j.updatedAt, 'job.updatedAt'),
  };
}

export function rowToJob(r: JobRow): Job {
  return {
    id: r.id,
    deviceId: r.device_id,
    name: r.name,
    owner: r.owner,
    state: r.state as JobState,
    progress: r.progress,
    startedAt: fromMsOrNull(r.started_at),
    estimatedEndAt: fromMsOrNull(r.estimated_end_at),
    endedAt: fromMsOrNull(r.ended_at),
    layer: r.layer,
    layers: r.layers,
    materialUsedG: r.material_used_g,
    updatedAt: fromMs(r.updated_at),
  };
}

export function alertToRow(a: Alert) {
  return {
    id: a.id,
    device_id: a.deviceId,
    code: a.code,
    severity: a.severity,
    message: a.message,
    raised_at: toMs(a.raisedAt, 'alert.raisedAt'),
    cleared_at: toMsOrNull(a.clearedAt, 'alert.clearedAt'),
    acknowledged_by: a.acknowledgedBy,
    acknowledged_at: toMsOrNull(a.acknowledgedAt, 'alert.acknowledgedAt'),
  };
}

export function rowToAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    deviceId: r.device_id,
    code: r.code,
    severity: r.severity as AlertSeverity,
    message: r.message,
    raisedAt: fromMs(r.raised_at),
    clearedAt: fromMsOrNull(r.cleared_at),
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: fromMsOrNull(r.acknowledged_at),
  };
}

export function consumableToRow(c: Consumable) {
  return {
    device_id: c.deviceId,
    slot: c.slot,
    type: c.type,
    level: c.level,
    status: c.status,
    expires_at: toMsOrNull(c.expiresAt, 'consumable.expiresAt'),
    updated_at: toMs(c.updatedAt, 'consumable.updatedAt'),
  };
}

export function rowToConsumable(r: ConsumableRow): Consumable {
  return {
    deviceId: r.device_id,
    slot: r.slot,
    type: r.type,
    level: r.level,
    status: r.status as ConsumableStatus,
    expiresAt: fromMsOrNull(r.expires_at),
    updatedAt: fromMs(r.updated_at),
  };
}
