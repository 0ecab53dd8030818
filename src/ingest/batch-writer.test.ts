import { describe, expect, it } from 'vitest';
import { CcError, type FleetWrites } from '../domain/index.js';
import { createMetricsRegistry, silentLogger } from '../observability/index.js';
import { createBatchWriter, mergeWrites } from './batch-writer.js';
import { createIngestMetrics } from './ingest-metrics.js';

function sample(value: number, deviceId = 'p1'): FleetWrites {
  return {
    devices: [],
    jobs: [],
    alerts: [],
    consumables: [],
    metrics: [{ deviceId, name: 't', ts: '2025-01-01T00:00:00.000Z', value }],
  };
}

/** A store whose commits complete only when the test says so. */
function gatedStore() {
  const calls: FleetWrites[] = [];
  const gates: (() => void)[] = [];
  return {
    calls,
    release: () => gates.shift()?.(),
    store: {
      applyBatch: (b: FleetWrites) => {
        calls.push(b);
        return new Promise<void>((resolve) => gates.push(resolve));
      },
    },
  };
}

const deps = (store: { applyBatch: (b: FleetWrites) => Promise<void> }) => ({
  store,
  logger: silentLogger(),
  metrics: createIngestMetrics(createMetricsRegistry({ defaultMetrics: false })),
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe('batch writer', () => {
  it('merges rows repeated in a batch, keeping the latest', () => {
    expect(
      mergeWrites([sample(1), sample(2), sample(3, 'p2')]).metrics.map((m) => m.value),
    ).toEqual([2, 3]);
  });

  it('makes writers wait when the queue is full, and lets them in as commits finish', async () => {
    const g = gatedStore();
    const writer = createBatchWriter(deps(g.store), {
      batchDelayMs: 0,
      batchMaxSize: 2,
      maxQueued: 4,
    });
    let done = 0;
    const writes = Array.from({ length: 8 }, (_, i) => writer.write(sample(i)).then(() => done++));
    await until(() => g.calls.length === 1);
    // 2 committing + 2 pending fill the queue; the other 4 wait outside it.
    expect(writer.queued).toBe(4);
    while (done < 8) {
      g.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(g.calls.length).toBeLessThanOrEqual(5);
    await writer.stop();
  });

  it('fails only the message the store refuses as invalid', async () => {
    const store = {
      applyBatch: (b: FleetWrites) =>
        b.metrics.some((m) => !Number.isFinite(m.value))
          ? Promise.reject(new CcError('VALIDATION_FAILED', 'not finite'))
          : Promise.resolve(),
    };
    const writer = createBatchWriter(deps(store), { batchDelayMs: 5, batchMaxSize: 10 });
    const results = await Promise.allSettled([
      writer.write(sample(1, 'a')),
      writer.write(sample(Number.NaN, 'b')),
      writer.write(sample(3, 'c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await writer.stop();
  });

  it('refuses writes after stop', async () => {
    const writer = createBatchWriter(deps({ applyBatch: () => Promise.resolve() }), {
      batchDelayMs: 5,
      batchMaxSize: 10,
    });
    await writer.stop();
    await expect(writer.write(sample(1))).rejects.toThrow('stopped');
  });
});
