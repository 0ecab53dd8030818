// Ingest when the store has no room: a real SQLite store at its size limit (max_page_count fails
// writes with SQLITE_FULL, as a full disk does) and a real storage-health monitor.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCcError } from '../domain/index.js';
import { createMetricsRegistry, silentLogger, type Registry } from '../observability/index.js';
import { createStorageHealth, type StorageHealth } from '../storage-health/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import { createIngest } from './ingest.js';
import type { Ingest } from './ingest-types.js';
import { at, json, statePayload } from './ingest-test-harness.js';

/** One telemetry message of 200 samples: a few of them fill the pages left under the cap. */
function telemetry(second: number): Buffer {
  const metrics: Record<string, number> = {};
  for (let i = 0; i < 200; i++) metrics[`sensor_${String(i).padStart(3, '0')}`] = second + i / 1000;
  return json({ ts: at(second), metrics });
}

describe('ingest with a full store', () => {
  let dir: string;
  let store: Store;
  let registry: Registry;
  let storage: StorageHealth;
  let ingest: Ingest;

  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await registry.getSingleMetric(name)?.get();
    return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      ?.value;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-ingest-full-'));
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    registry = createMetricsRegistry({ defaultMetrics: false });
    // Checked only when the test asks: what turns it full here is the failed write.
    storage = createStorageHealth(
      { store, logger: silentLogger(), metrics: registry },
      { dataDir: dir, minFreeBytes: 64 * 1024, checkIntervalMs: 3_600_000 },
    );
    await storage.start();
    ingest = createIngest(
      { store, logger: silentLogger(), metrics: registry, storage },
      {
        batchDelayMs: 0,
        batchMaxSize: 50,
        malformedLogIntervalMs: 60_000,
        metricsRetentionDays: 30,
      },
    );
    await ingest.start();
  });

  afterEach(async () => {
    await ingest.stop();
    await storage.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses with STORAGE_FULL without retrying, refuses later messages before they queue, and stores the resent message after recovery', async () => {
    await ingest.handle('p1', 'state', statePayload(at(0)));
    await store.capacity.limitSize(1);

    let second = 1;
    let refusal: unknown;
    while (refusal === undefined && second < 500) {
      refusal = await ingest.handle('p1', 'telemetry', telemetry(second)).then(
        () => {
          second += 1;
          return undefined;
        },
        (err: unknown) => err,
      );
    }
    expect(isCcError(refusal) && refusal.code).toBe('STORAGE_FULL');
    expect(storage.snapshot()).toMatchObject({ state: 'full', cause: 'write' });
    // One failed commit: a full store is not retried.
    expect(await value('cc_ingest_commit_failures_total')).toBe(1);

    // The next message is refused at once: no commit is attempted.
    await expect(ingest.handle('p1', 'telemetry', telemetry(second + 1))).rejects.toMatchObject({
      code: 'STORAGE_FULL',
    });
    expect(await value('cc_ingest_commit_failures_total')).toBe(1);
    expect(await value('cc_storage_refused_writes_total', { source: 'mqtt' })).toBe(2);
    // The live fleet still follows the device.
    expect(ingest.fleet.get('p1')?.metrics.sensor_000?.value).toBe(second + 1);

    await store.capacity.limitSize(null);
    expect((await storage.check()).state).toBe('ok');
    // The device resends what was not acknowledged: it lands.
    await ingest.handle('p1', 'telemetry', telemetry(second));
    const [series] = await store.metrics.query({
      deviceId: 'p1',
      names: ['sensor_199'],
      from: at(second),
      to: at(second + 1),
      stepSeconds: 1,
    });
    expect(series?.points.map((p) => p.avg)).toEqual([second + 0.199]);
  });
});
