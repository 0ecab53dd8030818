// Contract: jobs and alerts — history upserts, filters, ordering, acknowledgement.

import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import { PAGE, alert, at, batch, job } from './fixtures.js';

export function historyContract(store: () => Store): void {
  describe('jobs', () => {
    it('round-trips a job and applies only updates at least as new as the stored one', async () => {
      await store().applyBatch(batch({ jobs: [job()] }));
      expect(await store().jobs.get('job-1')).toEqual(job());
      await store().applyBatch(batch({ jobs: [job({ progress: 50, updatedAt: at(60) })] }));
      await store().applyBatch(batch({ jobs: [job({ progress: 30, updatedAt: at(30) })] }));
      expect(await store().jobs.get('job-1')).toMatchObject({ progress: 50, updatedAt: at(60) });
      await store().applyBatch(batch({ jobs: [job({ progress: 51, updatedAt: at(60) })] }));
      expect(await store().jobs.get('job-1')).toMatchObject({ progress: 51 });
      expect(await store().jobs.get('nope')).toBeUndefined();
    });

    it('lists newest first with device, state, owner and time filters and totals', async () => {
      const jobs = Array.from({ length: 6 }, (_, i) =>
        job({
          id: `j${i}`,
          deviceId: i < 3 ? 'dev-1' : 'dev-2',
          owner: i % 2 === 0 ? 'alice' : 'bob',
          state: i === 5 ? 'completed' : 'printing',
          updatedAt: at(i * 100),
        }),
      );
      await store().applyBatch(batch({ jobs }));
      const ids = async (f: Partial<Parameters<Store['jobs']['list']>[0]>) =>
        (await store().jobs.list({ ...PAGE, ...f })).items.map((j) => j.id);
      expect(await ids({})).toEqual(['j5', 'j4', 'j3', 'j2', 'j1', 'j0']);
      expect(await ids({ deviceId: 'dev-2' })).toEqual(['j5', 'j4', 'j3']);
      expect(await ids({ owner: 'bob' })).toEqual(['j5', 'j3', 'j1']);
      expect(await ids({ state: 'completed' })).toEqual(['j5']);
      expect(await ids({ since: at(100), until: at(300) })).toEqual(['j3', 'j2', 'j1']);
      const page = await store().jobs.list({ limit: 2, offset: 1, owner: 'alice' });
      expect(page).toMatchObject({ total: 3, limit: 2, offset: 1 });
      expect(page.items.map((j) => j.id)).toEqual(['j2', 'j0']);
    });

    it('lists active jobs only (not completed, failed or cancelled)', async () => {
      const states = ['queued', 'printing', 'paused', 'completed', 'failed', 'cancelled'] as const;
      await store().applyBatch(batch({ jobs: states.map((state) => job({ id: state, state })) }));
      expect((await store().jobs.active()).map((j) => j.id).sort()).toEqual([
        'paused',
        'printing',
        'queued',
      ]);
    });

    it('refuses a since that is not a time with VALIDATION_FAILED', async () => {
      await expect(store().jobs.list({ ...PAGE, since: 'yesterday' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });
  });

  describe('alerts', () => {
    it('lists newest raised first with device, severity, status and time filters', async () => {
      await store().applyBatch(
        batch({
          alerts: [
            alert({ id: 'a0', raisedAt: at(0), severity: 'info' }),
            alert({ id: 'a1', raisedAt: at(10), severity: 'critical', clearedAt: at(15) }),
            alert({ id: 'a2', raisedAt: at(20), deviceId: 'dev-2', severity: 'critical' }),
            alert({ id: 'a3', raisedAt: at(30), severity: 'warning' }),
          ],
        }),
      );
      const ids = async (f: Partial<Parameters<Store['alerts']['list']>[0]>) =>
        (await store().alerts.list({ ...PAGE, ...f })).items.map((a) => a.id);
      expect(await ids({})).toEqual(['a3', 'a2', 'a1', 'a0']);
      expect(await ids({ deviceId: 'dev-1' })).toEqual(['a3', 'a1', 'a0']);
      expect(await ids({ severity: 'critical' })).toEqual(['a2', 'a1']);
      expect(await ids({ status: 'open' })).toEqual(['a3', 'a2', 'a0']);
      expect(await ids({ status: 'cleared' })).toEqual(['a1']);
      expect(await ids({ since: at(10), until: at(20) })).toEqual(['a2', 'a1']);
      expect((await store().alerts.list({ limit: 1, offset: 0, status: 'open' })).total).toBe(3);
      expect((await store().alerts.open()).map((a) => a.id)).toEqual(['a3', 'a2', 'a0']);
    });

    it('acknowledges an alert once; the first acknowledgement stands', async () => {
      await store().applyBatch(batch({ alerts: [alert()] }));
      const acked = await store().alerts.acknowledge('alert-1', 'alice', at(5));
      expect(acked).toEqual(alert({ acknowledgedBy: 'alice', acknowledgedAt: at(5) }));
      await store().alerts.acknowledge('alert-1', 'bob', at(9));
      expect(await store().alerts.get('alert-1')).toMatchObject({ acknowledgedBy: 'alice' });
      expect(await store().alerts.acknowledge('nope', 'alice', at(5))).toBeUndefined();
    });

    it('keeps an acknowledgement when a device update carries none', async () => {
      await store().applyBatch(batch({ alerts: [alert()] }));
      await store().alerts.acknowledge('alert-1', 'alice', at(5));
      await store().applyBatch(batch({ alerts: [alert({ message: 'hotter', clearedAt: at(9) })] }));
      expect(await store().alerts.get('alert-1')).toEqual(
        alert({
          message: 'hotter',
          clearedAt: at(9),
          acknowledgedBy: 'alice',
          acknowledgedAt: at(5),
        }),
      );
      await store().applyBatch(
        batch({ alerts: [alert({ acknowledgedBy: 'carol', acknowledgedAt: at(7) })] }),
      );
      expect(await store().alerts.get('alert-1')).toMatchObject({ acknowledgedBy: 'carol' });
    });

    it('keeps a cleared alert cleared when a stale snapshot still reports it open', async () => {
      await store().applyBatch(batch({ alerts: [alert({ clearedAt: at(20) })] }));
      await store().applyBatch(batch({ alerts: [alert({ clearedAt: null })] }));
      expect(await store().alerts.get('alert-1')).toMatchObject({ clearedAt: at(20) });
      expect(await store().alerts.open()).toEqual([]);
    });
  });
}
