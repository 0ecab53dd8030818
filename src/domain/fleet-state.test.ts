import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertReport, EventMessage, JobReport, StateMessage } from './device-messages.js';
import type { Device } from './device.js';
import { FleetState, type FleetSnapshot } from './fleet-state.js';
import type { FleetUpdate } from './fleet-view.js';
import type { Job } from './job.js';

const EMPTY: FleetSnapshot = { devices: [], activeJobs: [], consumables: [], openAlerts: [] };

function t(second: number): string {
  return new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();
}

function job(id: string, over: Partial<JobReport> = {}): JobReport {
  return { id, name: `build ${id}`, owner: 'ana', state: 'printing', progress: 10, ...over };
}

function alert(id: string, raisedAt = t(0)): AlertReport {
  return { id, code: 'E1', severity: 'warning', message: `alert ${id}`, raisedAt };
}

function state(ts: string, over: Partial<StateMessage> = {}): StateMessage {
  return {
    ts,
    kind: 'printer',
    model: 'P-100',
    serial: 'SN1',
    name: 'Printer 1',
    firmwareVersion: '1.0.0',
    state: 'idle',
    ...over,
  };
}

function changeTypes(u: FleetUpdate): string[] {
  return u.changes.map((c) => c.type);
}

describe('FleetState: state snapshots', () => {
  it('adds a device on its first snapshot and reports it as a device change and write', () => {
    const fleet = new FleetState(EMPTY);
    const u = fleet.applyState('p1', state(t(1), { state: 'printing' }), t(2));
    expect(fleet.get('p1')).toMatchObject({
      id: 'p1',
      state: 'printing',
      stateAt: t(1),
      lastSeenAt: t(2),
      siteId: null,
      currentJob: null,
    });
    expect(changeTypes(u)).toEqual(['device']);
    expect(u.writes.devices).toHaveLength(1);
  });

  it('ignores a snapshot older than stateAt but still moves lastSeenAt', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(10), { state: 'printing' }), t(10));
    const u = fleet.applyState('p1', state(t(5), { state: 'error', name: 'old' }), t(11));
    expect(fleet.get('p1')).toMatchObject({
      state: 'printing',
      name: 'Printer 1',
      lastSeenAt: t(11),
    });
    expect(u.writes.devices[0]?.lastSeenAt).toBe(t(11));
    expect(u.writes.jobs).toEqual([]);
  });

  it('keeps siteId and address, which a snapshot does not carry', () => {
    const device: Device = {
      id: 'p1',
      kind: 'printer',
      model: 'm',
      serial: 's',
      name: 'n',
      siteId: 'site-a',
      firmwareVersion: '1',
      address: 'https://10.0.0.5',
      state: 'idle',
      lastSeenAt: null,
      stateAt: null,
    };
    const fleet = new FleetState({ ...EMPTY, devices: [device] });
    fleet.applyState('p1', state(t(1)), t(1));
    expect(fleet.get('p1')).toMatchObject({ siteId: 'site-a', address: 'https://10.0.0.5' });
  });

  it('sets the current job from the snapshot and drops it on job null', () => {
    const fleet = new FleetState(EMPTY);
    const u1 = fleet.applyState('p1', state(t(1), { job: job('j1') }), t(1));
    expect(fleet.get('p1')?.currentJob).toMatchObject({
      id: 'j1',
      deviceId: 'p1',
      updatedAt: t(1),
    });
    expect(changeTypes(u1)).toEqual(['job', 'device']);
    fleet.applyState('p1', state(t(2), { job: null }), t(2));
    expect(fleet.get('p1')?.currentJob).toBeNull();
  });

  it('writes a job that reached a final state and takes it out of currentJob', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1), { job: job('j1') }), t(1));
    const u = fleet.applyState('p1', state(t(2), { job: job('j1', { state: 'completed' }) }), t(2));
    expect(u.writes.jobs).toMatchObject([{ id: 'j1', state: 'completed' }]);
    expect(fleet.get('p1')?.currentJob).toBeNull();
    // A late update of the finished job does not revive it.
    fleet.applyEvent('p1', { type: 'job.updated', ts: t(1), job: job('j1') }, t(3));
    expect(fleet.get('p1')?.currentJob).toBeNull();
  });

  it('leaves job, consumables and alerts alone when the snapshot leaves them out', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState(
      'p1',
      state(t(1), {
        job: job('j1'),
        alerts: [alert('a1')],
        consumables: [{ slot: 'A', type: 'agent', level: 50, status: 'ok' }],
      }),
      t(1),
    );
    fleet.applyState('p1', state(t(2)), t(2));
    const view = fleet.get('p1');
    expect(view?.currentJob?.id).toBe('j1');
    expect(view?.openAlerts.map((a) => a.id)).toEqual(['a1']);
    expect(view?.consumables.map((c) => c.slot)).toEqual(['A']);
  });

  it('clears alerts missing from the snapshot and raises new ones', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1), { alerts: [alert('a1'), alert('a2')] }), t(1));
    const u = fleet.applyState('p1', state(t(5), { alerts: [alert('a2'), alert('a3')] }), t(5));
    expect(fleet.get('p1')?.openAlerts.map((a) => a.id)).toEqual(['a2', 'a3']);
    const cleared = u.writes.alerts.find((a) => a.id === 'a1');
    expect(cleared?.clearedAt).toBe(t(5));
    expect(u.changes.filter((c) => c.type === 'alert')).toHaveLength(2);
  });

  it('keeps an alert raised by an event newer than the snapshot that does not list it', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1), { alerts: [] }), t(1));
    fleet.applyEvent('p1', { type: 'alert.raised', ts: t(9), alert: alert('a9', t(9)) }, t(9));
    fleet.applyState('p1', state(t(5), { alerts: [] }), t(10));
    expect(fleet.get('p1')?.openAlerts.map((a) => a.id)).toEqual(['a9']);
  });

  it('upserts consumables by slot, newest first', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState(
      'p1',
      state(t(2), { consumables: [{ slot: 'A', type: 'agent', level: 50, status: 'ok' }] }),
      t(2),
    );
    fleet.applyEvent(
      'p1',
      {
        type: 'consumable.updated',
        ts: t(1),
        consumable: { slot: 'A', type: 'agent', level: 90, status: 'ok' },
      },
      t(3),
    );
    fleet.applyEvent(
      'p1',
      {
        type: 'consumable.updated',
        ts: t(3),
        consumable: { slot: 'B', type: 'lamp', level: 5, status: 'low', expiresAt: t(100) },
      },
      t(3),
    );
    expect(fleet.get('p1')?.consumables).toMatchObject([
      { slot: 'A', level: 50 },
      { slot: 'B', level: 5, expiresAt: t(100) },
    ]);
  });
});

describe('FleetState: telemetry, events and status', () => {
  it('keeps the latest value of each metric and writes every sample', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(0)), t(0));
    const u = fleet.applyTelemetry('p1', { ts: t(5), metrics: { temp: 200, rh: 40 } }, t(5));
    fleet.applyTelemetry('p1', { ts: t(3), metrics: { temp: 100 } }, t(6));
    expect(u.writes.metrics).toHaveLength(2);
    expect(fleet.get('p1')?.metrics).toEqual({
      temp: { value: 200, ts: t(5) },
      rh: { value: 40, ts: t(5) },
    });
  });

  it('keeps a device seen only through telemetry or events out of the fleet until its state', () => {
    const fleet = new FleetState(EMPTY);
    const tu = fleet.applyTelemetry('p1', { ts: t(1), metrics: { temp: 1 } }, t(1));
    const eu = fleet.applyEvent('p1', { type: 'job.updated', ts: t(1), job: job('j1') }, t(1));
    const au = fleet.applyEvent('p1', { type: 'alert.raised', ts: t(1), alert: alert('a1') }, t(1));
    expect(fleet.get('p1')).toBeUndefined();
    expect(fleet.list()).toEqual([]);
    expect(tu.writes.metrics).toHaveLength(1);
    expect(eu.writes.jobs).toHaveLength(1);
    expect(au.writes.alerts).toHaveLength(1);
    expect([...tu.writes.devices, ...eu.writes.devices]).toEqual([]);
    fleet.applyState('p1', state(t(0)), t(2));
    expect(fleet.get('p1')).toMatchObject({
      currentJob: { id: 'j1' },
      openAlerts: [{ id: 'a1' }],
      metrics: { temp: { value: 1, ts: t(1) } },
    });
  });

  it('does not duplicate a job or alert when the same event arrives twice', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(0)), t(0));
    const ev: EventMessage = { type: 'alert.raised', ts: t(1), alert: alert('a1') };
    const first = fleet.applyEvent('p1', ev, t(1));
    const second = fleet.applyEvent('p1', ev, t(1));
    expect(fleet.get('p1')?.openAlerts).toHaveLength(1);
    expect(changeTypes(first)).toEqual(['alert', 'device']);
    // Written again (in case the first commit failed), but no change for clients.
    expect(second.writes.alerts).toHaveLength(1);
    expect(second.changes).toEqual([]);
  });

  it('clears an alert on alert.cleared and never reopens it', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(0)), t(0));
    fleet.applyEvent('p1', { type: 'alert.raised', ts: t(1), alert: alert('a1') }, t(1));
    const u = fleet.applyEvent('p1', { type: 'alert.cleared', ts: t(2), alertId: 'a1' }, t(2));
    expect(u.writes.alerts).toMatchObject([{ id: 'a1', clearedAt: t(2) }]);
    fleet.applyEvent('p1', { type: 'alert.raised', ts: t(3), alert: alert('a1') }, t(3));
    expect(fleet.get('p1')?.openAlerts).toEqual([]);
    const unknown = fleet.applyEvent(
      'p1',
      { type: 'alert.cleared', ts: t(4), alertId: 'zz' },
      t(4),
    );
    expect(unknown.writes.alerts).toEqual([]);
  });

  it('marks a device offline on status offline; online only moves lastSeenAt', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(0), { state: 'printing', job: job('j1') }), t(0));
    fleet.applyStatus('p1', 'offline', t(1));
    expect(fleet.get('p1')).toMatchObject({ state: 'offline', currentJob: { id: 'j1' } });
    fleet.applyStatus('p1', 'online', t(2));
    expect(fleet.get('p1')).toMatchObject({ state: 'offline', lastSeenAt: t(2) });
    expect(fleet.applyStatus('ghost', 'offline', t(3))).toEqual({
      changes: [],
      writes: { devices: [], jobs: [], alerts: [], consumables: [], metrics: [] },
    });
  });

  it('records the first acknowledgement of an alert only', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(0), { alerts: [alert('a1')] }), t(0));
    const u = fleet.acknowledgeAlert('a1', 'ana', t(5));
    expect(u.writes.alerts).toMatchObject([
      { id: 'a1', acknowledgedBy: 'ana', acknowledgedAt: t(5) },
    ]);
    expect(changeTypes(u)).toEqual(['alert', 'device']);
    expect(fleet.acknowledgeAlert('a1', 'bob', t(6)).changes).toEqual([]);
    expect(fleet.openAlert('a1')?.acknowledgedBy).toBe('ana');
    expect(fleet.acknowledgeAlert('nope', 'bob', t(6)).writes.alerts).toEqual([]);
    // A later snapshot listing the alert keeps the acknowledgement.
    fleet.applyState('p1', state(t(7), { alerts: [alert('a1')] }), t(7));
    expect(fleet.openAlert('a1')?.acknowledgedBy).toBe('ana');
  });
});

describe('FleetState: loading from the store', () => {
  it('makes the newest active job not older than stateAt the current job', () => {
    const base: Omit<Job, 'id' | 'updatedAt'> = {
      deviceId: 'p1',
      name: 'b',
      owner: 'o',
      state: 'printing',
      progress: 1,
      startedAt: null,
      estimatedEndAt: null,
      endedAt: null,
      layer: null,
      layers: null,
      materialUsedG: null,
    };
    const device: Device = {
      id: 'p1',
      kind: 'printer',
      model: 'm',
      serial: 's',
      name: 'n',
      siteId: null,
      firmwareVersion: '1',
      address: null,
      state: 'printing',
      lastSeenAt: t(5),
      stateAt: t(5),
    };
    const fleet = new FleetState({
      ...EMPTY,
      devices: [device],
      activeJobs: [
        { ...base, id: 'abandoned', updatedAt: t(1) },
        { ...base, id: 'current', updatedAt: t(6) },
      ],
    });
    expect(fleet.get('p1')?.currentJob?.id).toBe('current');
  });
});

// --- property tests ---------------------------------------------------------------------------

const arbJob = fc.record({
  id: fc.constantFrom('j1', 'j2', 'j3'),
  name: fc.constant('b'),
  owner: fc.constant('o'),
  state: fc.constantFrom('queued', 'printing', 'paused', 'completed', 'failed', 'cancelled'),
  progress: fc.integer({ min: 0, max: 100 }),
}) satisfies fc.Arbitrary<JobReport>;

type Msg =
  | { ch: 'state'; dev: string; msg: StateMessage }
  | { ch: 'event'; dev: string; msg: EventMessage }
  | { ch: 'telemetry'; dev: string; ts: string; temp: number }
  | { ch: 'status'; dev: string; status: 'online' | 'offline' };

const arbTs = fc.integer({ min: 0, max: 50 }).map(t);
const arbDev = fc.constantFrom('p1', 'p2');
const arbMsg: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({
    ch: fc.constant('state' as const),
    dev: arbDev,
    msg: fc.record({
      ts: arbTs,
      kind: fc.constant('printer' as const),
      model: fc.constant('m'),
      serial: fc.constant('s'),
      name: fc.constantFrom('a', 'b'),
      firmwareVersion: fc.constant('1'),
      state: fc.constantFrom('idle', 'printing', 'error' as const),
      job: fc.option(arbJob, { nil: null }),
      alerts: fc.subarray(['a1', 'a2', 'a3']).map((ids) => ids.map((id) => alert(id))),
    }),
  }),
  fc.record({
    ch: fc.constant('event' as const),
    dev: arbDev,
    msg: fc.oneof(
      fc.record({ type: fc.constant('job.updated' as const), ts: arbTs, job: arbJob }),
      fc.record({
        type: fc.constant('alert.raised' as const),
        ts: arbTs,
        alert: fc.constantFrom('a1', 'a4').map((id) => alert(id)),
      }),
      fc.record({
        type: fc.constant('alert.cleared' as const),
        ts: arbTs,
        alertId: fc.constantFrom('a1', 'a4'),
      }),
    ),
  }),
  fc.record({
    ch: fc.constant('telemetry' as const),
    dev: arbDev,
    ts: arbTs,
    temp: fc.integer(),
  }),
  fc.record({
    ch: fc.constant('status' as const),
    dev: arbDev,
    status: fc.constantFrom('online', 'offline' as const),
  }),
);

function apply(fleet: FleetState, m: Msg, receivedAt: string): FleetUpdate {
  switch (m.ch) {
    case 'state':
      return fleet.applyState(m.dev, m.msg, receivedAt);
    case 'event':
      return fleet.applyEvent(m.dev, m.msg, receivedAt);
    case 'telemetry':
      return fleet.applyTelemetry(m.dev, { ts: m.ts, metrics: { temp: m.temp } }, receivedAt);
    case 'status':
      return fleet.applyStatus(m.dev, m.status, receivedAt);
  }
}

describe('FleetState: properties', () => {
  it('applying the same sequence twice yields the same fleet', () => {
    fc.assert(
      fc.property(fc.array(arbMsg, { maxLength: 30 }), (msgs) => {
        const fleet = new FleetState(EMPTY);
        for (const m of msgs) apply(fleet, m, t(60));
        const once = fleet.list();
        for (const m of msgs) apply(fleet, m, t(60));
        expect(fleet.list()).toEqual(once);
      }),
    );
  });

  it('out-of-order snapshots converge to the newest', () => {
    // A device's timeline: each alert is open over an interval; a snapshot lists those open at ts.
    const arbTimeline = fc.record({
      times: fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 }),
      alerts: fc.array(
        fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })),
        { maxLength: 4 },
      ),
      jobs: fc.array(fc.option(arbJob, { nil: null }), { minLength: 8, maxLength: 8 }),
    });
    fc.assert(
      fc.property(
        arbTimeline.chain((tl) =>
          fc.tuple(
            fc.constant(tl),
            fc.shuffledSubarray(tl.times, {
              minLength: tl.times.length,
            }),
          ),
        ),
        ([tl, order]) => {
          const snapshotAt = (sec: number, i: number): StateMessage =>
            state(t(sec), {
              state: sec % 2 === 0 ? 'printing' : 'idle',
              name: `name at ${String(sec)}`,
              job: tl.jobs[i] ?? null,
              consumables: [{ slot: 'A', type: 'agent', level: sec, status: 'ok' }],
              alerts: tl.alerts
                .map(([from, len], k) => ({ from, to: from + len, id: `a${String(k)}` }))
                .filter((a) => a.from <= sec && sec < a.to)
                .map((a) => alert(a.id, t(a.from))),
            });
          const newest = Math.max(...tl.times);
          const indexOf = (sec: number): number => tl.times.indexOf(sec);
          const shuffled = new FleetState(EMPTY);
          for (const sec of order) shuffled.applyState('p1', snapshotAt(sec, indexOf(sec)), t(200));
          const alone = new FleetState(EMPTY);
          alone.applyState('p1', snapshotAt(newest, indexOf(newest)), t(200));
          expect(shuffled.get('p1')).toEqual(alone.get('p1'));
        },
      ),
    );
  });
});
