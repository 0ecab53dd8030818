// Contract: applyBatch — all-or-nothing, repeated keys inside a batch, large batches, consumables.

import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../domain/index.js';
import { emptyBatch, type Store } from '../store.js';
import { PAGE, at, batch, consumable, device, job, sample } from './fixtures.js';

export function batchContract(store: () => Store): void {
  describe('applyBatch', () => {
    it('accepts an empty batch', async () => {
      await store().applyBatch(emptyBatch());
      expect(await store().devices.all()).toEqual([]);
    });

    it('writes nothing when any part of the batch is invalid', async () => {
      const bad = batch({
        devices: [device()],
        jobs: [job()],
        metrics: [sample('temp', 0, 1), { ...sample('temp', 1, 2), ts: 'not a time' }],
      });
      await expect(store().applyBatch(bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await store().devices.get('dev-1')).toBeUndefined();
      expect(await store().jobs.get('job-1')).toBeUndefined();
    });

    it('refuses non-finite metric values with VALIDATION_FAILED', async () => {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(
          store().applyBatch(batch({ metrics: [sample('temp', 0, value)] })),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    });

    it('keeps the newest of repeated keys inside one batch, whatever their order', async () => {
      await store().applyBatch(
        batch({
          devices: [device({ state: 'printing', stateAt: at(20) }), device({ stateAt: at(10) })],
          jobs: [
            job({ progress: 90, updatedAt: at(20) }),
            job({ progress: 10, updatedAt: at(10) }),
          ],
          consumables: [
            consumable({ level: 40, updatedAt: at(20) }),
            consumable({ level: 50, updatedAt: at(10) }),
          ],
          metrics: [sample('temp', 0, 1), sample('temp', 0, 2)],
        }),
      );
      expect(await store().devices.get('dev-1')).toMatchObject({ state: 'printing' });
      expect(await store().jobs.get('job-1')).toMatchObject({ progress: 90 });
      expect(await store().consumables.forDevice('dev-1')).toEqual([
        consumable({ level: 40, updatedAt: at(20) }),
      ]);
      const series = await store().metrics.query({
        deviceId: 'dev-1',
        names: ['temp'],
        from: at(0),
        to: at(1),
        stepSeconds: 1,
      });
      expect(series[0]?.points).toEqual([{ ts: at(0), avg: 2, min: 2, max: 2 }]);
    });

    it('stores a batch of 10,000 metric samples and 3,000 devices', async () => {
      const metrics: MetricSample[] = [];
      for (let i = 0; i < 10_000; i++) metrics.push(sample(`m${i % 10}`, Math.floor(i / 10), i));
      const devices = Array.from({ length: 3000 }, (_, i) => device({ id: `bulk-${i}` }));
      await store().applyBatch(batch({ devices, metrics }));
      expect((await store().devices.list({ limit: 1, offset: 0 })).total).toBe(3000);
      const series = await store().metrics.query({
        deviceId: 'dev-1',
        names: [],
        from: at(0),
        to: at(1000),
        stepSeconds: 3600,
      });
      expect(series).toHaveLength(10);
      expect(series.map((s) => s.points[0]?.max)).toEqual(
        Array.from({ length: 10 }, (_, n) => 9990 + n),
      );
      expect(await store().metrics.prune(at(10_000))).toBe(10_000);
    });
  });

  describe('consumables', () => {
    it('lists per device by slot, all devices together, and applies only newer levels', async () => {
      await store().applyBatch(
        batch({
          consumables: [
            consumable({ slot: 'b', level: 10 }),
            consumable({ slot: 'a', level: 20, expiresAt: null }),
            consumable({ deviceId: 'dev-2', slot: 'a', status: 'empty', level: 0 }),
          ],
        }),
      );
      expect((await store().consumables.forDevice('dev-1')).map((c) => c.slot)).toEqual(['a', 'b']);
      expect(await store().consumables.forDevice('dev-1')).toContainEqual(
        consumable({ slot: 'a', level: 20, expiresAt: null }),
      );
      expect(await store().consumables.all()).toHaveLength(3);
      await store().applyBatch(
        batch({ consumables: [consumable({ slot: 'b', level: 5, updatedAt: at(-10) })] }),
      );
      await store().applyBatch(
        batch({ consumables: [consumable({ slot: 'a', level: 15, updatedAt: at(10) })] }),
      );
      const levels = (await store().consumables.forDevice('dev-1')).map((c) => c.level);
      expect(levels).toEqual([15, 10]);
      expect(await store().consumables.forDevice('nope')).toEqual([]);
      expect((await store().devices.list(PAGE)).total).toBe(0);
    });
  });
}
