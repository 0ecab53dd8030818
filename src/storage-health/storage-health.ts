// The storage-health monitor: knows whether the server has room to write — `ok`, `low` (under
// twice the configured minimum free) or `full` (under the minimum, or a write failed for lack of
// room) — and refuses writes while full, so every subsystem fails the same clear way instead of
// half-writing.
//
// - Inputs: a periodic statfs of the directories the server writes to, the database's own size
//   limit (the least of both is the free space), and write failures the subsystems report
//   (SQLITE_FULL, ENOSPC … → full at once; SQLite I/O errors → look at the free space now).
// - Recovery needs free space back above the minimum plus a margin (hysteresis, so the state does
//   not flap around the threshold) and two real writes that succeed: a small file written and
//   fsynced in each directory, and a row committed to the database.
// - Transitions are logged once each (error on full, warn on low, info on recovery), never per
//   refused write; refusals are counted in `cc_storage_refused_writes_total{source}`.

import { CcError } from '../domain/index.js';
import type { Logger, Registry } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { leastFreeSpace, probeDirectory } from './free-space.js';
import {
  createStorageMetrics,
  stateValue,
  type StorageState,
  type WriteSource,
} from './storage-metrics.js';
import { classifyStorageFailure, storageFailureCode } from './write-failures.js';

/** What made the state what it is: the disk's free space, the database's size limit, a failed write. */
export type StorageCause = 'disk' | 'database' | 'write';

export interface StorageSnapshot {
  state: StorageState;
  /** Free bytes where the server writes (the least of disk and database limit); null before a check. */
  freeBytes: number | null;
  minFreeBytes: number;
  /** When the state last changed (RFC 3339). */
  since: string;
  /** The directory short of space (the data directory unless the database lives elsewhere). */
  dir: string;
  cause: StorageCause | null;
  /** The cause and the fix, for people; null while ok. */
  message: string | null;
}

/** What a subsystem that writes needs: refuse early while full, report a failed write. */
export interface StorageGate {
  /** Throws STORAGE_FULL, counted as refused for `source`, while storage is full. */
  assertWritable(source: WriteSource): void;
  /**
   * Looks at a failed write. A write refused for lack of room switches to full at once, is counted
   * for `source`, and the STORAGE_FULL error to pass on instead is returned; an I/O error starts a
   * check of the free space; anything else returns undefined.
   */
  reportFailure(err: unknown, source: WriteSource): CcError | undefined;
}

export interface StorageHealth extends StorageGate {
  state(): StorageState;
  snapshot(): StorageSnapshot;
  /** Checks now (free space, then the probe writes when full); resolves with the result. */
  check(): Promise<StorageSnapshot>;
  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onChange(listener: (snapshot: StorageSnapshot) => void): () => void;
  /** Runs the first check, then one every interval. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StorageHealthDeps {
  /** The database: its own size limit, and a settings row for the probe write. */
  store: Pick<Store, 'capacity' | 'settings'>;
  logger: Logger;
  metrics: Registry;
  now?: () => number;
}

export interface StorageHealthSettings {
  /** The data directory, named in messages. */
  dataDir: string;
  /** Other directories the server writes to (the database's, when outside the data directory). */
  otherDirs?: readonly string[];
  minFreeBytes: number;
  checkIntervalMs: number;
}

const MIB = 1024 * 1024;
/** The settings row the probe write updates. */
export const PROBE_SETTING = 'storageHealth.probeAt';

function mb(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MB`;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createStorageHealth(
  deps: StorageHealthDeps,
  settings: StorageHealthSettings,
): StorageHealth {
  const { store, logger } = deps;
  const now = deps.now ?? Date.now;
  const metrics = createStorageMetrics(deps.metrics);
  const min = Math.max(0, settings.minFreeBytes);
  // Hysteresis: leaving a state needs this much more than entering it.
  const margin = Math.max(MIB, Math.round(min / 10));
  const dirs = [settings.dataDir, ...(settings.otherDirs ?? [])].filter(
    (dir, i, all) => all.indexOf(dir) === i,
  );
  const intervalSeconds = Math.max(1, Math.round(settings.checkIntervalMs / 1000));
  const listeners = new Set<(snapshot: StorageSnapshot) => void>();

  let state: StorageState = 'ok';
  let cause: StorageCause | null = null;
  let since = now();
  let freeBytes: number | null = null;
  let shortDir = settings.dataDir;
  /** The code of the write failure that made the state full (SQLITE_FULL …). */
  let failureCode: string | undefined;
  let lastCheckError: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<StorageSnapshot> | undefined;
  let stopped = true;

  metrics.minFreeBytes.set(min);
  metrics.state.set(stateValue(state));

  function message(): string | null {
    const free = freeBytes === null ? 'unknown space' : mb(freeBytes);
    const resume = `writes resume on their own within ${intervalSeconds} s once ${mb(min + margin)} are free`;
    switch (cause) {
      case null:
        return null;
      case 'disk':
        return state === 'full'
          ? `only ${free} free on ${shortDir}, below the ${mb(min)} the server keeps free, so writes are refused; fix: free space on that file system (old backups, logs, other files) or enlarge it — ${resume}`
          : `${free} free on ${shortDir}, less than twice the ${mb(min)} the server keeps free; writes still work; fix: free space on that file system before it runs out`;
      case 'database':
        return state === 'full'
          ? `the database in ${shortDir} reached its size limit (${free} left under it, below ${mb(min)}), so writes are refused; fix: lift the limit (a restart of the server does) — writes resume on their own within ${intervalSeconds} s`
          : `the database in ${shortDir} is near its size limit (${free} left under it); fix: lift the limit before it is reached`;
      case 'write':
        return `a write failed for lack of room (${failureCode ?? 'disk full'}) with ${free} free on ${shortDir}, so writes are refused; fix: free space on that file system and check its quota and free inodes (df -h, df -i) — writes resume on their own once a test write succeeds (checked every ${intervalSeconds} s)`;
    }
  }

  function snapshot(): StorageSnapshot {
    return {
      state,
      freeBytes,
      minFreeBytes: min,
      since: new Date(since).toISOString(),
      dir: shortDir,
      cause,
      message: message(),
    };
  }

  function transition(next: StorageState, nextCause: StorageCause | null): void {
    const previous = state;
    cause = nextCause;
    if (next === previous) return;
    state = next;
    since = now();
    metrics.state.set(stateValue(next));
    const current = snapshot();
    const fields = { dir: shortDir, freeBytes, minFreeBytes: min, cause, code: failureCode };
    if (next === 'full') logger.error(fields, `storage full: ${current.message ?? ''}`);
    else if (next === 'low' && previous === 'ok') {
      logger.warn(fields, `storage low: ${current.message ?? ''}`);
    } else if (previous === 'full') {
      logger.info(fields, `storage recovered: writes are accepted again (${next})`);
    } else logger.info(fields, `storage ${next} again`);
    for (const listener of listeners) {
      try {
        listener(current);
      } catch (err) {
        logger.error({ err }, 'storage state listener failed');
      }
    }
  }

  /** A real write to each directory and to the database: only then is room proven. */
  async function probe(): Promise<string | null> {
    try {
      for (const dir of dirs) await probeDirectory(dir);
      await store.settings.set(PROBE_SETTING, new Date(now()).toISOString());
      return null;
    } catch (err) {
      return reasonOf(err);
    }
  }

  async function runCheck(): Promise<StorageSnapshot> {
    let disk: { dir: string; freeBytes: number };
    let headroom: number | null;
    try {
      disk = await leastFreeSpace(dirs);
      headroom = await store.capacity.headroomBytes();
    } catch (err) {
      // Cannot measure (the directory is gone, the store closed): keep the state, say so once.
      const reason = reasonOf(err);
      if (reason !== lastCheckError) logger.warn({ err: reason }, 'cannot check free storage');
      lastCheckError = reason;
      return snapshot();
    }
    lastCheckError = null;
    shortDir = disk.dir;
    const database = headroom !== null && headroom < disk.freeBytes;
    freeBytes = database && headroom !== null ? headroom : disk.freeBytes;
    metrics.freeBytes.set(freeBytes);
    const measured: StorageCause = database ? 'database' : 'disk';
    if (state === 'full') {
      if (freeBytes < min + margin) {
        // Still short: the cause stays a failed write unless the space says more.
        transition('full', cause === 'write' && freeBytes >= min ? 'write' : measured);
        return snapshot();
      }
      const failed = await probe();
      if (failed !== null) {
        logger.debug({ err: failed }, 'storage probe write failed; writes stay refused');
        return snapshot();
      }
      failureCode = undefined;
      transition(freeBytes < 2 * min ? 'low' : 'ok', freeBytes < 2 * min ? measured : null);
      return snapshot();
    }
    if (freeBytes < min) transition('full', measured);
    else if (freeBytes < 2 * min) transition('low', measured);
    else if (state === 'low' && freeBytes < 2 * min + margin) transition('low', measured);
    else transition('ok', null);
    return snapshot();
  }

  /** One check at a time; never rejects (a failing check keeps the state and is logged). */
  function check(): Promise<StorageSnapshot> {
    running ??= runCheck()
      .catch((err: unknown) => {
        logger.error({ err }, 'storage check failed');
        return snapshot();
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void check().finally(schedule);
    }, settings.checkIntervalMs);
    timer.unref();
  }

  function refusal(source: WriteSource, err?: unknown): CcError {
    metrics.refused.inc({ source });
    return new CcError(
      'STORAGE_FULL',
      message() ?? 'no room to write',
      { dir: shortDir },
      err === undefined ? undefined : { cause: err },
    );
  }

  return {
    state: () => state,
    snapshot,
    check,
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    assertWritable(source) {
      if (state === 'full') throw refusal(source);
    },

    reportFailure(err, source) {
      switch (classifyStorageFailure(err)) {
        case 'full':
          if (state !== 'full') {
            failureCode = storageFailureCode(err);
            transition('full', 'write');
          }
          return refusal(source, err);
        case 'io':
          // SQLite could not say whether the disk was full: the free space will.
          void check();
          return undefined;
        case null:
          return undefined;
      }
    },

    async start() {
      stopped = false;
      await check();
      schedule();
    },

    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
