import { describe, expect, it } from 'vitest';
import type { DeviceKind, EventMessage, JobReport } from '../domain/index.js';
import { DEVICE_STATES, JOB_STATES, parseIso } from '../domain/index.js';
import { DeviceModel } from './device-model.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Run {
  model: DeviceModel;
  events: EventMessage[];
  /** Every job as seen in each state snapshot, in order. */
  jobs: JobReport[];
  now: number;
}

/** Drives a model with a fake clock in fixed steps for `durationMs`. */
function run(
  options: { kind?: DeviceKind; seed?: number; speed?: number },
  durationMs: number,
  stepMs = MINUTE,
): Run {
  const model = new DeviceModel({
    id: 'printer-01',
    kind: options.kind ?? 'printer',
    seed: options.seed ?? 42,
    speed: options.speed ?? 1,
    startMs: T0,
  });
  const events: EventMessage[] = [];
  const jobs: JobReport[] = [];
  let now = T0;
  while (now < T0 + durationMs) {
    now += stepMs;
    events.push(...model.advance(now).events);
    const job = model.snapshot().job;
    if (job) jobs.push(job);
  }
  return { model, events, jobs, now };
}

function jobEvents(events: EventMessage[]): JobReport[] {
  return events.flatMap((e) => (e.type === 'job.updated' ? [e.job] : []));
}

describe('device model', () => {
  it('is reproducible for a seed', () => {
    const a = run({ seed: 7 }, 6 * HOUR);
    const b = run({ seed: 7 }, 6 * HOUR);
    expect(a.events).toEqual(b.events);
    expect(a.model.snapshot()).toEqual(b.model.snapshot());
    expect(run({ seed: 8 }, 6 * HOUR).events).not.toEqual(a.events);
  });

  it('runs jobs from queued through printing to a final state, then back to idle', () => {
    const { events, model } = run({}, 24 * HOUR);
    const byJob = new Map<string, string[]>();
    for (const job of jobEvents(events)) {
      const states = byJob.get(job.id) ?? [];
      if (states.at(-1) !== job.state) states.push(job.state);
      byJob.set(job.id, states);
    }
    expect(byJob.size).toBeGreaterThan(3);
    const finished = [...byJob.values()].filter((s) => ['completed', 'failed'].includes(s.at(-1)!));
    expect(finished.length).toBeGreaterThan(2);
    for (const states of finished) {
      expect(states[0]).toBe('queued');
      expect(states[1]).toBe('printing');
    }
    expect(DEVICE_STATES).toContain(model.state());
  });

  it('keeps progress and layers monotonic, and the ETA steady while printing', () => {
    const { jobs } = run({}, 12 * HOUR);
    const byJob = new Map<string, JobReport[]>();
    for (const job of jobs) byJob.set(job.id, [...(byJob.get(job.id) ?? []), job]);
    for (const reports of byJob.values()) {
      for (let i = 1; i < reports.length; i++) {
        const [prev, cur] = [reports[i - 1]!, reports[i]!];
        expect(cur.progress).toBeGreaterThanOrEqual(prev.progress);
        expect(cur.layer ?? 0).toBeGreaterThanOrEqual(prev.layer ?? 0);
        expect(cur.materialUsedG ?? 0).toBeGreaterThanOrEqual(prev.materialUsedG ?? 0);
        expect(JOB_STATES).toContain(cur.state);
        if (prev.state === 'printing' && cur.state === 'printing') {
          expect(parseIso(cur.estimatedEndAt!)).toBe(parseIso(prev.estimatedEndAt!));
        }
      }
      const completed = reports.find((r) => r.state === 'completed');
      if (completed) {
        expect(completed.progress).toBe(100);
        expect(completed.layer).toBe(completed.layers);
        expect(parseIso(completed.endedAt!)).toBeGreaterThan(parseIso(completed.startedAt!)!);
      }
    }
  });

  it('depletes consumables while printing, alerts when low and refills later', () => {
    const { events } = run({ seed: 3 }, 48 * HOUR);
    const updates = events.flatMap((e) => (e.type === 'consumable.updated' ? [e.consumable] : []));
    const low = updates.find((c) => c.status === 'low');
    expect(low).toBeDefined();
    const lowAlert = events.find(
      (e) => e.type === 'alert.raised' && e.alert.code === 'CONSUMABLE_LOW',
    );
    expect(lowAlert).toBeDefined();
    const refilled = updates.find((c) => c.slot === low!.slot && c.level === 100);
    expect(refilled).toBeDefined();
    const raisedId = lowAlert?.type === 'alert.raised' ? lowAlert.alert.id : '';
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'alert.cleared', alertId: raisedId }),
    );
    for (const c of updates) expect(c.level).toBeGreaterThanOrEqual(0);
  });

  it('pauses a job on an empty consumable and resumes it after the refill', () => {
    for (let seed = 1; seed < 40; seed++) {
      const { events } = run({ seed }, 72 * HOUR);
      const empty = events.findIndex(
        (e) => e.type === 'consumable.updated' && e.consumable.status === 'empty',
      );
      if (empty < 0) continue;
      const after = jobEvents(events.slice(empty));
      const pausedAt = after.findIndex((j) => j.state === 'paused');
      if (pausedAt < 0) continue;
      expect(after.slice(pausedAt).some((j) => j.state === 'printing')).toBe(true);
      return;
    }
    throw new Error('no seed produced an empty consumable during a job');
  });

  it('raises and clears random alerts', () => {
    const { events } = run({ kind: 'cooling-unit' }, 24 * HOUR);
    const raised = events.flatMap((e) => (e.type === 'alert.raised' ? [e.alert.id] : []));
    const cleared = events.flatMap((e) => (e.type === 'alert.cleared' ? [e.alertId] : []));
    expect(raised.length).toBeGreaterThan(3);
    expect(cleared.length).toBeGreaterThan(0);
    expect(cleared.every((id) => raised.includes(id))).toBe(true);
  });

  it('answers pause, resume and cancel on a printing job', () => {
    const model = new DeviceModel({ id: 'p', kind: 'printer', seed: 5, speed: 1, startMs: T0 });
    expect(model.command('pause')).toMatchObject({ ok: false });
    let now = T0;
    while (model.state() !== 'printing') model.advance((now += MINUTE));
    const paused = model.command('pause');
    expect(paused.ok).toBe(true);
    expect(model.state()).toBe('paused');
    const progress = model.snapshot().job!.progress;
    model.advance((now += 30 * MINUTE));
    expect(model.snapshot().job!.progress).toBe(progress);
    expect(model.command('resume')).toMatchObject({ ok: true });
    expect(model.state()).toBe('printing');
    const cancelled = model.command('cancel');
    expect(cancelled.events[0]).toMatchObject({ type: 'job.updated', job: { state: 'cancelled' } });
    expect(model.state()).toBe('idle');
    expect(model.command('resume')).toMatchObject({ ok: false });
  });

  it('reports `updating` while it installs firmware, holding its job, then the new version', () => {
    const model = new DeviceModel({ id: 'p', kind: 'printer', seed: 5, speed: 1, startMs: T0 });
    let now = T0;
    while (model.state() !== 'printing') model.advance((now += MINUTE));
    const before = model.identity.firmwareVersion;
    model.beginUpdate();
    expect(model.advance(now).stateChanged).toBe(true);
    expect(model.snapshot()).toMatchObject({ state: 'updating', firmwareVersion: before });
    const progress = model.snapshot().job!.progress;
    model.advance((now += 30 * MINUTE));
    expect(model.snapshot().job!.progress).toBe(progress);
    expect(model.command('pause')).toMatchObject({
      ok: false,
      reason: 'rejected',
      message: 'the device is updating its firmware',
    });
    model.endUpdate('5.0.0');
    expect(model.advance(now).stateChanged).toBe(true);
    expect(model.snapshot()).toMatchObject({ state: 'printing', firmwareVersion: '5.0.0' });
    model.beginUpdate();
    model.endUpdate(null);
    expect(model.snapshot()).toMatchObject({ state: 'printing', firmwareVersion: '5.0.0' });
  });

  it('refuses job commands on devices that run no jobs', () => {
    const model = new DeviceModel({ id: 's', kind: 'build-unit', seed: 1, speed: 1, startMs: T0 });
    expect(model.command('pause')).toMatchObject({ ok: false, reason: 'rejected' });
    expect(model.command('pause', 'job-1')).toMatchObject({ ok: false, reason: 'unknown-job' });
  });

  it('acts on a named job only when it is the current one', () => {
    const model = new DeviceModel({ id: 'p', kind: 'printer', seed: 5, speed: 1, startMs: T0 });
    let now = T0;
    while (model.state() !== 'printing') model.advance((now += MINUTE));
    const first = model.snapshot().job!.id;
    expect(model.command('pause', 'job-nobody-knows')).toMatchObject({
      ok: false,
      reason: 'unknown-job',
      message: 'unknown job job-nobody-knows',
    });
    expect(model.command('pause', first)).toMatchObject({ ok: true, message: 'paused' });
    expect(model.command('pause', first)).toMatchObject({
      ok: false,
      reason: 'rejected',
      message: 'job is paused',
    });
    expect(model.command('cancel', first)).toMatchObject({ ok: true });
    // Cancelled but still the current job until the next one is queued.
    expect(model.command('resume', first)).toMatchObject({
      ok: false,
      reason: 'rejected',
      message: 'job is cancelled',
    });
    while (model.snapshot().job!.id === first) model.advance((now += MINUTE));
    expect(model.command('cancel', first)).toMatchObject({
      ok: false,
      reason: 'rejected',
      message: `job ${first} is not the current job`,
    });
  });

  it('keeps the last 50 jobs and answers which changed since a time, oldest first', () => {
    const { model, events, now } = run({}, 200 * HOUR, 10 * MINUTE);
    const all = model.jobsChangedSince(-Infinity);
    expect(all).toHaveLength(51);
    expect(all.at(-1)!.id).toBe(model.snapshot().job!.id);
    const lastChange = new Map<string, string>();
    for (const e of events) if (e.type === 'job.updated') lastChange.set(e.job.id, e.ts);
    const finished = all[20]!;
    const at = parseIso(lastChange.get(finished.id)!)!;
    const since = model.jobsChangedSince(at);
    expect(since[0]!.id).toBe(finished.id);
    expect(since.map((j) => j.id)).toEqual(all.slice(20).map((j) => j.id));
    expect(model.jobsChangedSince(at + 1)[0]!.id).toBe(all[21]!.id);
    expect(model.jobsChangedSince(now + 1)).toEqual([]);
    expect(model.command('cancel', all[0]!.id)).toMatchObject({ reason: 'rejected' });
    // Older jobs have left the history: the device no longer knows them.
    const forgotten = [...lastChange.keys()].find((id) => !all.some((j) => j.id === id))!;
    expect(model.command('cancel', forgotten)).toMatchObject({ reason: 'unknown-job' });
  });

  it('counts progress of the printing job as a change', () => {
    const model = new DeviceModel({ id: 'p', kind: 'printer', seed: 5, speed: 1, startMs: T0 });
    let now = T0;
    while (model.state() !== 'printing') model.advance((now += MINUTE));
    model.advance((now += 5 * MINUTE));
    expect(model.jobsChangedSince(now).map((j) => j.state)).toEqual(['printing']);
    model.command('pause');
    model.advance((now += 5 * MINUTE));
    expect(model.jobsChangedSince(now)).toEqual([]);
  });

  it('acknowledges an open alert, which stays open until it clears', () => {
    const model = new DeviceModel({
      id: 'c',
      kind: 'cooling-unit',
      seed: 4,
      speed: 1,
      startMs: T0,
    });
    let now = T0;
    while ((model.snapshot().alerts ?? []).length === 0) model.advance((now += MINUTE));
    const alert = model.snapshot().alerts![0]!;
    expect(model.acknowledgeAlert('al-unknown')).toMatchObject({
      ok: false,
      reason: 'unknown-alert',
    });
    expect(model.acknowledgeAlert(alert.id)).toEqual({
      ok: true,
      message: 'acknowledged',
      events: [],
    });
    expect(model.isAcknowledged(alert.id)).toBe(true);
    expect(model.snapshot().alerts).toContainEqual(alert);
    expect(model.acknowledgeAlert(alert.id)).toMatchObject({
      ok: true,
      message: 'already acknowledged',
    });
    while (model.snapshot().alerts!.some((a) => a.id === alert.id)) {
      model.advance((now += MINUTE));
    }
    expect(model.acknowledgeAlert(alert.id)).toMatchObject({
      ok: false,
      reason: 'rejected',
      message: `alert ${alert.id} has already cleared`,
    });
  });

  it('divides every duration by the speed', () => {
    const fast = run({ speed: 50 }, 20 * MINUTE, 1000);
    expect(
      jobEvents(fast.events).some((j) => j.state === 'completed' || j.state === 'failed'),
    ).toBe(true);
  });

  it('ramps printer temperatures up while printing', () => {
    const model = new DeviceModel({ id: 'p', kind: 'printer', seed: 9, speed: 1, startMs: T0 });
    let now = T0;
    while (model.state() !== 'printing') model.advance((now += MINUTE));
    const cold = model.telemetry().metrics;
    model.advance((now += 30 * MINUTE));
    model.telemetry();
    const hot = model.telemetry().metrics;
    expect(hot.nozzleTemp!).toBeGreaterThan(cold.nozzleTemp! + 50);
    expect(hot.powerW!).toBeGreaterThan(3000);
  });

  it.each([
    ['printer', ['nozzleTemp', 'bedTemp', 'chamberTemp', 'humidity', 'powerW']],
    ['processing-station', ['bathTemp', 'powerW']],
    ['build-unit', ['buildTemp', 'powderLevel']],
    ['cooling-unit', ['coolantTemp', 'flowLpm', 'coolantLevel']],
  ] as const)('reports %s metrics', (kind, names) => {
    const model = new DeviceModel({ id: 'd', kind, seed: 2, speed: 1, startMs: T0 });
    model.advance(T0 + MINUTE);
    const { metrics, ts } = model.telemetry();
    expect(Object.keys(metrics).sort()).toEqual([...names].sort());
    expect(Object.values(metrics).every(Number.isFinite)).toBe(true);
    expect(ts).toBe(new Date(T0 + MINUTE).toISOString());
  });
});
