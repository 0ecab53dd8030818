// Group commit: the writes of many device messages go to the store in one transaction, and each
// message's promise resolves only after the transaction holding its writes has committed.
//
// - A batch commits when `batchMaxSize` messages are pending or `batchDelayMs` after the first
//   pending one; while a commit runs, new messages gather and commit right after it (one commit at
//   a time keeps writes in arrival order).
// - Rows repeated within a batch are merged (the latest wins): fleet state emits each row whole and
//   never moves it backwards, so the last one written is the newest.
// - Retry policy: a failed commit is retried twice (after 50 ms, then 250 ms). A batch the store
//   refuses as invalid (VALIDATION_FAILED) is not retried but split, so only the bad message fails.
//   When attempts run out every caller of the batch gets the error: nothing is dropped silently,
//   and the broker does not acknowledge those messages, so devices resend them.
// - A batch refused for lack of room (SQLITE_FULL, ENOSPC) is not retried: retrying cannot free
//   space. The storage-health gate hears of it, so later writes are refused before they queue,
//   and each caller gets STORAGE_FULL.
// - Backpressure: when `maxQueued` messages wait (pending or committing), `write` waits for room.

import { CcError, isCcError, type FleetWrites } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import {
  classifyStorageFailure,
  type StorageGate,
  type WriteSource,
} from '../storage-health/index.js';
import type { IngestMetrics } from './ingest-metrics.js';

export interface BatchWriterOptions {
  batchDelayMs: number;
  batchMaxSize: number;
  /** Most messages waiting before `write` itself waits; default 20 × batchMaxSize. */
  maxQueued?: number;
  /** Waits before each retry of a failed commit, in ms. */
  retryDelaysMs?: readonly number[];
}

export interface BatchWriter {
  /** Resolves once `writes` are committed; rejects when they could not be. */
  write(writes: FleetWrites, source?: WriteSource): Promise<void>;
  /** Messages pending or being committed. */
  readonly queued: number;
  /** Commits everything pending; later writes are refused. */
  stop(): Promise<void>;
}

interface Entry {
  writes: FleetWrites;
  source: WriteSource;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULT_RETRY_DELAYS_MS = [50, 250] as const;

export function mergeWrites(all: readonly FleetWrites[]): FleetWrites {
  const devices = new Map<string, FleetWrites['devices'][number]>();
  const jobs = new Map<string, FleetWrites['jobs'][number]>();
  const alerts = new Map<string, FleetWrites['alerts'][number]>();
  const consumables = new Map<string, FleetWrites['consumables'][number]>();
  const metrics = new Map<string, FleetWrites['metrics'][number]>();
  for (const w of all) {
    for (const d of w.devices) devices.set(d.id, d);
    for (const j of w.jobs) jobs.set(j.id, j);
    for (const a of w.alerts) alerts.set(a.id, a);
    for (const c of w.consumables) consumables.set(`${c.deviceId}\u0000${c.slot}`, c);
    for (const m of w.metrics) metrics.set(`${m.deviceId}\u0000${m.name}\u0000${m.ts}`, m);
  }
  return {
    devices: [...devices.values()],
    jobs: [...jobs.values()],
    alerts: [...alerts.values()],
    consumables: [...consumables.values()],
    metrics: [...metrics.values()],
  };
}

function isEmpty(w: FleetWrites): boolean {
  return (
    w.devices.length + w.jobs.length + w.alerts.length + w.consumables.length + w.metrics.length ===
    0
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function createBatchWriter(
  deps: {
    store: Pick<Store, 'applyBatch'>;
    logger: Logger;
    metrics: IngestMetrics;
    storage?: StorageGate;
  },
  options: BatchWriterOptions,
): BatchWriter {
  const { store, logger, metrics } = deps;
  const maxSize = Math.max(1, options.batchMaxSize);
  const maxQueued = Math.max(maxSize, options.maxQueued ?? 20 * maxSize);
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let pending: Entry[] = [];
  let committing = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const roomWaiters: (() => void)[] = [];

  const updateGauge = (): void => {
    metrics.queuedWrites.set(pending.length + committing);
  };

  async function commitWithRetry(writes: FleetWrites): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const endTimer = metrics.commitSeconds.startTimer();
      try {
        await store.applyBatch(writes);
        endTimer();
        return;
      } catch (err) {
        metrics.commitFailures.inc();
        const delay = retryDelays[attempt];
        if (isCcError(err) && err.code === 'VALIDATION_FAILED') throw err;
        if (delay === undefined || classifyStorageFailure(err) === 'full') throw err;
        logger.warn({ err, attempt: attempt + 1, retryInMs: delay }, 'batch commit failed');
        await sleep(delay);
      }
    }
  }

  async function commitEntries(entries: Entry[]): Promise<void> {
    try {
      await commitWithRetry(mergeWrites(entries.map((e) => e.writes)));
      for (const e of entries) e.resolve();
    } catch (err) {
      if (entries.length > 1 && isCcError(err) && err.code === 'VALIDATION_FAILED') {
        // One bad message must not fail the others: commit them one by one.
        for (const e of entries) await commitEntries([e]);
        return;
      }
      if (classifyStorageFailure(err) === 'full') {
        // The storage-health monitor logs the full disk once; this is one of its refused writes.
        logger.debug({ err, messages: entries.length }, 'batch refused: no room to write');
      } else {
        logger.error({ err, messages: entries.length }, 'batch commit failed; writes not stored');
      }
      for (const e of entries) e.reject(deps.storage?.reportFailure(err, e.source) ?? err);
    }
  }

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.slice(0, maxSize);
      pending = pending.slice(batch.length);
      committing = batch.length;
      updateGauge();
      await commitEntries(batch);
      committing = 0;
      updateGauge();
      while (roomWaiters.length > 0 && pending.length + committing < maxQueued) {
        roomWaiters.shift()?.();
      }
    }
  }

  function startDrain(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (running !== undefined) return;
    running = drain().finally(() => {
      running = undefined;
      // Writers woken for room may have queued after the loop's last look.
      if (pending.length > 0) schedule();
    });
  }

  function schedule(): void {
    if (running !== undefined) return; // the running drain picks the new entry up
    if (pending.length >= maxSize || options.batchDelayMs <= 0) startDrain();
    else timer ??= setTimeout(startDrain, options.batchDelayMs);
  }

  async function waitForRoom(): Promise<void> {
    while (!stopped && pending.length + committing >= maxQueued) {
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
    }
  }

  function enqueue(writes: FleetWrites, source: WriteSource): Promise<void> {
    if (stopped) {
      return Promise.reject(
        new CcError('INTERNAL', 'ingest is stopped; the message was not stored'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      pending.push({ writes, source, resolve, reject });
      updateGauge();
      schedule();
    });
  }

  return {
    get queued() {
      return pending.length + committing;
    },

    // Synchronous up to the queue when there is room, so a write issued before `stop()` is flushed.
    write(writes, source = 'mqtt') {
      if (isEmpty(writes)) return Promise.resolve();
      if (pending.length + committing < maxQueued) return enqueue(writes, source);
      return waitForRoom().then(() => enqueue(writes, source));
    },

    async stop() {
      stopped = true;
      for (const wake of roomWaiters.splice(0)) wake();
      while (pending.length > 0 || running !== undefined) {
        startDrain();
        await running;
      }
    },
  };
}
