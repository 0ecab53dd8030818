// The outbox service on a real SQLite file: seqs, drain order and outcomes, and the bound policy.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import { createSqliteStore, type OutboxItem, type OutboxKind, type Store } from '../store/index.js';
import {
  createOutbox,
  createOutboxMetrics,
  type OutboxDeps,
  type OutboxDrop,
  type OutboxLimits,
  type SendOutcome,
} from './outbox.js';

const ROOMY: OutboxLimits = { maxBytes: 10_000_000, maxItems: 100_000 };

/** A stand-in for the sealed envelope: what matters here is that it carries its seq. */
const sealed =
  (label = 'r') =>
  (seq: number): string =>
    JSON.stringify({ v: 1, seq, ct: label });

function seqOf(item: OutboxItem): number {
  return (JSON.parse(item.body) as { seq: number }).seq;
}

function captureLogger(): { logger: OutboxDeps['logger']; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('uplink outbox', () => {
  let dir: string;
  let file: string;
  const open: Store[] = [];

  const openStore = async (): Promise<Store> => {
    const store = await createSqliteStore({ file, logger: silentLogger() });
    await store.migrate();
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-outbox-'));
    file = join(dir, 'cc.db');
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function enqueueMany(
    outbox: ReturnType<typeof createOutbox>,
    kinds: readonly OutboxKind[],
  ): Promise<number[]> {
    const seqs: number[] = [];
    for (const kind of kinds) seqs.push((await outbox.enqueue(kind, sealed(kind))).seq);
    return seqs;
  }

  describe('sequence numbers', () => {
    it('hands each report a strictly increasing seq, sealed inside its body', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      const seqs = await enqueueMany(outbox, Array<OutboxKind>(300).fill('periodic'));
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      const items = await store.outbox.peek(1000);
      expect(items.map(seqOf)).toEqual(seqs);
    });

    it('continues after the store is closed and reopened', async () => {
      const first = await openStore();
      await enqueueMany(createOutbox({ store: first, logger: silentLogger() }, ROOMY), [
        'periodic',
        'critical',
        'periodic',
      ]);
      await first.close();
      const second = await openStore();
      const outbox = createOutbox({ store: second, logger: silentLogger() }, ROOMY);
      expect(await enqueueMany(outbox, ['periodic'])).toEqual([4]);
      expect((await second.outbox.peek(10)).map((i) => [i.seq, i.kind])).toEqual([
        [1, 'periodic'],
        [2, 'critical'],
        [3, 'periodic'],
        [4, 'periodic'],
      ]);
    });

    it('never goes back after clear, delivery or drops', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, { ...ROOMY, maxItems: 2 });
      await enqueueMany(outbox, ['periodic', 'periodic', 'periodic']);
      await outbox.drain(() => Promise.resolve('delivered'), { maxItems: 10 });
      expect(await outbox.clear()).toBe(0);
      expect(await enqueueMany(outbox, ['critical', 'critical'])).toEqual([4, 5]);
      expect(await outbox.clear()).toBe(2);
      expect(await enqueueMany(outbox, ['periodic'])).toEqual([6]);
    });
  });

  describe('drain', () => {
    it('sends every item oldest first and empties the outbox', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'critical', 'periodic', 'periodic']);
      const sent: number[] = [];
      const result = await outbox.drain(
        (item) => {
          sent.push(seqOf(item));
          return Promise.resolve('delivered');
        },
        { maxItems: 100 },
      );
      expect(result).toEqual({ delivered: 4, rejected: 0, stoppedBy: 'empty' });
      expect(sent).toEqual([1, 2, 3, 4]);
      expect((await outbox.stats()).count).toBe(0);
    });

    it('stops at the first retry and starts from that item next time', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'periodic', 'critical', 'periodic']);
      const sent: number[] = [];
      const answers: SendOutcome[] = ['delivered', 'retry'];
      const first = await outbox.drain(
        (item) => {
          sent.push(item.seq);
          return Promise.resolve(answers.shift() ?? 'delivered');
        },
        { maxItems: 100 },
      );
      expect(first).toEqual({ delivered: 1, rejected: 0, stoppedBy: 'retry' });
      expect((await store.outbox.peek(10)).map((i) => i.seq)).toEqual([2, 3, 4]);
      const second = await outbox.drain(
        (item) => {
          sent.push(item.seq);
          return Promise.resolve('delivered');
        },
        { maxItems: 100 },
      );
      expect(second).toEqual({ delivered: 3, rejected: 0, stoppedBy: 'empty' });
      expect(sent).toEqual([1, 2, 2, 3, 4]);
    });

    it('removes a rejected item, counts it and goes on', async () => {
      const store = await openStore();
      const delivered: number[] = [];
      const rejected: number[] = [];
      const metrics = {
        dropped: () => undefined,
        delivered: (n: number) => delivered.push(n),
        rejected: (n: number) => rejected.push(n),
      };
      const outbox = createOutbox({ store, logger: silentLogger(), metrics }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'periodic', 'periodic']);
      const result = await outbox.drain(
        (item) => Promise.resolve(item.seq === 2 ? 'reject' : 'delivered'),
        { maxItems: 100 },
      );
      expect(result).toEqual({ delivered: 2, rejected: 1, stoppedBy: 'empty' });
      expect(delivered).toEqual([1, 1]);
      expect(rejected).toEqual([1]);
      expect(await store.outbox.peek(10)).toEqual([]);
    });

    it('stops after maxItems sends', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'periodic', 'periodic']);
      const result = await outbox.drain(
        (item) => Promise.resolve(item.seq === 1 ? 'reject' : 'delivered'),
        { maxItems: 2 },
      );
      expect(result).toEqual({ delivered: 1, rejected: 1, stoppedBy: 'limit' });
      expect((await store.outbox.peek(10)).map((i) => i.seq)).toEqual([3]);
    });

    it('stops when aborted, before or during a send, keeping the item', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'periodic']);
      const never = () => Promise.reject(new Error('must not send'));
      expect(
        await outbox.drain(never, { maxItems: 10, signal: AbortSignal.abort() }),
      ).toMatchObject({ delivered: 0, stoppedBy: 'aborted' });

      const controller = new AbortController();
      const result = await outbox.drain(
        (item) => {
          if (item.seq === 1) return Promise.resolve('delivered');
          controller.abort();
          return Promise.reject(new Error('aborted'));
        },
        { maxItems: 10, signal: controller.signal },
      );
      expect(result).toEqual({ delivered: 1, rejected: 0, stoppedBy: 'aborted' });
      expect((await store.outbox.peek(10)).map((i) => i.seq)).toEqual([2]);
    });

    it('passes on an error thrown by send and keeps the item first', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, ['periodic', 'periodic']);
      await expect(
        outbox.drain(() => Promise.reject(new Error('sender bug')), { maxItems: 10 }),
      ).rejects.toThrow('sender bug');
      expect((await store.outbox.peek(10)).map((i) => i.seq)).toEqual([1, 2]);
    });

    it('runs concurrent drains one after another, sending each item once', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      await enqueueMany(outbox, Array<OutboxKind>(20).fill('periodic'));
      const sent: number[] = [];
      const send = async (item: OutboxItem): Promise<SendOutcome> => {
        sent.push(item.seq);
        await new Promise((resolve) => setImmediate(resolve));
        return 'delivered';
      };
      const results = await Promise.all([
        outbox.drain(send, { maxItems: 15 }),
        outbox.drain(send, { maxItems: 15 }),
      ]);
      expect(results.map((r) => r.delivered)).toEqual([15, 5]);
      expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('refuses a negative maxItems with VALIDATION_FAILED', async () => {
      const store = await openStore();
      const outbox = createOutbox({ store, logger: silentLogger() }, ROOMY);
      expect(() => outbox.drain(() => Promise.resolve('delivered'), { maxItems: -1 })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error,
      );
    });
  });

  describe('bound policy', () => {
    async function bounded(limits: OutboxLimits) {
      const store = await openStore();
      const drops: OutboxDrop[] = [];
      const metricDrops: [number, OutboxKind][] = [];
      const { logger, lines } = captureLogger();
      const outbox = createOutbox(
        {
          store,
          logger,
          metrics: { dropped: (count, kind) => metricDrops.push([count, kind]) },
          onDrop: (info) => drops.push(info),
        },
        limits,
      );
      return { store, outbox, drops, metricDrops, lines };
    }

    it('drops the oldest periodic report first and keeps critical ones', async () => {
      const { store, outbox, drops, metricDrops, lines } = await bounded({
        maxBytes: 1_000_000,
        maxItems: 3,
      });
      await enqueueMany(outbox, ['critical', 'periodic', 'critical']);
      const r = await outbox.enqueue('periodic', sealed());
      expect(r.dropped).toEqual({
        dropped: 1,
        droppedBytes: expect.any(Number) as number,
        criticalDropped: 0,
      });
      expect((await store.outbox.peek(10)).map((i) => [i.seq, i.kind])).toEqual([
        [1, 'critical'],
        [3, 'critical'],
        [4, 'periodic'],
      ]);
      expect(drops).toEqual([
        {
          dropped: 1,
          droppedBytes: r.dropped.droppedBytes,
          criticalDropped: 0,
          periodicDropped: 1,
          limits: { maxBytes: 1_000_000, maxItems: 3 },
        },
      ]);
      expect(metricDrops).toEqual([[1, 'periodic']]);
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
        'outbox over its bound: dropped the oldest periodic reports',
      ]);
    });

    it('drops the oldest critical reports only when critical reports alone exceed', async () => {
      const { store, outbox, drops, metricDrops } = await bounded({
        maxBytes: 1_000_000,
        maxItems: 2,
      });
      await enqueueMany(outbox, ['critical', 'periodic', 'critical']);
      expect(drops.map((d) => d.criticalDropped)).toEqual([0]);
      await outbox.enqueue('critical', sealed());
      expect((await store.outbox.peek(10)).map((i) => i.seq)).toEqual([3, 4]);
      expect(drops.at(-1)).toMatchObject({ dropped: 1, criticalDropped: 1, periodicDropped: 0 });
      expect(metricDrops).toEqual([
        [1, 'periodic'],
        [1, 'critical'],
      ]);
    });

    it('stays within the byte bound when one report is far bigger than the bound', async () => {
      const { outbox, drops, lines } = await bounded({ maxBytes: 10_000, maxItems: 100 });
      await enqueueMany(outbox, ['critical', 'periodic']);
      const huge = 'x'.repeat(5_000_000);
      const r = await outbox.enqueue('periodic', (seq) => JSON.stringify({ seq, ct: huge }));
      expect(r.dropped).toMatchObject({ dropped: 1, criticalDropped: 0 });
      expect(r.dropped.droppedBytes).toBe(r.bytes);
      const stats = await outbox.stats();
      expect(stats).toMatchObject({ count: 2, criticalCount: 1 });
      expect(stats.bytes).toBeLessThanOrEqual(10_000);
      expect(drops).toHaveLength(1);
      expect(lines.some((l) => l.seq === 3 && l.bytes === r.bytes)).toBe(true);
    });

    it('keeps both bounds over many reports of mixed kinds and sizes', async () => {
      const limits = { maxBytes: 4_000, maxItems: 25 };
      const { outbox, store } = await bounded(limits);
      for (let i = 0; i < 200; i++) {
        const kind: OutboxKind = i % 7 === 0 ? 'critical' : 'periodic';
        await outbox.enqueue(kind, (seq) =>
          JSON.stringify({ seq, pad: '.'.repeat((i * 37) % 400) }),
        );
        const stats = await outbox.stats();
        expect(stats.count).toBeLessThanOrEqual(limits.maxItems);
        expect(stats.bytes).toBeLessThanOrEqual(limits.maxBytes);
      }
      // 29 critical reports exceed 25 items on their own: only the newest critical ones remain.
      const items = await store.outbox.peek(100);
      expect(items.every((i) => i.kind === 'critical')).toBe(true);
      expect(items.at(-1)?.seq).toBe(197);
      const seqs = items.map((i) => i.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it('still enqueues when the drop listener throws', async () => {
      const store = await openStore();
      const outbox = createOutbox(
        {
          store,
          logger: silentLogger(),
          onDrop: () => {
            throw new Error('alerting is down');
          },
        },
        { maxBytes: 1_000_000, maxItems: 1 },
      );
      await enqueueMany(outbox, ['periodic']);
      await expect(outbox.enqueue('periodic', sealed())).resolves.toMatchObject({
        seq: 2,
        dropped: { dropped: 1 },
      });
    });

    it('applies smaller limits to what is already waiting', async () => {
      const store = await openStore();
      await enqueueMany(createOutbox({ store, logger: silentLogger() }, ROOMY), [
        'periodic',
        'periodic',
        'critical',
      ]);
      const smaller = createOutbox({ store, logger: silentLogger() }, { ...ROOMY, maxItems: 1 });
      expect(await smaller.enforceBound()).toMatchObject({ dropped: 2, criticalDropped: 0 });
      expect(await smaller.stats()).toMatchObject({
        count: 1,
        criticalCount: 1,
        limits: { ...ROOMY, maxItems: 1 },
      });
    });

    it('refuses limits that are not positive integers', async () => {
      const store = await openStore();
      for (const limits of [
        { maxBytes: 0, maxItems: 10 },
        { maxBytes: 10, maxItems: -1 },
        { maxBytes: Number.NaN, maxItems: 10 },
        { maxBytes: 10, maxItems: 1.5 },
      ]) {
        expect(() => createOutbox({ store, logger: silentLogger() }, limits)).toThrow(
          expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error,
        );
      }
    });
  });

  it('counts drops by kind, deliveries and rejections in Prometheus metrics', async () => {
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry);
    metrics.dropped(3, 'periodic');
    metrics.dropped(1, 'critical');
    metrics.delivered?.(2);
    metrics.rejected?.(1);
    const text = await registry.metrics();
    expect(text).toContain('cc_uplink_outbox_dropped_total{kind="periodic"} 3');
    expect(text).toContain('cc_uplink_outbox_dropped_total{kind="critical"} 1');
    expect(text).toContain('cc_uplink_outbox_delivered_total 2');
    expect(text).toContain('cc_uplink_outbox_rejected_total 1');
  });
});
