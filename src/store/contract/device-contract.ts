// Contract: the device repository — round trips, filters, search, pagination, newest-wins upserts.

import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import {
  HOSTILE_STRINGS,
  PAGE,
  at,
  batch,
  alert,
  consumable,
  device,
  job,
  sample,
} from './fixtures.js';

export function deviceContract(store: () => Store): void {
  describe('devices', () => {
    it('round-trips every field of a device', async () => {
      const d = device({ siteId: null, address: null, lastSeenAt: null, stateAt: null });
      await store().devices.upsert(d);
      expect(await store().devices.get('dev-1')).toEqual(d);
      expect(await store().devices.get('nope')).toBeUndefined();
    });

    it('stores hostile and unicode strings verbatim', async () => {
      const devices = HOSTILE_STRINGS.map((s, i) =>
        device({ id: `dev-${i}`, name: s, model: s, serial: s, siteId: s, firmwareVersion: s }),
      );
      await store().applyBatch(batch({ devices }));
      for (const d of devices) expect(await store().devices.get(d.id)).toEqual(d);
      expect((await store().devices.all()).length).toBe(HOSTILE_STRINGS.length);
      const page = await store().devices.list({ ...PAGE, q: "'; DROP TABLE devices; --" });
      expect(page.items.map((d) => d.id)).toEqual(['dev-0']);
    });

    it('filters by site, kind and state and reports the total of every page', async () => {
      const devices = Array.from({ length: 7 }, (_, i) =>
        device({
          id: `d${i}`,
          name: `Unit ${i}`,
          siteId: i < 5 ? 'north' : 'south',
          kind: i % 2 === 0 ? 'printer' : 'processing-station',
          state: i === 3 ? 'error' : 'idle',
        }),
      );
      await store().applyBatch(batch({ devices }));
      const north = await store().devices.list({ limit: 2, offset: 2, siteId: 'north' });
      expect(north.total).toBe(5);
      expect(north.items.map((d) => d.id)).toEqual(['d2', 'd3']);
      expect(north).toMatchObject({ limit: 2, offset: 2 });
      const printers = await store().devices.list({ ...PAGE, kind: 'printer' });
      expect(printers.items.map((d) => d.id)).toEqual(['d0', 'd2', 'd4', 'd6']);
      const errors = await store().devices.list({ ...PAGE, state: 'error', siteId: 'north' });
      expect(errors.items.map((d) => d.id)).toEqual(['d3']);
      const past = await store().devices.list({ limit: 10, offset: 50 });
      expect(past).toMatchObject({ items: [], total: 7 });
    });

    it('searches id, name, model and serial case-insensitively, wildcards taken literally', async () => {
      await store().applyBatch(
        batch({
          devices: [
            device({ id: 'a', name: 'Großer DRÜCKER', model: 'M1', serial: 'S1' }),
            device({ id: 'b', name: 'Second', model: 'Jet Fusion 100%', serial: 'S2' }),
            device({ id: 'c', name: 'Third', model: 'M3', serial: 'ab_cd' }),
            device({ id: 'd', name: 'Fourth', model: 'M4', serial: 'abXcd' }),
          ],
        }),
      );
      const ids = async (q: string) =>
        (await store().devices.list({ ...PAGE, q })).items.map((d) => d.id).sort();
      expect(await ids('drücker')).toEqual(['a']);
      expect(await ids('GROSSER'.slice(0, 3))).toEqual(['a']);
      expect(await ids('100%')).toEqual(['b']);
      expect(await ids('%')).toEqual(['b']);
      expect(await ids('b_c')).toEqual(['c']);
      expect(await ids('s2')).toEqual(['b']);
      expect(await ids('Ü')).toEqual(['a']);
      expect(await ids('')).toEqual(['a', 'b', 'c', 'd']);
      expect(await ids('no such thing')).toEqual([]);
    });

    it('refuses negative or fractional page bounds with VALIDATION_FAILED', async () => {
      await expect(store().devices.list({ limit: -1, offset: 0 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(store().devices.list({ limit: 10, offset: 1.5 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('ignores an update whose stateAt is older than the stored one', async () => {
      await store().devices.upsert(
        device({ state: 'printing', stateAt: at(10), lastSeenAt: at(10) }),
      );
      await store().devices.upsert(device({ state: 'idle', stateAt: at(5), lastSeenAt: at(5) }));
      expect(await store().devices.get('dev-1')).toMatchObject({
        state: 'printing',
        stateAt: at(10),
      });
      await store().devices.upsert(device({ state: 'error', stateAt: at(10), lastSeenAt: at(11) }));
      expect(await store().devices.get('dev-1')).toMatchObject({
        state: 'error',
        lastSeenAt: at(11),
      });
      await store().devices.upsert(
        device({ state: 'paused', stateAt: at(20), lastSeenAt: at(20) }),
      );
      expect(await store().devices.get('dev-1')).toMatchObject({
        state: 'paused',
        stateAt: at(20),
      });
    });

    it('keeps stateAt and the latest lastSeenAt when an update carries no device time', async () => {
      await store().devices.upsert(device({ stateAt: at(10), lastSeenAt: at(30) }));
      await store().devices.upsert(device({ name: 'Renamed', stateAt: null, lastSeenAt: at(20) }));
      expect(await store().devices.get('dev-1')).toMatchObject({
        name: 'Renamed',
        stateAt: at(10),
        lastSeenAt: at(30),
      });
    });

    it('removes a device with everything recorded about it, and nothing else', async () => {
      const other = { deviceId: 'dev-2' };
      await store().applyBatch(
        batch({
          devices: [device(), device({ id: 'dev-2' })],
          jobs: [job(), job({ id: 'job-2', ...other })],
          alerts: [alert(), alert({ id: 'alert-2', ...other })],
          consumables: [consumable(), consumable(other)],
          metrics: [sample('temp', 0, 1), sample('temp', 0, 1, 'dev-2')],
        }),
      );
      await store().deviceCredentials.put({ deviceId: 'dev-1', tokenHash: 'h', createdAt: at(0) });
      await store().devices.remove('dev-1');
      await store().devices.remove('never-existed');
      expect(await store().devices.get('dev-1')).toBeUndefined();
      expect(await store().jobs.get('job-1')).toBeUndefined();
      expect(await store().alerts.get('alert-1')).toBeUndefined();
      expect(await store().consumables.forDevice('dev-1')).toEqual([]);
      expect(await store().deviceCredentials.get('dev-1')).toBeUndefined();
      const q = { names: [], from: at(-1), to: at(1), stepSeconds: 60 };
      expect(await store().metrics.query({ ...q, deviceId: 'dev-1' })).toEqual([]);
      expect(await store().metrics.query({ ...q, deviceId: 'dev-2' })).toHaveLength(1);
      expect(await store().devices.get('dev-2')).toBeDefined();
      expect(await store().jobs.get('job-2')).toBeDefined();
    });
  });
}
