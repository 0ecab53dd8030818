// Contract: metric queries — bucketing with known values, filters, bounds, pruning.

import { describe, expect, it } from 'vitest';
import type { MetricQuery, Store } from '../store.js';
import { at, batch, sample } from './fixtures.js';

const Q: MetricQuery = { deviceId: 'dev-1', names: [], from: at(0), to: at(3600), stepSeconds: 60 };

export function metricContract(store: () => Store): void {
  describe('metrics', () => {
    it('averages, and takes min and max, per bucket of stepSeconds aligned to the epoch', async () => {
      await store().applyBatch(
        batch({
          metrics: [
            sample('temp', 0, 1),
            sample('temp', 10, 3),
            sample('temp', 59.999, 8),
            sample('temp', 70, 5),
            sample('temp', 131, 9),
            sample('temp', 130, 7),
            sample('temp', 179, -1.5),
          ],
        }),
      );
      const [series] = await store().metrics.query({ ...Q, names: ['temp'] });
      expect(series).toEqual({
        name: 'temp',
        points: [
          { ts: at(0), avg: 4, min: 1, max: 8 },
          { ts: at(60), avg: 5, min: 5, max: 5 },
          { ts: at(120), avg: 14.5 / 3, min: -1.5, max: 9 },
        ],
      });
      const [wide] = await store().metrics.query({ ...Q, names: ['temp'], stepSeconds: 7200 });
      // T0 is 12:00, a multiple of two hours since the epoch: one bucket starting at T0.
      expect(wide?.points).toEqual([{ ts: at(0), avg: 31.5 / 7, min: -1.5, max: 9 }]);
    });

    it('returns the requested names in order, empty when a name has no samples', async () => {
      await store().applyBatch(
        batch({
          metrics: [
            sample('b', 0, 1),
            sample('a', 0, 2),
            sample('c', 0, 3),
            sample('a', 0, 99, 'dev-2'),
          ],
        }),
      );
      const names = (s: { name: string }[]) => s.map((x) => x.name);
      expect(names(await store().metrics.query(Q))).toEqual(['a', 'b', 'c']);
      const picked = await store().metrics.query({ ...Q, names: ['c', 'missing', 'a'] });
      expect(picked).toEqual([
        { name: 'c', points: [{ ts: at(0), avg: 3, min: 3, max: 3 }] },
        { name: 'missing', points: [] },
        { name: 'a', points: [{ ts: at(0), avg: 2, min: 2, max: 2 }] },
      ]);
      expect(await store().metrics.query({ ...Q, deviceId: 'dev-3' })).toEqual([]);
    });

    it('includes from and excludes to', async () => {
      await store().applyBatch(
        batch({
          metrics: [sample('t', -1, 1), sample('t', 0, 2), sample('t', 59, 3), sample('t', 60, 4)],
        }),
      );
      const [s] = await store().metrics.query({ ...Q, to: at(60), stepSeconds: 3600 });
      expect(s?.points).toEqual([{ ts: at(0), avg: 2.5, min: 2, max: 3 }]);
    });

    it('keeps extreme values exactly', async () => {
      const values = [1e300, -1e-300, 0.1 + 0.2, Number.MAX_SAFE_INTEGER];
      await store().applyBatch(batch({ metrics: values.map((v, i) => sample('x', i, v)) }));
      const [s] = await store().metrics.query({ ...Q, stepSeconds: 1 });
      expect(s?.points.map((p) => p.max)).toEqual(values);
    });

    it('refuses a bad step or time with VALIDATION_FAILED', async () => {
      for (const bad of [
        { stepSeconds: 0 },
        { stepSeconds: Number.NaN },
        { from: 'soon' },
        { to: '' },
      ]) {
        await expect(store().metrics.query({ ...Q, ...bad })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      }
      await expect(store().metrics.prune('not a time')).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('prunes samples older than a time and counts them', async () => {
      await store().applyBatch(
        batch({ metrics: [sample('t', 0, 1), sample('t', 10, 2), sample('t', 20, 3, 'dev-2')] }),
      );
      expect(await store().metrics.prune(at(10))).toBe(1);
      expect(await store().metrics.prune(at(10))).toBe(0);
      const [s] = await store().metrics.query({ ...Q, stepSeconds: 1 });
      expect(s?.points.map((p) => p.avg)).toEqual([2]);
    });
  });
}
