// The pure lifecycle of one simulated device, driven by a clock the caller passes in: jobs
// (queued → printing → completed/failed), consumables that deplete and get refilled, alerts that
// come and clear, maintenance, the pause/resume/cancel commands and alert acknowledgement, and a
// short job history. No I/O, no timers.

import type {
  AlertReport,
  JobReport,
  ConsumableReport,
  ConsumableStatus,
  DeviceKind,
  DeviceState,
  EventMessage,
  StateMessage,
  TelemetryMessage,
} from '../domain/index.js';
import { isFinalJobState, toIso } from '../domain/index.js';
import { KIND_SPECS, deviceIdentity, type DeviceIdentity } from './device-catalog.js';
import { createJobRunner, type JobRunner } from './job-runner.js';
import { createPrng, type Prng } from './prng.js';
import { createTelemetryModel, type TelemetryModel } from './telemetry-model.js';

export type CommandAction = 'pause' | 'resume' | 'cancel';

export interface DeviceModelOptions {
  id: string;
  kind: DeviceKind;
  seed: number;
  /** Time multiplier: every nominal duration is divided by it. */
  speed: number;
  startMs: number;
}

export interface StepResult {
  events: EventMessage[];
  /** True when the state snapshot differs from the last one returned. */
  stateChanged: boolean;
}

/**
 * Why a command was refused: the job or alert is not known to the device at all (the Web Services
 * answer 404), or the device knows it but will not do that now (409, with `message` as the reason).
 */
export type RefusalReason = 'unknown-job' | 'unknown-alert' | 'rejected';

export interface CommandOutcome {
  ok: boolean;
  message: string;
  events: EventMessage[];
  /** Set exactly when `ok` is false. */
  reason?: RefusalReason;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Largest nominal time advanced in one step, so long gaps replay as many small steps. */
const STEP_MS = 30_000;
const LOW_LEVEL = 15;
/** Cleared alert ids remembered, so acknowledging one late is refused rather than "unknown". */
const CLEARED_MEMORY = 100;

export const NOMINAL = {
  alertEvery: [30 * MINUTE, 120 * MINUTE],
  alertLasts: [3 * MINUTE, 15 * MINUTE],
  maintenanceEvery: [6 * HOUR, 12 * HOUR],
  maintenanceLasts: [15 * MINUTE, 30 * MINUTE],
  refillAfterLow: [30 * MINUTE, 120 * MINUTE],
  refillAfterEmpty: [5 * MINUTE, 15 * MINUTE],
} as const;

export function consumableStatus(level: number): ConsumableStatus {
  if (level <= 0) return 'empty';
  if (level <= LOW_LEVEL) return 'low';
  return 'ok';
}

interface Slot {
  report: ConsumableReport;
  usePerHour: number;
  refillAt: number | null;
}

interface OpenAlert {
  report: AlertReport;
  clearAt: number | null;
  acknowledged: boolean;
}

function refused(reason: RefusalReason, message: string): CommandOutcome {
  return { ok: false, message, events: [], reason };
}

export class DeviceModel {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly identity: DeviceIdentity;
  private readonly prng: Prng;
  private readonly speed: number;
  private nowMs: number;
  private seq = 0;
  private readonly slots: Slot[];
  private readonly alerts = new Map<string, OpenAlert>();
  private readonly clearedAlertIds: string[] = [];
  private readonly jobs: JobRunner | undefined;
  private readonly telemetryModel: TelemetryModel;
  private maintenanceUntil: number | null = null;
  /** Installing firmware: the device reports `updating` and holds its job until done. */
  private updating = false;
  private nextMaintenanceAt: number;
  private nextAlertAt: number;
  private lastState: DeviceState;
  private dirty = true;

  constructor(options: DeviceModelOptions) {
    this.id = options.id;
    this.kind = options.kind;
    this.speed = options.speed > 0 ? options.speed : 1;
    this.nowMs = options.startMs;
    this.prng = createPrng(options.seed);
    this.identity = deviceIdentity(options.id, options.kind, this.prng);
    const spec = KIND_SPECS[options.kind];
    this.slots = spec.consumables.map((c) => {
      const level = Math.round(this.prng.between(35, 100));
      return {
        report: { slot: c.slot, type: c.type, level, status: consumableStatus(level) },
        usePerHour: c.usePerHour > 0 ? c.usePerHour : 2,
        refillAt: null,
      };
    });
    this.jobs = spec.runsJobs
      ? createJobRunner({
          deviceId: options.id,
          prng: this.prng,
          scale: (ms) => this.scale(ms),
          startMs: options.startMs,
        })
      : undefined;
    this.telemetryModel = createTelemetryModel(
      options.kind,
      this.prng,
      this.speed,
      options.startMs,
    );
    this.nextAlertAt = options.startMs + this.randomDuration(NOMINAL.alertEvery);
    this.nextMaintenanceAt = options.startMs + this.randomDuration(NOMINAL.maintenanceEvery);
    this.lastState = this.state();
  }

  /** Advances the device to `nowMs` (never backwards) and returns what happened. */
  advance(nowMs: number): StepResult {
    const events: EventMessage[] = [];
    const step = Math.max(1, STEP_MS / this.speed);
    while (this.nowMs < nowMs) {
      const next = Math.min(nowMs, this.nowMs + step);
      this.tick(next, next - this.nowMs, events);
      this.nowMs = next;
    }
    const state = this.state();
    const stateChanged = this.dirty || events.length > 0 || state !== this.lastState;
    this.lastState = state;
    this.dirty = false;
    return { events, stateChanged };
  }

  state(): DeviceState {
    if (this.updating) return 'updating';
    if (this.maintenanceUntil !== null) return 'maintenance';
    const job = this.jobs?.current();
    if (job?.state === 'printing') return 'printing';
    if (job?.state === 'paused') return 'paused';
    return 'idle';
  }

  snapshot(): StateMessage {
    return {
      ts: toIso(this.nowMs),
      kind: this.kind,
      ...this.identity,
      state: this.state(),
      job: this.jobs?.current() ?? null,
      consumables: this.slots.map((s) => ({ ...s.report })),
      alerts: [...this.alerts.values()].map((a) => ({ ...a.report })),
    };
  }

  telemetry(): TelemetryMessage {
    const openAlertCodes = new Set([...this.alerts.values()].map((a) => a.report.code));
    return {
      ts: toIso(this.nowMs),
      metrics: this.telemetryModel.sample(this.nowMs, {
        state: this.state(),
        level: (slot) => this.slots.find((s) => s.report.slot === slot)?.report.level,
        openAlertCodes,
      }),
    };
  }

  /** Firmware installation begins: the device reports `updating` until endUpdate. */
  beginUpdate(): void {
    this.updating = true;
    this.dirty = true;
  }

  /** Installation ended: with the new version installed, or with `null` when it failed. */
  endUpdate(installedVersion: string | null): void {
    this.updating = false;
    if (installedVersion !== null) this.identity.firmwareVersion = installedVersion;
    this.dirty = true;
  }

  /** Device time: how far the model has been advanced. */
  time(): number {
    return this.nowMs;
  }

  /** Jobs (the current one and the last finished ones) changed at or after `sinceMs`, oldest first. */
  jobsChangedSince(sinceMs: number): JobReport[] {
    return this.jobs?.changedSince(sinceMs) ?? [];
  }

  /** Whether an open alert was acknowledged (the MQTT and Web Services payloads do not carry it). */
  isAcknowledged(alertId: string): boolean {
    return this.findAlert(alertId)?.acknowledged ?? false;
  }

  /**
   * Acts on the current job. With `jobId`, only when that is the current job: an id the device never
   * ran is `unknown-job`; one of its past jobs is `rejected`.
   */
  command(action: CommandAction, jobId?: string): CommandOutcome {
    if (!this.jobs) {
      return jobId === undefined
        ? refused('rejected', `a ${this.kind} runs no jobs`)
        : refused('unknown-job', `unknown job ${jobId}`);
    }
    if (jobId !== undefined) {
      const known = this.jobs.find(jobId);
      if (!known) return refused('unknown-job', `unknown job ${jobId}`);
      if (!known.current) return refused('rejected', `job ${jobId} is not the current job`);
      if (isFinalJobState(known.job.state)) {
        return refused('rejected', `job is ${known.job.state}`);
      }
    }
    if (this.updating) return refused('rejected', 'the device is updating its firmware');
    const blocked = this.slots.some((s) => s.report.status === 'empty');
    const outcome = this.jobs.command(action, this.nowMs, blocked);
    if (!outcome.ok) return refused('rejected', outcome.message);
    if (outcome.event) this.dirty = true;
    return { ok: true, message: outcome.message, events: outcome.event ? [outcome.event] : [] };
  }

  /**
   * Marks an open alert acknowledged. It stays open until its condition clears (alerts are raised
   * and cleared by the device, acknowledged by people); acknowledging twice is accepted.
   */
  acknowledgeAlert(alertId: string): CommandOutcome {
    const alert = this.findAlert(alertId);
    if (!alert) {
      return this.clearedAlertIds.includes(alertId)
        ? refused('rejected', `alert ${alertId} has already cleared`)
        : refused('unknown-alert', `unknown alert ${alertId}`);
    }
    if (alert.acknowledged) return { ok: true, message: 'already acknowledged', events: [] };
    alert.acknowledged = true;
    return { ok: true, message: 'acknowledged', events: [] };
  }

  private findAlert(alertId: string): OpenAlert | undefined {
    for (const alert of this.alerts.values()) if (alert.report.id === alertId) return alert;
    return undefined;
  }

  private scale(nominalMs: number): number {
    return nominalMs / this.speed;
  }

  private randomDuration([min, max]: readonly [number, number]): number {
    return this.scale(this.prng.between(min, max));
  }

  private nextId(prefix: string, at: number): string {
    this.seq += 1;
    return `${prefix}-${this.id}-${at.toString(36)}-${this.seq}`;
  }

  private tick(t: number, dt: number, events: EventMessage[]): void {
    const ts = toIso(t);
    if (this.maintenanceUntil !== null && t >= this.maintenanceUntil) {
      this.maintenanceUntil = null;
      this.nextMaintenanceAt = t + this.randomDuration(NOMINAL.maintenanceEvery);
    }
    for (const slot of this.slots) {
      if (slot.refillAt !== null && t >= slot.refillAt) this.refill(slot, ts, events);
    }
    for (const [id, alert] of this.alerts) {
      if (alert.clearAt !== null && t >= alert.clearAt) this.clearAlert(id, ts, events);
    }
    if (t >= this.nextAlertAt) {
      const spec = this.prng.pick(KIND_SPECS[this.kind].alerts);
      const open = [...this.alerts.values()].some((a) => a.report.code === spec.code);
      if (!open) this.raiseAlert(spec, t, t + this.randomDuration(NOMINAL.alertLasts), events);
      this.nextAlertAt = t + this.randomDuration(NOMINAL.alertEvery);
    }
    if (this.maintenanceUntil === null && !this.updating) {
      const blocked = this.slots.some((s) => s.report.status === 'empty');
      const jobEvents = this.jobs?.tick(t, dt, blocked) ?? [];
      for (const e of jobEvents) {
        events.push(e);
        if (e.type === 'job.updated' && e.job.state === 'failed') {
          this.raiseAlert(
            { code: 'JOB_FAILED', severity: 'error', message: `Job "${e.job.name}" failed` },
            t,
            t + this.randomDuration(NOMINAL.alertLasts),
            events,
          );
        }
      }
      const working = this.jobs ? this.state() === 'printing' : true;
      if (working) this.deplete(t, dt, events);
      if (this.state() === 'idle' && !this.jobs?.busy() && t >= this.nextMaintenanceAt) {
        this.maintenanceUntil = t + this.randomDuration(NOMINAL.maintenanceLasts);
      }
    }
  }

  private deplete(t: number, dt: number, events: EventMessage[]): void {
    const hours = (dt * this.speed) / HOUR;
    const ts = toIso(t);
    for (const slot of this.slots) {
      const before = slot.report.level;
      if (before <= 0) continue;
      const after = Math.max(0, before - slot.usePerHour * hours);
      slot.report.level = Math.round(after * 10) / 10;
      const status = consumableStatus(slot.report.level);
      const statusChanged = status !== slot.report.status;
      slot.report.status = status;
      if (statusChanged || Math.floor(before / 5) !== Math.floor(after / 5)) {
        events.push({ type: 'consumable.updated', ts, consumable: { ...slot.report } });
      }
      if (!statusChanged) continue;
      if (status === 'low') {
        slot.refillAt = t + this.randomDuration(NOMINAL.refillAfterLow);
        this.raiseAlert(
          { code: 'CONSUMABLE_LOW', severity: 'warning', message: `${slot.report.slot} is low` },
          t,
          null,
          events,
          slot.report.slot,
        );
      } else if (status === 'empty') {
        slot.refillAt = t + this.randomDuration(NOMINAL.refillAfterEmpty);
        this.raiseAlert(
          { code: 'CONSUMABLE_EMPTY', severity: 'error', message: `${slot.report.slot} is empty` },
          t,
          null,
          events,
          slot.report.slot,
        );
      }
    }
  }

  private refill(slot: Slot, ts: string, events: EventMessage[]): void {
    slot.refillAt = null;
    slot.report.level = 100;
    slot.report.status = 'ok';
    events.push({ type: 'consumable.updated', ts, consumable: { ...slot.report } });
    for (const key of [...this.alerts.keys()]) {
      if (key.endsWith(`/${slot.report.slot}`)) this.clearAlert(key, ts, events);
    }
  }

  private raiseAlert(
    spec: { code: string; severity: AlertReport['severity']; message: string },
    t: number,
    clearAt: number | null,
    events: EventMessage[],
    slot?: string,
  ): void {
    const report: AlertReport = { id: this.nextId('al', t), ...spec, raisedAt: toIso(t) };
    // Consumable alerts are keyed by slot so the refill clears exactly them.
    this.alerts.set(slot ? `${report.id}/${slot}` : report.id, {
      report,
      clearAt,
      acknowledged: false,
    });
    events.push({ type: 'alert.raised', ts: toIso(t), alert: { ...report } });
  }

  private clearAlert(key: string, ts: string, events: EventMessage[]): void {
    const alert = this.alerts.get(key);
    if (!alert) return;
    this.alerts.delete(key);
    this.clearedAlertIds.push(alert.report.id);
    if (this.clearedAlertIds.length > CLEARED_MEMORY) this.clearedAlertIds.shift();
    events.push({ type: 'alert.cleared', ts, alertId: alert.report.id });
  }
}
