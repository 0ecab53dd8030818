// The pure lifecycle of one simulated device, driven by a clock the caller passes in: jobs
// (queued → printing → completed/failed), consumables that deplete and get refilled, alerts that
// come and clear, maintenance, and the pause/resume/cancel commands. No I/O, no timers.

import type {
  AlertReport,
  ConsumableReport,
  ConsumableStatus,
  DeviceKind,
  DeviceState,
  EventMessage,
  StateMessage,
  TelemetryMessage,
} from '../domain/index.js';
import { toIso } from '../domain/index.js';
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

export interface CommandOutcome {
  ok: boolean;
  message: string;
  events: EventMessage[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Largest nominal time advanced in one step, so long gaps replay as many small steps. */
const STEP_MS = 30_000;
const LOW_LEVEL = 15;

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
  private readonly jobs: JobRunner | undefined;
  private readonly telemetryModel: TelemetryModel;
  private maintenanceUntil: number | null = null;
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

  command(action: CommandAction): CommandOutcome {
    if (!this.jobs) return { ok: false, message: `a ${this.kind} runs no jobs`, events: [] };
    const blocked = this.slots.some((s) => s.report.status === 'empty');
    const outcome = this.jobs.command(action, this.nowMs, blocked);
    if (outcome.event) this.dirty = true;
    return {
      ok: outcome.ok,
      message: outcome.message,
      events: outcome.event ? [outcome.event] : [],
    };
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
    if (this.maintenanceUntil === null) {
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
    this.alerts.set(slot ? `${report.id}/${slot}` : report.id, { report, clearAt });
    events.push({ type: 'alert.raised', ts: toIso(t), alert: { ...report } });
  }

  private clearAlert(key: string, ts: string, events: EventMessage[]): void {
    const alert = this.alerts.get(key);
    if (!alert) return;
    this.alerts.delete(key);
    events.push({ type: 'alert.cleared', ts, alertId: alert.report.id });
  }
}
