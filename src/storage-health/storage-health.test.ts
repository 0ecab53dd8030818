// The storage-health monitor on a real SQLite store in a temporary directory: thresholds against
// the disk's real free space, a real SQLITE_FULL from the database's size limit, recovery through
// real probe writes, and the logs and metrics an operator sees.

import { statfs } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CcError, isCcError } from '../domain/index.js';
import { createMetricsRegistry, type Registry } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import {
  classifyStorageFailure,
  createStorageHealth,
  PROBE_SETTING,
  type StorageHealth,
} from './index.js';

const MIB = 1024 * 1024;

interface LogLine {
  level: number;
  msg: string;
}

async function freeBytesOf(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Fills the store until SQLite refuses, returning the refusal (a real SQLITE_FULL). */
async function writeUntilRefused(store: Store): Promise<unknown> {
  for (let i = 0; i < 10_000; i++) {
    try {
      await store.settings.set(`filler-${i}`, 'x'.repeat(2000));
    } catch (err) {
      return err;
    }
  }
  throw new Error('the store never refused a write');
}

describe('storage health', () => {
  let dir: string;
  let store: Store;
  let registry: Registry;
  let lines: LogLine[];
  const monitors: StorageHealth[] = [];

  const logger = () =>
    pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
            lines.push(JSON.parse(line) as LogLine);
          }
          done();
        },
      }),
    );

  const monitor = (minFreeBytes: number) => {
    const m = createStorageHealth(
      { store, logger: logger(), metrics: registry },
      { dataDir: dir, minFreeBytes, checkIntervalMs: 60_000 },
    );
    monitors.push(m);
    return m;
  };

  const gauge = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await registry.getSingleMetric(name)?.get();
    const value = metric?.values.find((v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
    );
    return value?.value;
  };

  const logged = (level: number) => lines.filter((l) => l.level === level);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-storage-'));
    store = await createSqliteStore({
      file: join(dir, 'cc.db'),
      logger: pino({ level: 'silent' }),
    });
    await store.migrate();
    registry = createMetricsRegistry({ defaultMetrics: false });
    lines = [];
  });

  afterEach(async () => {
    for (const m of monitors.splice(0)) await m.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is ok with room to spare, and publishes the free space', async () => {
    const health = monitor(1);
    await health.start();
    const snap = health.snapshot();
    expect(snap).toMatchObject({ state: 'ok', minFreeBytes: 1, dir, message: null });
    expect(snap.freeBytes).toBeGreaterThan(0);
    expect(await gauge('cc_storage_state')).toBe(0);
    expect(await gauge('cc_storage_free_bytes')).toBe(snap.freeBytes);
    expect(() => health.assertWritable('api')).not.toThrow();
  });

  it('is low under twice the minimum: writes still work, one warning', async () => {
    const free = await freeBytesOf(dir);
    const health = monitor(Math.floor(free / 1.5));
    await health.start();
    await health.check();
    expect(health.state()).toBe('low');
    expect(health.snapshot().message).toMatch(/less than twice .* fix: free space/);
    expect(() => health.assertWritable('mqtt')).not.toThrow();
    expect(await gauge('cc_storage_state')).toBe(1);
    expect(logged(40).map((l) => l.msg)).toEqual([expect.stringMatching(/^storage low/)]);
  });

  it('is full under the minimum: refuses writes with STORAGE_FULL naming the directory and the fix, logs once, counts refusals', async () => {
    const free = await freeBytesOf(dir);
    const health = monitor(free * 2);
    await health.start();
    await health.check();
    await health.check();
    expect(health.state()).toBe('full');
    expect(await gauge('cc_storage_state')).toBe(2);
    let refusal: unknown;
    try {
      health.assertWritable('api');
    } catch (err) {
      refusal = err;
    }
    expect(isCcError(refusal) && refusal.code).toBe('STORAGE_FULL');
    expect((refusal as Error).message).toContain(dir);
    expect((refusal as Error).message).toMatch(/fix: free space/);
    expect(() => health.assertWritable('mqtt')).toThrow(CcError);
    expect(await gauge('cc_storage_refused_writes_total', { source: 'api' })).toBe(1);
    expect(await gauge('cc_storage_refused_writes_total', { source: 'mqtt' })).toBe(1);
    expect(await gauge('cc_storage_refused_writes_total', { source: 'uplink' })).toBe(0);
    // Three checks, two refusals: one line, at error.
    expect(logged(50).map((l) => l.msg)).toEqual([expect.stringMatching(/^storage full/)]);
  });

  it('goes full at once on a real SQLITE_FULL, stays full while the database is at its limit, and recovers through probe writes once it is lifted', async () => {
    let clock = Date.parse('2025-05-01T10:00:00.000Z');
    const health = createStorageHealth(
      { store, logger: logger(), metrics: registry, now: () => clock },
      { dataDir: dir, minFreeBytes: MIB, checkIntervalMs: 60_000 },
    );
    monitors.push(health);
    await health.start();
    expect(health.state()).toBe('ok');

    const room = (await store.capacity.headroomBytes()) ?? 0;
    expect(room).toBeGreaterThan(MIB);
    expect(await store.capacity.limitSize(1)).toBeGreaterThan(0);
    const failure = await writeUntilRefused(store);
    expect(failure).toMatchObject({ code: 'SQLITE_FULL' });
    expect(classifyStorageFailure(failure)).toBe('full');

    clock += 1000;
    const passedOn = health.reportFailure(failure, 'fleet');
    expect(passedOn?.code).toBe('STORAGE_FULL');
    expect(passedOn?.message).toMatch(/SQLITE_FULL/);
    expect(health.snapshot()).toMatchObject({
      state: 'full',
      cause: 'write',
      since: '2025-05-01T10:00:01.000Z',
    });
    expect(await gauge('cc_storage_refused_writes_total', { source: 'fleet' })).toBe(1);

    // The recheck sees the database's own limit: still full, now for that reason.
    await health.check();
    expect(health.snapshot()).toMatchObject({ state: 'full', cause: 'database' });
    expect(health.snapshot().message).toMatch(/size limit/);

    expect(await store.capacity.limitSize(null)).toBeNull();
    clock += 1000;
    await health.check();
    expect(health.snapshot()).toMatchObject({
      state: 'ok',
      cause: null,
      since: '2025-05-01T10:00:02.000Z',
    });
    // The probe wrote to the database for real.
    expect(await store.settings.get(PROBE_SETTING)).toBe('2025-05-01T10:00:02.000Z');
    expect(lines.filter((l) => l.level >= 30).map((l) => [l.level, l.msg])).toEqual([
      [50, expect.stringMatching(/^storage full: a write failed for lack of room \(SQLITE_FULL\)/)],
      [30, expect.stringMatching(/^storage recovered/)],
    ]);
  });

  it('wraps a failure it recognises behind the store error and passes others on untouched', () => {
    const health = monitor(1);
    const wrapped = new CcError('STORE_FAILED', 'cannot write a batch', undefined, {
      cause: Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
    });
    const other = new CcError('STORE_FAILED', 'locked', undefined, {
      cause: Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    });
    expect(health.reportFailure(other, 'mqtt')).toBeUndefined();
    expect(health.state()).toBe('ok');
    expect(health.reportFailure(wrapped, 'mqtt')?.code).toBe('STORAGE_FULL');
    expect(health.state()).toBe('full');
  });

  it('looks at the free space after an I/O error instead of assuming a full disk', async () => {
    const health = monitor(1);
    await health.start();
    const ioError = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_FSYNC' });
    expect(health.reportFailure(ioError, 'mqtt')).toBeUndefined();
    expect((await health.check()).state).toBe('ok');
  });

  it.each([
    [Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'full'],
    [Object.assign(new Error('quota exceeded'), { code: 'EDQUOT' }), 'full'],
    [Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), 'full'],
    [new CcError('STORAGE_FULL', 'no room'), 'full'],
    [Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }), 'io'],
    [Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT' }), null],
    [new Error('plain'), null],
    ['not an error', null],
  ])('classifies %s as %s', (err, expected) => {
    expect(classifyStorageFailure(err)).toBe(expected);
  });
});
