// The live fleet in memory and its update rules: one device message in, the changes clients see and
// the rows the store keeps out (DESIGN §4.1–4.2). Pure: no I/O, no timers; callers pass every time.
//
// Rules, all keyed on device time (`ts`) so redelivered and out-of-order messages converge:
// - A state snapshot older than the device's `stateAt` is ignored (only `lastSeenAt` moves).
// - Jobs, consumables and metric values: per item, the newest `ts` wins; an equal `ts` re-applies.
// - A snapshot field left out (`job`, `consumables`, `alerts`) means "not reported": nothing changes.
//   `job: null` means no current job; `alerts: []` means no open alert. Alerts missing from a
//   snapshot are cleared unless the server learned of them from a message as new or newer.
// - A cleared alert stays cleared (as in the store): a device raises a new occurrence with a new id.
// - A device is kept out of the fleet (`get`/`list`) until its first state snapshot: only the
//   snapshot says what the device is. Telemetry and events of such a device are still kept —
//   jobs, alerts, consumables and metric samples are written, and shown once the snapshot arrives.
// - Every accepted message writes the rows it touched even when nothing changed, so a message
//   redelivered after a failed commit writes again. Changes go to clients only when something did.

import type { Alert } from './alert.js';
import type { Consumable } from './consumable.js';
import type {
  AlertReport,
  ConsumableReport,
  DeviceStatus,
  EventMessage,
  JobReport,
  StateMessage,
  TelemetryMessage,
} from './device-messages.js';
import type { Device } from './device.js';
import { CcError } from './errors.js';
import type {
  DeviceView,
  FleetChange,
  FleetReader,
  FleetUpdate,
  FleetWrites,
} from './fleet-view.js';
import { isFinalJobState, type Job } from './job.js';
import { parseIso } from './time.js';

/** What the store holds at start-up. */
export interface FleetSnapshot {
  devices: readonly Device[];
  activeJobs: readonly Job[];
  consumables: readonly Consumable[];
  openAlerts: readonly Alert[];
}

/** Memory bounds per device: a misbehaving device cannot grow the server without limit. */
const MAX_JOBS_PER_DEVICE = 256;
const MAX_CLEARED_ALERTS_PER_DEVICE = 256;
const MAX_METRICS_PER_DEVICE = 1024;

interface OpenAlert {
  alert: Alert;
  /** Device time of the newest message that reported the alert open. */
  seenAtMs: number;
}

interface DeviceRecord {
  /** Null until the first state snapshot: such a device is not (yet) in the fleet. */
  device: Device | null;
  currentJob: Job | null;
  /** Device time of the newest message that decided the current job (set, finished or dropped). */
  currentJobAtMs: number;
  /** Active jobs and recently finished ones, so a late update cannot revive a finished job. */
  jobs: Map<string, Job>;
  consumables: Map<string, Consumable>;
  openAlerts: Map<string, OpenAlert>;
  clearedAlerts: Map<string, Alert>;
  /** Clears of alerts not seen yet (reordered delivery), by device time: an older raise is stale. */
  clearedUnseen: Map<string, number>;
  /** Device time of the newest snapshot that listed the open alerts: older raises are stale. */
  alertsAtMs: number;
  metrics: Map<string, { value: number; ts: string }>;
  /** What the admin set for the device (name, site, address); null when nothing. */
  settings: DeviceSettings | null;
  /** The name the device itself last reported. */
  reportedName: string | null;
}

/** Alerts the server raises about a device have ids of their own namespace. */
export const SERVER_ALERT_PREFIX = 'cc:';

export function isServerAlertId(id: string): boolean {
  return id.startsWith(SERVER_ALERT_PREFIX);
}

/** What an admin sets for a device; wins over what the device reports. */
export interface DeviceSettings {
  /** Overrides the name the device reports; null shows the device's own. */
  displayName: string | null;
  siteId: string | null;
  /** Web Services base URL. */
  address: string | null;
}

function at(value: string): number {
  const ms = parseIso(value);
  if (ms === null) throw new CcError('VALIDATION_FAILED', `not an RFC 3339 time: ${value}`);
  return ms;
}

function later(a: string | null, b: string): string {
  return a !== null && at(a) >= at(b) ? a : b;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Flat records compared field by field, optionally ignoring one field (e.g. `updatedAt`). */
function sameFields<T extends object>(a: T, b: T, ignore?: keyof T): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof T)[]);
  for (const k of keys) if (k !== ignore && a[k] !== b[k]) return false;
  return true;
}

/** Drops the oldest entries (insertion order) until the map holds at most `max`. */
function bound<V>(map: Map<string, V>, max: number, keep?: (v: V) => boolean): void {
  for (const [k, v] of map) {
    if (map.size <= max) return;
    if (keep?.(v) !== true) map.delete(k);
  }
}

function toJob(deviceId: string, r: JobReport, ts: string): Job {
  return {
    id: r.id,
    deviceId,
    name: r.name,
    owner: r.owner,
    state: r.state,
    progress: r.progress,
    startedAt: r.startedAt ?? null,
    estimatedEndAt: r.estimatedEndAt ?? null,
    endedAt: r.endedAt ?? null,
    layer: r.layer ?? null,
    layers: r.layers ?? null,
    materialUsedG: r.materialUsedG ?? null,
    updatedAt: ts,
  };
}

function toConsumable(deviceId: string, r: ConsumableReport, ts: string): Consumable {
  return {
    deviceId,
    slot: r.slot,
    type: r.type,
    level: r.level,
    status: r.status,
    expiresAt: r.expiresAt ?? null,
    updatedAt: ts,
  };
}

/** Collects one message's changes and writes. */
class UpdateBuilder {
  readonly changes: FleetChange[] = [];
  readonly writes: FleetWrites = {
    devices: [],
    jobs: [],
    alerts: [],
    consumables: [],
    metrics: [],
  };
  viewChanged = false;

  job(job: Job, changed: boolean): void {
    this.writes.jobs.push(job);
    if (changed) this.changes.push({ type: 'job', job });
  }

  alert(alert: Alert, changed: boolean): void {
    this.writes.alerts.push(alert);
    if (changed) {
      this.changes.push({ type: 'alert', alert });
      this.viewChanged = true;
    }
  }
}

function emptyRecord(): DeviceRecord {
  return {
    device: null,
    currentJob: null,
    currentJobAtMs: -Infinity,
    jobs: new Map(),
    consumables: new Map(),
    openAlerts: new Map(),
    clearedAlerts: new Map(),
    clearedUnseen: new Map(),
    alertsAtMs: -Infinity,
    metrics: new Map(),
    settings: null,
    reportedName: null,
  };
}

export class FleetState implements FleetReader {
  private readonly records = new Map<string, DeviceRecord>();

  constructor(snapshot: FleetSnapshot) {
    for (const d of snapshot.devices) {
      const rec = this.record(d.id);
      rec.device = d;
      rec.reportedName = d.name;
    }
    for (const j of snapshot.activeJobs) this.record(j.deviceId).jobs.set(j.id, j);
    for (const c of snapshot.consumables) this.record(c.deviceId).consumables.set(c.slot, c);
    for (const a of snapshot.openAlerts) {
      if (a.clearedAt !== null) continue;
      this.record(a.deviceId).openAlerts.set(a.id, { alert: a, seenAtMs: at(a.raisedAt) });
    }
    // The current job is the newest active one not older than the last snapshot: a job the
    // device stopped reporting (snapshot with another job or none) is older than `stateAt`.
    for (const rec of this.records.values()) {
      const stateAtMs = rec.device?.stateAt == null ? -Infinity : at(rec.device.stateAt);
      for (const j of rec.jobs.values()) {
        if (isFinalJobState(j.state) || at(j.updatedAt) < stateAtMs) continue;
        if (rec.currentJob === null || at(j.updatedAt) > at(rec.currentJob.updatedAt)) {
          rec.currentJob = j;
        }
      }
      rec.currentJobAtMs = Math.max(
        stateAtMs,
        rec.currentJob === null ? -Infinity : at(rec.currentJob.updatedAt),
      );
    }
  }

  get(deviceId: string): DeviceView | undefined {
    const rec = this.records.get(deviceId);
    return rec === undefined ? undefined : (this.view(rec) ?? undefined);
  }

  list(): DeviceView[] {
    const views: DeviceView[] = [];
    for (const rec of this.records.values()) {
      const v = this.view(rec);
      if (v !== null) views.push(v);
    }
    return views.sort((a, b) => byText(a.id, b.id));
  }

  /** The open alert with this id, on any device (known to the fleet or not yet). */
  openAlert(alertId: string): Alert | undefined {
    for (const rec of this.records.values()) {
      const open = rec.openAlerts.get(alertId);
      if (open !== undefined) return open.alert;
    }
    return undefined;
  }

  applyState(deviceId: string, msg: StateMessage, receivedAt: string): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    const prev = rec.device;
    const tsMs = at(msg.ts);
    if (prev !== null && prev.stateAt !== null && tsMs < at(prev.stateAt)) {
      this.touch(rec, receivedAt, u);
      return this.finish(rec, u);
    }
    const settings = rec.settings;
    rec.reportedName = msg.name;
    const device: Device = {
      id: deviceId,
      kind: msg.kind,
      model: msg.model,
      serial: msg.serial,
      name: settings?.displayName ?? msg.name,
      // Not part of the snapshot: what the admin set, or kept from before.
      siteId: settings ? settings.siteId : (prev?.siteId ?? null),
      firmwareVersion: msg.firmwareVersion,
      address: settings ? settings.address : (prev?.address ?? null),
      state: msg.state,
      lastSeenAt: later(prev?.lastSeenAt ?? null, receivedAt),
      stateAt: msg.ts,
    };
    if (prev === null || !sameFields(prev, device)) u.viewChanged = true;
    rec.device = device;
    // The snapshot's job is the device's current job: any other one not newer stops being current.
    if (msg.job === null) this.dropCurrentJob(rec, tsMs, u);
    else if (msg.job !== undefined) {
      if (rec.currentJob?.id !== msg.job.id) this.dropCurrentJob(rec, tsMs, u);
      this.applyJob(rec, toJob(deviceId, msg.job, msg.ts), u);
    }
    for (const c of msg.consumables ?? []) {
      this.applyConsumable(rec, toConsumable(deviceId, c, msg.ts), u);
    }
    if (msg.alerts !== undefined) this.reconcileAlerts(rec, deviceId, msg.alerts, msg.ts, u);
    return this.finish(rec, u);
  }

  applyTelemetry(deviceId: string, msg: TelemetryMessage, receivedAt: string): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    this.touch(rec, receivedAt, u);
    const tsMs = at(msg.ts);
    for (const [name, value] of Object.entries(msg.metrics)) {
      u.writes.metrics.push({ deviceId, name, ts: msg.ts, value });
      const known = rec.metrics.get(name);
      if (known === undefined && rec.metrics.size >= MAX_METRICS_PER_DEVICE) continue;
      if (known !== undefined && at(known.ts) > tsMs) continue;
      if (known?.value !== value || known.ts !== msg.ts) {
        rec.metrics.set(name, { value, ts: msg.ts });
        u.viewChanged = true;
      }
    }
    return this.finish(rec, u);
  }

  applyEvent(deviceId: string, msg: EventMessage, receivedAt: string): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    this.touch(rec, receivedAt, u);
    switch (msg.type) {
      case 'job.updated':
        this.applyJob(rec, toJob(deviceId, msg.job, msg.ts), u);
        break;
      case 'alert.raised':
        this.raiseAlert(rec, deviceId, msg.alert, at(msg.ts), u);
        break;
      case 'alert.cleared':
        this.clearAlertById(rec, msg.alertId, msg.ts, u);
        break;
      case 'consumable.updated':
        this.applyConsumable(rec, toConsumable(deviceId, msg.consumable, msg.ts), u);
        break;
      default:
        return msg satisfies never;
    }
    return this.finish(rec, u);
  }

  /** `offline` marks the device offline and nothing else; it re-sends its state on reconnect. */
  applyStatus(deviceId: string, status: DeviceStatus, receivedAt: string): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    this.touch(rec, receivedAt, u);
    switch (status) {
      case 'offline':
        if (rec.device !== null && rec.device.state !== 'offline') {
          rec.device = { ...rec.device, state: 'offline' };
          u.viewChanged = true;
        }
        break;
      case 'online':
        break;
      default:
        return status satisfies never;
    }
    return this.finish(rec, u);
  }

  /**
   * Marks a device offline because nothing was heard from it for too long (the poller's verdict):
   * unlike an `offline` status message, this is not a sign of life and leaves `lastSeenAt` alone.
   */
  markOffline(deviceId: string): FleetUpdate {
    const rec = this.records.get(deviceId);
    const u = new UpdateBuilder();
    if (rec?.device == null || rec.device.state === 'offline')
      return { changes: [], writes: u.writes };
    rec.device = { ...rec.device, state: 'offline' };
    u.viewChanged = true;
    return this.finish(rec, u);
  }

  /**
   * Raises an alert the server itself has about a device (e.g. its certificate changed); at most
   * one open per code per device. Device snapshots never clear it; `clearServerAlert` does.
   */
  raiseServerAlert(
    deviceId: string,
    spec: { code: string; severity: Alert['severity']; message: string },
    raisedAt: string,
  ): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    const open = [...rec.openAlerts.values()].some(
      (o) => isServerAlertId(o.alert.id) && o.alert.code === spec.code,
    );
    if (!open) {
      const id = `${SERVER_ALERT_PREFIX}${spec.code}:${deviceId}:${at(raisedAt).toString(36)}`;
      // Server time is not device time: never judged stale against the device's snapshots.
      this.raiseAlert(rec, deviceId, { id, ...spec, raisedAt }, Number.MAX_SAFE_INTEGER, u);
    }
    return this.finish(rec, u, false);
  }

  clearServerAlert(deviceId: string, code: string, clearedAt: string): FleetUpdate {
    const rec = this.records.get(deviceId);
    const u = new UpdateBuilder();
    if (rec === undefined) return { changes: [], writes: u.writes };
    for (const open of [...rec.openAlerts.values()]) {
      if (isServerAlertId(open.alert.id) && open.alert.code === code) {
        this.clearAlert(rec, open.alert, clearedAt, u);
      }
    }
    return this.finish(rec, u, false);
  }

  /** Applies what an admin set for a device (kept for a device not in the fleet yet). */
  configure(deviceId: string, settings: DeviceSettings): FleetUpdate {
    const rec = this.record(deviceId);
    const u = new UpdateBuilder();
    rec.settings = { ...settings };
    if (rec.device !== null) {
      const device: Device = {
        ...rec.device,
        name: settings.displayName ?? rec.reportedName ?? rec.device.name,
        siteId: settings.siteId,
        address: settings.address,
      };
      if (!sameFields(rec.device, device)) u.viewChanged = true;
      rec.device = device;
    }
    return this.finish(rec, u);
  }

  /** Forgets a device and everything about it (the store forgets it separately). */
  remove(deviceId: string): FleetUpdate {
    const known = this.records.get(deviceId)?.device != null;
    this.records.delete(deviceId);
    return {
      changes: known ? [{ type: 'device-removed', deviceId }] : [],
      writes: { devices: [], jobs: [], alerts: [], consumables: [], metrics: [] },
    };
  }

  /** The first acknowledgement stands; an unknown or already acknowledged alert changes nothing. */
  acknowledgeAlert(alertId: string, by: string, acknowledgedAt: string): FleetUpdate {
    const u = new UpdateBuilder();
    for (const rec of this.records.values()) {
      const open = rec.openAlerts.get(alertId);
      if (open === undefined) continue;
      if (open.alert.acknowledgedAt !== null) return this.finish(rec, u, false);
      const alert: Alert = { ...open.alert, acknowledgedBy: by, acknowledgedAt };
      rec.openAlerts.set(alertId, { ...open, alert });
      u.alert(alert, true);
      return this.finish(rec, u, false);
    }
    return { changes: u.changes, writes: u.writes };
  }

  private record(deviceId: string): DeviceRecord {
    let rec = this.records.get(deviceId);
    if (rec === undefined) {
      rec = emptyRecord();
      this.records.set(deviceId, rec);
    }
    return rec;
  }

  private view(rec: DeviceRecord): DeviceView | null {
    if (rec.device === null) return null;
    // Object.assign rather than a spread: V8 (Node 20) copies a spread of this shape many times
    // slower, and the fleet list builds one view per device on every call.
    return Object.assign({}, rec.device, {
      currentJob: rec.currentJob,
      consumables: [...rec.consumables.values()].sort((a, b) => byText(a.slot, b.slot)),
      openAlerts: [...rec.openAlerts.values()]
        .map((o) => o.alert)
        .sort((a, b) => at(a.raisedAt) - at(b.raisedAt) || byText(a.id, b.id)),
      metrics: Object.fromEntries(rec.metrics),
    });
  }

  private touch(rec: DeviceRecord, receivedAt: string, u: UpdateBuilder): void {
    if (rec.device === null) return;
    const lastSeenAt = later(rec.device.lastSeenAt, receivedAt);
    if (lastSeenAt !== rec.device.lastSeenAt) {
      rec.device = { ...rec.device, lastSeenAt };
      u.viewChanged = true;
    }
  }

  private finish(rec: DeviceRecord, u: UpdateBuilder, writeDevice = true): FleetUpdate {
    if (rec.device !== null) {
      if (writeDevice) u.writes.devices.push(rec.device);
      const view = this.view(rec);
      if (u.viewChanged && view !== null) u.changes.push({ type: 'device', device: view });
    }
    return { changes: u.changes, writes: u.writes };
  }

  private applyJob(rec: DeviceRecord, job: Job, u: UpdateBuilder): void {
    const known = rec.jobs.get(job.id);
    const jobAtMs = at(job.updatedAt);
    if (known !== undefined && jobAtMs < at(known.updatedAt)) return;
    const changed = known === undefined || !sameFields(known, job, 'updatedAt');
    rec.jobs.delete(job.id);
    rec.jobs.set(job.id, job);
    u.job(job, changed);
    const cur = rec.currentJob;
    if (isFinalJobState(job.state)) {
      if (cur?.id === job.id) {
        rec.currentJob = null;
        rec.currentJobAtMs = Math.max(rec.currentJobAtMs, jobAtMs);
        u.viewChanged = true;
      }
    } else if (cur?.id === job.id || jobAtMs >= rec.currentJobAtMs) {
      if (cur?.id !== job.id || changed) u.viewChanged = true;
      rec.currentJob = job;
      rec.currentJobAtMs = Math.max(rec.currentJobAtMs, jobAtMs);
    }
    bound(rec.jobs, MAX_JOBS_PER_DEVICE, (j) => j.id === rec.currentJob?.id);
  }

  private dropCurrentJob(rec: DeviceRecord, tsMs: number, u: UpdateBuilder): void {
    if (tsMs < rec.currentJobAtMs) return;
    rec.currentJobAtMs = tsMs;
    if (rec.currentJob !== null) {
      rec.currentJob = null;
      u.viewChanged = true;
    }
  }

  private applyConsumable(rec: DeviceRecord, c: Consumable, u: UpdateBuilder): void {
    const known = rec.consumables.get(c.slot);
    if (known !== undefined && at(c.updatedAt) < at(known.updatedAt)) return;
    if (known === undefined || !sameFields(known, c, 'updatedAt')) u.viewChanged = true;
    rec.consumables.set(c.slot, c);
    u.writes.consumables.push(c);
  }

  private raiseAlert(
    rec: DeviceRecord,
    deviceId: string,
    r: AlertReport,
    seenAtMs: number,
    u: UpdateBuilder,
  ): void {
    if (rec.clearedAlerts.has(r.id)) return;
    const clearedAtMs = rec.clearedUnseen.get(r.id);
    if (clearedAtMs !== undefined && clearedAtMs >= seenAtMs) return;
    const open = rec.openAlerts.get(r.id);
    if (open === undefined && seenAtMs < rec.alertsAtMs) return;
    const alert: Alert = {
      id: r.id,
      deviceId,
      code: r.code,
      severity: r.severity,
      message: r.message,
      raisedAt: r.raisedAt,
      clearedAt: null,
      acknowledgedBy: open?.alert.acknowledgedBy ?? null,
      acknowledgedAt: open?.alert.acknowledgedAt ?? null,
    };
    const changed = open === undefined || !sameFields(open.alert, alert);
    rec.openAlerts.set(r.id, { alert, seenAtMs: Math.max(open?.seenAtMs ?? seenAtMs, seenAtMs) });
    u.alert(alert, changed);
  }

  private clearAlert(rec: DeviceRecord, alert: Alert, ts: string, u: UpdateBuilder): void {
    const cleared: Alert = { ...alert, clearedAt: ts };
    rec.openAlerts.delete(alert.id);
    rec.clearedAlerts.set(alert.id, cleared);
    bound(rec.clearedAlerts, MAX_CLEARED_ALERTS_PER_DEVICE);
    u.alert(cleared, true);
  }

  private clearAlertById(rec: DeviceRecord, alertId: string, ts: string, u: UpdateBuilder): void {
    const tsMs = at(ts);
    const open = rec.openAlerts.get(alertId);
    const cleared = rec.clearedAlerts.get(alertId);
    if (open !== undefined) {
      // A clear older than the newest report of the alert being open is stale.
      if (tsMs >= open.seenAtMs) this.clearAlert(rec, open.alert, ts, u);
    } else if (cleared !== undefined) {
      // Written again: the first commit may have failed and this is the redelivery.
      u.alert(cleared, false);
    } else {
      const known = rec.clearedUnseen.get(alertId);
      rec.clearedUnseen.set(alertId, Math.max(known ?? tsMs, tsMs));
      bound(rec.clearedUnseen, MAX_CLEARED_ALERTS_PER_DEVICE);
    }
  }

  private reconcileAlerts(
    rec: DeviceRecord,
    deviceId: string,
    reports: readonly AlertReport[],
    ts: string,
    u: UpdateBuilder,
  ): void {
    const tsMs = at(ts);
    const listed = new Set(reports.map((r) => r.id));
    // Alerts this same snapshot cleared before: written again, as for any redelivered message.
    for (const a of rec.clearedAlerts.values()) {
      if (a.clearedAt === ts && !listed.has(a.id)) u.alert(a, false);
    }
    for (const r of reports) this.raiseAlert(rec, deviceId, r, tsMs, u);
    for (const open of [...rec.openAlerts.values()]) {
      // The server's own alerts about a device are not the device's to clear.
      if (isServerAlertId(open.alert.id)) continue;
      // Equal times are ambiguous: keep the alert open rather than hide a real one.
      if (!listed.has(open.alert.id) && open.seenAtMs < tsMs) {
        this.clearAlert(rec, open.alert, ts, u);
      }
    }
    rec.alertsAtMs = Math.max(rec.alertsAtMs, tsMs);
  }
}
