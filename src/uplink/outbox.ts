// The uplink outbox: sealed reports wait on disk, in seq order, until the cloud takes them, so none
// is lost to a restart, an outage or a kill -9 (DESIGN §5). Disk use is bounded, with a stated
// policy: an item bigger than the byte bound is dropped (it can never fit), then the oldest
// periodic reports, and critical reports only when they alone exceed a bound — oldest first. Every
// drop is logged, counted and reported to `onDrop` so the server can raise an alert. No network
// code here: the sender and the scheduler hand in `send`.

import { Counter, Gauge, type Registry } from 'prom-client';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { StorageGate } from '../storage-health/index.js';
import type {
  OutboxDropResult,
  OutboxItem,
  OutboxKind,
  OutboxStats,
  Store,
} from '../store/index.js';

export interface OutboxLimits {
  maxBytes: number;
  maxItems: number;
}

export interface OutboxMetrics {
  dropped(count: number, kind: OutboxKind): void;
  delivered?(count: number): void;
  rejected?(count: number): void;
  /** Gives the reader of the number of waiting reports, read at each scrape. */
  watchDepth?(read: () => Promise<number | undefined>): void;
}

/** What `onDrop` hears: what was dropped, and the bound that made it necessary. */
export interface OutboxDrop extends OutboxDropResult {
  periodicDropped: number;
  limits: OutboxLimits;
}

export interface OutboxDeps {
  store: Pick<Store, 'outbox'>;
  logger: Logger;
  metrics?: OutboxMetrics;
  /** Called after reports were dropped to respect the bound; errors it throws are logged only. */
  onDrop?: (info: OutboxDrop) => void;
  /** The clock that stamps items; tests set it. */
  now?: () => Date;
  /**
   * Refuses reports while the data directory is full (counted as refused uplink writes; a periodic
   * report is produced afresh later), and hears of appends that failed for lack of room.
   */
  storage?: StorageGate;
}

/**
 * How the cloud answered one item: `delivered` (accepted), `retry` (a transient failure: try this
 * item again later, before any newer one), `reject` (refused for good: sending it again is useless).
 */
export type SendOutcome = 'delivered' | 'retry' | 'reject';

export interface DrainOptions {
  /** Items sent at most in this drain (delivered and rejected alike). */
  maxItems: number;
  signal?: AbortSignal;
}

export interface DrainResult {
  delivered: number;
  rejected: number;
  stoppedBy: 'retry' | 'limit' | 'empty' | 'aborted';
}

export interface OutboxStatus extends OutboxStats {
  limits: OutboxLimits;
}

export interface Outbox {
  /**
   * Stores a report sealed for its seq, then enforces the bound (which may drop older reports, or
   * this one if it is bigger than the byte bound). Resolves once the report is durable.
   */
  enqueue(
    kind: OutboxKind,
    seal: (seq: number) => string,
  ): Promise<{ seq: number; bytes: number; dropped: OutboxDropResult }>;
  /**
   * Sends waiting items oldest first, one at a time; stops at the first `retry`, so order is kept.
   * A `reject` removes the item and goes on. A `send` that throws stops the drain with its error and
   * the item stays first, unless the signal was aborted (then the drain ends as `aborted`). Drains
   * run one after another, never two at once.
   */
  drain(
    send: (item: OutboxItem) => Promise<SendOutcome>,
    options: DrainOptions,
  ): Promise<DrainResult>;
  /** Applies the bound now (e.g. at start-up, when the configured limits may have shrunk). */
  enforceBound(): Promise<OutboxDropResult>;
  stats(): Promise<OutboxStatus>;
  /** Removes every waiting report (un-enrollment); seqs already used stay used. */
  clear(): Promise<number>;
}

function checkLimit(value: number, field: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CcError('VALIDATION_FAILED', `${field} must be an integer of at least ${min}`, {
      field,
      value,
    });
  }
  return value;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NOTHING_DROPPED: OutboxDropResult = Object.freeze({
  dropped: 0,
  droppedBytes: 0,
  criticalDropped: 0,
});

export function createOutbox(deps: OutboxDeps, limits: OutboxLimits): Outbox {
  const { store, logger, metrics, onDrop } = deps;
  const now = deps.now ?? (() => new Date());
  const bound: OutboxLimits = Object.freeze({
    maxBytes: checkLimit(limits.maxBytes, 'maxBytes', 1),
    maxItems: checkLimit(limits.maxItems, 'maxItems', 1),
  });
  let drainTail: Promise<unknown> = Promise.resolve();

  metrics?.watchDepth?.(async () => {
    try {
      return await store.outbox.count();
    } catch (err) {
      // A failed read must not fail the whole scrape (e.g. while the store closes at shutdown).
      logger.debug({ err: reasonOf(err) }, 'cannot read the outbox depth for metrics');
      return undefined;
    }
  });

  const enforceBound = async (): Promise<OutboxDropResult> => {
    const result = await store.outbox.dropForBound(bound.maxBytes, bound.maxItems);
    if (result.dropped === 0) return result;
    const periodicDropped = result.dropped - result.criticalDropped;
    logger.warn(
      { ...result, periodicDropped, ...bound },
      result.criticalDropped > 0
        ? 'outbox over its bound: dropped the oldest reports, critical ones included'
        : 'outbox over its bound: dropped the oldest periodic reports',
    );
    if (periodicDropped > 0) metrics?.dropped(periodicDropped, 'periodic');
    if (result.criticalDropped > 0) metrics?.dropped(result.criticalDropped, 'critical');
    try {
      onDrop?.({ ...result, periodicDropped, limits: bound });
    } catch (err) {
      logger.error({ err: reasonOf(err) }, 'the outbox drop listener failed');
    }
    return result;
  };

  const drainNow = async (
    send: (item: OutboxItem) => Promise<SendOutcome>,
    options: DrainOptions,
  ): Promise<DrainResult> => {
    const { signal } = options;
    let delivered = 0;
    let rejected = 0;
    const stop = (stoppedBy: DrainResult['stoppedBy']): DrainResult => ({
      delivered,
      rejected,
      stoppedBy,
    });
    for (;;) {
      if (signal?.aborted) return stop('aborted');
      if (delivered + rejected >= options.maxItems) return stop('limit');
      // One item per read: a report dropped for the bound while an earlier one was in flight is
      // never sent afterwards.
      const [item] = await store.outbox.peek(1);
      if (item === undefined) return stop('empty');
      let outcome: SendOutcome;
      try {
        outcome = await send(item);
      } catch (err) {
        if (signal?.aborted) return stop('aborted');
        throw err;
      }
      switch (outcome) {
        case 'delivered':
          await store.outbox.remove(item.seq);
          delivered += 1;
          metrics?.delivered?.(1);
          break;
        case 'reject':
          await store.outbox.remove(item.seq);
          rejected += 1;
          metrics?.rejected?.(1);
          logger.warn(
            { seq: item.seq, kind: item.kind, bytes: item.bytes },
            'the cloud refused an uplink report for good: removed from the outbox',
          );
          break;
        case 'retry':
          return stop('retry');
        default:
          throw new CcError('INTERNAL', `unknown send outcome ${String(outcome satisfies never)}`);
      }
    }
  };

  return {
    async enqueue(kind, seal) {
      deps.storage?.assertWritable('uplink');
      const { seq, bytes } = await store.outbox
        .append((s) => ({ kind, body: seal(s) }), now())
        .catch((err: unknown) => {
          throw deps.storage?.reportFailure(err, 'uplink') ?? err;
        });
      if (bytes > bound.maxBytes) {
        logger.warn(
          { seq, kind, bytes, maxBytes: bound.maxBytes },
          'an uplink report is bigger than the whole outbox bound: it is dropped',
        );
      }
      let dropped: OutboxDropResult = NOTHING_DROPPED;
      try {
        dropped = await enforceBound();
      } catch (err) {
        // The report is stored: failing here would make the caller enqueue it twice. The bound is
        // enforced again on the next enqueue.
        logger.error({ err: reasonOf(err), seq }, 'cannot enforce the outbox bound');
      }
      return { seq, bytes, dropped };
    },

    drain(send, options) {
      checkLimit(options.maxItems, 'maxItems', 0);
      const run = drainTail.then(() => drainNow(send, options));
      drainTail = run.catch(() => undefined);
      return run;
    },

    enforceBound,

    async stats() {
      return { ...(await store.outbox.stats()), limits: bound };
    },

    async clear() {
      const removed = await store.outbox.clear();
      if (removed > 0) logger.info({ removed }, 'cleared the uplink outbox');
      return removed;
    },
  };
}

/** Prometheus metrics of an outbox, registered on the server's registry. */
export function createOutboxMetrics(registry: Registry): OutboxMetrics {
  let readDepth: (() => Promise<number | undefined>) | undefined;
  new Gauge({
    name: 'cc_uplink_outbox_depth',
    help: 'Sealed uplink reports waiting in the outbox to be sent to the cloud.',
    registers: [registry],
    async collect() {
      const depth = await readDepth?.();
      // Unreadable: the last value read stays.
      if (depth !== undefined) this.set(depth);
    },
  });
  const dropped = new Counter({
    name: 'cc_uplink_outbox_dropped_total',
    help: 'Sealed uplink reports dropped to keep the outbox within its bound, by kind.',
    labelNames: ['kind'],
    registers: [registry],
  });
  const delivered = new Counter({
    name: 'cc_uplink_outbox_delivered_total',
    help: 'Sealed uplink reports the cloud accepted and the outbox removed.',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'cc_uplink_outbox_rejected_total',
    help: 'Sealed uplink reports the cloud refused for good and the outbox removed.',
    registers: [registry],
  });
  return {
    dropped: (count, kind) => dropped.inc({ kind }, count),
    delivered: (count) => delivered.inc(count),
    rejected: (count) => rejected.inc(count),
    watchDepth: (read) => {
      readDepth = read;
    },
  };
}
