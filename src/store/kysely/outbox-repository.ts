// The outbox of sealed uplink reports: an ordered queue whose seqs are never reused, and the bound
// policy that keeps its disk use limited.

import { setTimeout } from 'node:timers/promises';
import type { Kysely, Selectable } from 'kysely';
import { CcError, isCcError } from '../../domain/index.js';
import { OUTBOX_SEQUENCE_ID, OUTBOX_SEQUENCE_REFUSAL } from '../migrations/005-uplink.js';
import { OUTBOX_KINDS, type OutboxItem, type OutboxKind, type OutboxRepository } from '../store.js';
import type { Database, OutboxTable } from './database.js';
import { checkPage, countOf } from './paging.js';
import { fromMs, fromMsOrNull, toNumber } from './time-columns.js';
import type { WriteRunner } from './write-runner.js';

/** Appends in one process never race (see `serialized`); this covers other connections. */
const APPEND_ATTEMPTS = 25;

function rowToItem(r: Selectable<OutboxTable>): OutboxItem {
  return {
    seq: toNumber(r.seq),
    kind: r.kind as OutboxKind,
    body: r.body,
    bytes: toNumber(r.bytes),
    createdAt: fromMs(r.created_at),
  };
}

function storeFailed(what: string, err: unknown): CcError {
  if (isCcError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new CcError('STORE_FAILED', `cannot ${what}: ${reason}`);
}

function checkCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CcError('VALIDATION_FAILED', `${field} must be a non-negative integer`, { field });
  }
  return value;
}

/** Runs tasks one after another, so appends in one process never race each other for a seq. */
function serialized(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}

interface DropPlan {
  /** Every periodic item with seq <= this goes (0: none). */
  periodicThrough: number;
  criticalThrough: number;
  /** Items bigger than the byte bound by themselves, beyond the two ranges. */
  oversized: number[];
  dropped: number;
  droppedBytes: number;
  criticalDropped: number;
}

/** The bound policy, on the items oldest first; see OutboxRepository.dropForBound. */
function planDrop(
  items: readonly { seq: number; kind: string; bytes: number }[],
  maxBytes: number,
  maxItems: number,
): DropPlan {
  const plan: DropPlan = {
    periodicThrough: 0,
    criticalThrough: 0,
    oversized: [],
    dropped: 0,
    droppedBytes: 0,
    criticalDropped: 0,
  };
  let count = items.length;
  let bytes = items.reduce((sum, i) => sum + i.bytes, 0);
  const gone = new Set<number>();
  const take = (item: (typeof items)[number]) => {
    gone.add(item.seq);
    count -= 1;
    bytes -= item.bytes;
    plan.dropped += 1;
    plan.droppedBytes += item.bytes;
    if (item.kind !== 'periodic') plan.criticalDropped += 1;
  };
  const over = () => count > maxItems || bytes > maxBytes;

  for (const item of items) {
    if (item.bytes > maxBytes) {
      take(item);
      plan.oversized.push(item.seq);
    }
  }
  for (const kind of ['periodic', 'critical'] as const) {
    for (const item of items) {
      if (!over()) break;
      if (item.kind !== kind || gone.has(item.seq)) continue;
      take(item);
      if (kind === 'periodic') plan.periodicThrough = item.seq;
      else plan.criticalThrough = item.seq;
    }
  }
  return plan;
}

export function createOutboxRepository(
  db: Kysely<Database>,
  runWrites: WriteRunner,
): OutboxRepository {
  const oneAtATime = serialized();

  const lastSeq = async (): Promise<number> => {
    const r = await db
      .selectFrom('outbox_sequence')
      .select('last_seq')
      .where('id', '=', OUTBOX_SEQUENCE_ID)
      .executeTakeFirst();
    if (r === undefined) {
      throw new CcError('STORE_FAILED', 'the outbox sequence is missing from the database');
    }
    return toNumber(r.last_seq);
  };

  const appendOnce = async (
    build: Parameters<OutboxRepository['append']>[0],
    createdAt: number,
  ): Promise<{ seq: number; bytes: number } | 'lost-race'> => {
    const seq = (await lastSeq()) + 1;
    const { kind, body } = build(seq);
    if (!(OUTBOX_KINDS as readonly string[]).includes(kind)) {
      throw new CcError('VALIDATION_FAILED', `unknown outbox item kind ${kind}`);
    }
    const bytes = Buffer.byteLength(body, 'utf8');
    // The trigger on outbox_sequence refuses any step but +1, so if another connection took this
    // seq since it was read, the update fails and nothing is written. The seq inserted is read back
    // from the counter: a missing counter row makes it NULL and the insert fails too.
    const advance = db
      .updateTable('outbox_sequence')
      .set({ last_seq: seq })
      .where('id', '=', OUTBOX_SEQUENCE_ID);
    const counter = db
      .selectFrom('outbox_sequence')
      .select('last_seq')
      .where('id', '=', OUTBOX_SEQUENCE_ID)
      .where('last_seq', '=', seq);
    const insert = db.insertInto('outbox').values({
      seq: (eb) => eb.cast<number>(counter, 'bigint'),
      kind,
      body,
      bytes,
      created_at: createdAt,
    });
    try {
      await runWrites([advance.compile(), insert.compile()]);
    } catch (err) {
      if (err instanceof Error && err.message.includes(OUTBOX_SEQUENCE_REFUSAL)) return 'lost-race';
      throw storeFailed('append to the outbox', err);
    }
    return { seq, bytes };
  };

  return {
    append(build, at) {
      const createdAt = at.getTime();
      if (!Number.isFinite(createdAt)) {
        return Promise.reject(new CcError('VALIDATION_FAILED', 'at is not a valid time'));
      }
      return oneAtATime(async () => {
        for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
          const done = await appendOnce(build, createdAt);
          if (done !== 'lost-race') return done;
          // A random pause breaks the lockstep in which the same connection would win every time.
          await setTimeout(Math.random() * 2 * attempt);
        }
        throw new CcError(
          'STORE_FAILED',
          `cannot append to the outbox: lost the race for the next seq ${APPEND_ATTEMPTS} times`,
        );
      });
    },
    async peek(limit) {
      const { limit: n } = checkPage({ limit, offset: 0 });
      const rows = await db.selectFrom('outbox').selectAll().orderBy('seq').limit(n).execute();
      return rows.map(rowToItem);
    },
    async remove(seq) {
      const r = await db.deleteFrom('outbox').where('seq', '=', seq).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async stats() {
      const r = await db
        .selectFrom('outbox')
        .select((eb) => [
          eb.fn.countAll().as('n'),
          eb.fn.sum<number | string | null>('bytes').as('bytes'),
          eb.fn.min<number | string | null>('created_at').as('oldest'),
          eb.fn
            .sum<number | string | null>(
              eb.case().when('kind', '=', 'critical').then(1).else(0).end(),
            )
            .as('critical'),
        ])
        .executeTakeFirst();
      return {
        count: countOf(r),
        bytes: r?.bytes == null ? 0 : toNumber(r.bytes),
        oldestAt: fromMsOrNull(r?.oldest ?? null),
        criticalCount: r?.critical == null ? 0 : toNumber(r.critical),
      };
    },
    async count() {
      // Answered from the primary key index alone, without reading the bodies.
      return countOf(
        await db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst(),
      );
    },
    async dropForBound(maxBytes, maxItems) {
      checkCount(maxBytes, 'maxBytes');
      checkCount(maxItems, 'maxItems');
      // Called after every append: the usual answer (within bounds) costs one aggregate query.
      const totals = await db
        .selectFrom('outbox')
        .select((eb) => [
          eb.fn.countAll().as('n'),
          eb.fn.sum<number | string | null>('bytes').as('bytes'),
        ])
        .executeTakeFirst();
      const totalBytes = totals?.bytes == null ? 0 : toNumber(totals.bytes);
      if (countOf(totals) <= maxItems && totalBytes <= maxBytes) {
        return { dropped: 0, droppedBytes: 0, criticalDropped: 0 };
      }
      const rows = await db
        .selectFrom('outbox')
        .select(['seq', 'kind', 'bytes'])
        .orderBy('seq')
        .execute();
      const items = rows.map((r) => ({
        seq: toNumber(r.seq),
        kind: r.kind,
        bytes: toNumber(r.bytes),
      }));
      const plan = planDrop(items, maxBytes, maxItems);
      if (plan.dropped === 0) return { dropped: 0, droppedBytes: 0, criticalDropped: 0 };
      // Ranges, not one statement per item: items appended meanwhile have higher seqs and stay.
      const range = (kind: OutboxKind, through: number) =>
        db.deleteFrom('outbox').where('kind', '=', kind).where('seq', '<=', through).compile();
      await runWrites([
        ...(plan.periodicThrough > 0 ? [range('periodic', plan.periodicThrough)] : []),
        ...(plan.criticalThrough > 0 ? [range('critical', plan.criticalThrough)] : []),
        ...plan.oversized.map((seq) => db.deleteFrom('outbox').where('seq', '=', seq).compile()),
      ]);
      const { dropped, droppedBytes, criticalDropped } = plan;
      return { dropped, droppedBytes, criticalDropped };
    },
    async clear() {
      const r = await db.deleteFrom('outbox').executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    lastSeq,
  };
}
