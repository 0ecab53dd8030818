import { describe, expect, it } from 'vitest';
import type { StateMessage } from './device-messages.js';
import { FleetState, type FleetSnapshot } from './fleet-state.js';

const EMPTY: FleetSnapshot = { devices: [], activeJobs: [], consumables: [], openAlerts: [] };

function t(second: number): string {
  return new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();
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

const SETTINGS = {
  displayName: 'Left printer',
  siteId: 'site-a',
  address: 'https://127.0.0.11:443',
};

describe('FleetState: what the admin sets', () => {
  it('renames and moves a device, and keeps that over what the device reports', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1)), t(1));
    const u = fleet.configure('p1', SETTINGS);
    expect(u.changes.map((c) => c.type)).toEqual(['device']);
    expect(u.writes.devices[0]).toMatchObject({ name: 'Left printer', siteId: 'site-a' });
    fleet.applyState('p1', state(t(2), { name: 'Reported name' }), t(2));
    expect(fleet.get('p1')).toMatchObject({
      name: 'Left printer',
      siteId: 'site-a',
      address: SETTINGS.address,
    });
    // Clearing the name shows the device's own again.
    fleet.configure('p1', { ...SETTINGS, displayName: null });
    expect(fleet.get('p1')?.name).toBe('Reported name');
    expect(fleet.configure('p1', { ...SETTINGS, displayName: null }).changes).toEqual([]);
  });

  it('keeps settings for a device not in the fleet yet', () => {
    const fleet = new FleetState(EMPTY);
    expect(fleet.configure('p2', SETTINGS).changes).toEqual([]);
    fleet.applyState('p2', state(t(1)), t(1));
    expect(fleet.get('p2')).toMatchObject({ name: 'Left printer', siteId: 'site-a' });
  });

  it('marks a silent device offline without moving lastSeenAt, and back on its next state', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1), { state: 'printing' }), t(1));
    const u = fleet.markOffline('p1');
    expect(u.changes.map((c) => c.type)).toEqual(['device']);
    expect(fleet.get('p1')).toMatchObject({ state: 'offline', lastSeenAt: t(1) });
    expect(fleet.markOffline('p1').changes).toEqual([]);
    expect(fleet.markOffline('unknown').changes).toEqual([]);
    fleet.applyState('p1', state(t(5), { state: 'printing' }), t(5));
    expect(fleet.get('p1')?.state).toBe('printing');
  });

  it('forgets a removed device and says so once', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1)), t(1));
    expect(fleet.remove('p1').changes).toEqual([{ type: 'device-removed', deviceId: 'p1' }]);
    expect(fleet.get('p1')).toBeUndefined();
    expect(fleet.list()).toEqual([]);
    expect(fleet.remove('p1').changes).toEqual([]);
  });
});

describe('FleetState: the server’s own alerts', () => {
  it('raises one per code, survives device snapshots, and clears on request', () => {
    const fleet = new FleetState(EMPTY);
    fleet.applyState('p1', state(t(1), { alerts: [] }), t(1));
    const spec = { code: 'CERTIFICATE_CHANGED', severity: 'critical' as const, message: 'changed' };
    const u = fleet.raiseServerAlert('p1', spec, t(2));
    expect(u.writes.alerts).toHaveLength(1);
    expect(u.writes.alerts[0]?.id.startsWith('cc:')).toBe(true);
    expect(fleet.raiseServerAlert('p1', spec, t(3)).writes.alerts).toHaveLength(0);
    // A device snapshot listing no alerts does not clear the server's alert.
    fleet.applyState('p1', state(t(10), { alerts: [] }), t(10));
    expect(fleet.get('p1')?.openAlerts.map((a) => a.code)).toEqual(['CERTIFICATE_CHANGED']);
    const cleared = fleet.clearServerAlert('p1', 'CERTIFICATE_CHANGED', t(11));
    expect(cleared.writes.alerts[0]?.clearedAt).toBe(t(11));
    expect(fleet.get('p1')?.openAlerts).toEqual([]);
    expect(fleet.clearServerAlert('nobody', 'X', t(12)).changes).toEqual([]);
  });
});
