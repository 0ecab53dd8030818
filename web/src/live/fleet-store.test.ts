import { describe, expect, it } from 'vitest';
import { alert, device, job } from '../test-fixtures';
import { FleetStore, withAlert, type FleetEvent } from './fleet-store';

function manualScheduler(): { schedule: (fn: () => void) => void; flush: () => void } {
  const queue: (() => void)[] = [];
  return {
    schedule: (fn) => queue.push(fn),
    flush: () => {
      for (const fn of queue.splice(0)) fn();
    },
  };
}

describe('fleet store', () => {
  it('starts from the snapshot and replaces devices from later messages', () => {
    const frames = manualScheduler();
    const store = new FleetStore(frames.schedule);
    expect(store.ready).toBe(false);
    store.apply({ type: 'snapshot', devices: [device('a'), device('b')] });
    store.apply({ type: 'device', device: device('a', { state: 'error' }) });
    store.apply({ type: 'device-removed', deviceId: 'b' });
    expect(store.ready).toBe(true);
    expect(store.list().map((d) => [d.id, d.state])).toEqual([['a', 'error']]);
  });

  it('tells its listeners once per frame however many messages arrived', () => {
    const frames = manualScheduler();
    const store = new FleetStore(frames.schedule);
    let calls = 0;
    store.subscribe(() => (calls += 1));
    store.apply({ type: 'snapshot', devices: [] });
    for (let i = 0; i < 500; i += 1) store.apply({ type: 'device', device: device(`d-${i}`) });
    expect(calls).toBe(0);
    frames.flush();
    expect(calls).toBe(1);
    expect(store.devices.size).toBe(500);
  });

  it('passes job and command events on and applies an acknowledgement to the device at once', () => {
    const frames = manualScheduler();
    const store = new FleetStore(frames.schedule);
    const events: FleetEvent['type'][] = [];
    store.onEvent((e) => events.push(e.type));
    store.apply({ type: 'snapshot', devices: [device('p1', { openAlerts: [alert('a1')] })] });
    store.apply({ type: 'job', job: job('j1') });
    store.apply({
      type: 'alert',
      alert: alert('a1', { acknowledgedBy: 'olga', acknowledgedAt: '2025-03-01T12:01:00Z' }),
    });
    expect(events).toEqual(['job', 'alert']);
    expect(store.devices.get('p1')?.openAlerts[0]?.acknowledgedBy).toBe('olga');
  });

  it('adds a raised alert and drops a cleared one', () => {
    const d = device('p1', { openAlerts: [alert('a1')] });
    expect(withAlert(d, alert('a2')).openAlerts.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(withAlert(d, alert('a1', { clearedAt: '2025-03-01T12:05:00Z' })).openAlerts).toEqual([]);
  });
});
