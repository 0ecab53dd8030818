// The job lifecycle of a simulated printer: idle → queued → printing (layers, progress, ETA,
// material) → completed, or occasionally failed; paused by an operator or an empty consumable.
// It remembers the last HISTORY_SIZE finished jobs and when each last changed, for `jobs?since=`.

import type { EventMessage, JobReport } from '../domain/index.js';
import { isFinalJobState, toIso } from '../domain/index.js';
import { JOB_NAMES, JOB_OWNERS } from './device-catalog.js';
import type { Prng } from './prng.js';

export type JobCommand = 'pause' | 'resume' | 'cancel';

export interface JobRunner {
  /** The current (or last finished) job, as the device reports it. */
  current(): JobReport | null;
  /** True while a job is queued, printing or paused. */
  busy(): boolean;
  /** A job the device knows (current or in its history), and whether it is the current one. */
  find(jobId: string): { job: JobReport; current: boolean } | undefined;
  /** Known jobs whose last change is at or after `sinceMs`, oldest first. */
  changedSince(sinceMs: number): JobReport[];
  /** `blocked`: a consumable is empty, so printing cannot go on. */
  tick(t: number, dt: number, blocked: boolean): EventMessage[];
  command(
    action: JobCommand,
    t: number,
    blocked: boolean,
  ): { ok: boolean; message: string; event?: EventMessage };
}

export interface JobRunnerOptions {
  deviceId: string;
  prng: Prng;
  /** Turns a nominal duration into the simulated one (divided by the speed). */
  scale: (nominalMs: number) => number;
  startMs: number;
}

const MINUTE = 60_000;
const FAILURE_RATE = 0.06;
/** Finished jobs remembered besides the current one. */
export const HISTORY_SIZE = 50;

interface RunningJob {
  report: JobReport;
  startAt: number;
  durationMs: number;
  activeMs: number;
  totalMaterialG: number;
  failAtProgress: number | null;
  pausedBy: 'operator' | 'consumable' | null;
  /** Device time of the last change to the report (progress included). */
  changedAt: number;
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { prng, scale } = options;
  let job: RunningJob | undefined;
  const history: RunningJob[] = [];
  let seq = 0;
  // The first job comes soon after start so a fresh fleet shows activity quickly.
  let nextJobAt = options.startMs + scale(prng.between(0.2, 3) * MINUTE);

  // Every change to a job is announced through here, so this is also where its change time moves.
  const event = (t: number, j: RunningJob): EventMessage => {
    j.changedAt = t;
    return { type: 'job.updated', ts: toIso(t), job: { ...j.report } };
  };

  function active(): RunningJob | undefined {
    return job && !isFinalJobState(job.report.state) ? job : undefined;
  }

  function finish(j: RunningJob, t: number, state: 'completed' | 'failed' | 'cancelled'): void {
    j.report.state = state;
    j.report.endedAt = toIso(t);
    j.report.estimatedEndAt = null;
    nextJobAt = t + scale(prng.between(3, 12) * MINUTE);
  }

  function queue(t: number): RunningJob {
    seq += 1;
    const layers = prng.int(300, 1500);
    const failAt = prng.chance(FAILURE_RATE) ? prng.between(5, 95) : null;
    return {
      report: {
        id: `job-${options.deviceId}-${t.toString(36)}-${seq}`,
        name: `${prng.pick(JOB_NAMES)} #${prng.int(100, 999)}`,
        owner: prng.pick(JOB_OWNERS),
        state: 'queued',
        progress: 0,
        startedAt: null,
        estimatedEndAt: null,
        endedAt: null,
        layer: 0,
        layers,
        materialUsedG: 0,
      },
      startAt: t + scale(prng.between(0.5, 2) * MINUTE),
      durationMs: scale(prng.between(60, 240) * MINUTE),
      activeMs: 0,
      totalMaterialG: Math.round(prng.between(300, 2500)),
      failAtProgress: failAt,
      pausedBy: null,
      changedAt: t,
    };
  }

  function advancePrinting(j: RunningJob, t: number, dt: number): void {
    j.activeMs = Math.min(j.durationMs, j.activeMs + dt);
    const fraction = j.activeMs / j.durationMs;
    const r = j.report;
    r.progress = Math.round(fraction * 1000) / 10;
    r.layer = Math.floor(fraction * (r.layers ?? 0));
    r.materialUsedG = Math.round(fraction * j.totalMaterialG);
    r.estimatedEndAt = toIso(t + (j.durationMs - j.activeMs));
    j.changedAt = t;
  }

  return {
    current: () => (job ? { ...job.report } : null),
    busy: () => active() !== undefined,
    find(jobId) {
      if (job?.report.id === jobId) return { job: { ...job.report }, current: true };
      const past = history.find((h) => h.report.id === jobId);
      return past ? { job: { ...past.report }, current: false } : undefined;
    },
    changedSince(sinceMs) {
      const all = job ? [...history, job] : history;
      return all.filter((j) => j.changedAt >= sinceMs).map((j) => ({ ...j.report }));
    },
    tick(t, dt, blocked) {
      const j = active();
      if (!j) {
        if (t < nextJobAt) return [];
        if (job) {
          history.push(job);
          if (history.length > HISTORY_SIZE) history.shift();
        }
        job = queue(t);
        return [event(t, job)];
      }
      const r = j.report;
      switch (r.state) {
        case 'queued':
          if (t < j.startAt || blocked) return [];
          r.state = 'printing';
          r.startedAt = toIso(t);
          r.estimatedEndAt = toIso(t + j.durationMs);
          return [event(t, j)];
        case 'paused':
          if (j.pausedBy !== 'consumable' || blocked) return [];
          j.pausedBy = null;
          r.state = 'printing';
          r.estimatedEndAt = toIso(t + (j.durationMs - j.activeMs));
          return [event(t, j)];
        case 'printing': {
          if (blocked) {
            r.state = 'paused';
            j.pausedBy = 'consumable';
            return [event(t, j)];
          }
          const decile = Math.floor(r.progress / 10);
          advancePrinting(j, t, dt);
          if (j.failAtProgress !== null && r.progress >= j.failAtProgress) {
            finish(j, t, 'failed');
            return [event(t, j)];
          }
          if (j.activeMs >= j.durationMs) {
            r.progress = 100;
            r.layer = r.layers ?? null;
            finish(j, t, 'completed');
            return [event(t, j)];
          }
          // Progress is reported on every tick in the state snapshot; events every 10 %.
          return Math.floor(r.progress / 10) !== decile ? [event(t, j)] : [];
        }
        case 'completed':
        case 'failed':
        case 'cancelled':
          return [];
      }
    },
    command(action, t, blocked) {
      const j = active();
      if (!j) return { ok: false, message: 'no active job' };
      const r = j.report;
      switch (action) {
        case 'pause':
          if (r.state !== 'printing') return { ok: false, message: `job is ${r.state}` };
          r.state = 'paused';
          j.pausedBy = 'operator';
          r.estimatedEndAt = null;
          return { ok: true, message: 'paused', event: event(t, j) };
        case 'resume':
          if (r.state !== 'paused') return { ok: false, message: `job is ${r.state}` };
          if (blocked) return { ok: false, message: 'a consumable is empty' };
          r.state = 'printing';
          j.pausedBy = null;
          r.estimatedEndAt = toIso(t + (j.durationMs - j.activeMs));
          return { ok: true, message: 'resumed', event: event(t, j) };
        case 'cancel':
          finish(j, t, 'cancelled');
          return { ok: true, message: 'cancelled', event: event(t, j) };
      }
    },
  };
}
