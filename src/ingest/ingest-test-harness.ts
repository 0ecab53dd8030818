// Test fixture: an ingest on a real SQLite file in a temporary directory, a store wrapper that
// counts transactions, a logger writing to memory, and payload builders.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FleetChange } from '../domain/index.js';
import { createMetricsRegistry, type Registry } from '../observability/index.js';
import { createSqliteStore, type Store, type WriteBatch } from '../store/index.js';
import { createIngest, type IngestConfig } from './ingest.js';
import type { Ingest } from './ingest-types.js';

export const TS = '2025-01-01T00:00:00.000Z';

export function at(second: number): string {
  return new Date(Date.parse(TS) + second * 1000).toISOString();
}

export function statePayload(ts: string, over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      ts,
      kind: 'printer',
      model: 'P-100',
      serial: 'SN1',
      name: 'Printer',
      firmwareVersion: '1.0.0',
      state: 'idle',
      ...over,
    }),
  );
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export interface Harness {
  ingest: Ingest;
  store: Store;
  registry: Registry;
  /** Every applyBatch call the real store ran. */
  batches: WriteBatch[];
  changes: FleetChange[];
  logLines: () => Record<string, unknown>[];
  clock: { now: number };
  /** Makes the next `n` applyBatch calls fail before reaching the store. */
  failNext: (n: number) => void;
  close: () => Promise<void>;
}

export async function startHarness(config: Partial<IngestConfig> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-ingest-'));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const real = await createSqliteStore({ file: join(dir, 'cc.db'), logger });
  await real.migrate();
  const batches: WriteBatch[] = [];
  let failures = 0;
  // A decorator: the real store still runs every batch.
  const store: Store = Object.create(real) as Store;
  Object.defineProperty(store, 'applyBatch', {
    value: async (batch: WriteBatch) => {
      if (failures > 0) {
        failures--;
        throw new Error('disk unavailable');
      }
      batches.push(batch);
      await real.applyBatch(batch);
    },
  });
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const clock = { now: Date.parse('2025-06-01T00:00:00Z') };
  const ingest = createIngest(
    { store, logger, metrics: registry, now: () => clock.now },
    {
      batchDelayMs: 5,
      batchMaxSize: 500,
      malformedLogIntervalMs: 60_000,
      metricsRetentionDays: 30,
      ...config,
    },
  );
  await ingest.start();
  const changes: FleetChange[] = [];
  ingest.onChange((c) => changes.push(c));
  return {
    ingest,
    store: real,
    registry,
    batches,
    changes,
    clock,
    logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    failNext: (n) => {
      failures = n;
    },
    close: async () => {
      await ingest.stop();
      await real.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function counterValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return match?.value ?? 0;
}
