// Runs write transactions synchronously on the better-sqlite3 connection, BEGIN IMMEDIATE to COMMIT
// in one call. An async transaction that awaits between statements would hold SQLite's write lock
// across event-loop turns: a second connection in the same process would then block the thread in
// its busy handler while the holder can never commit. Synchronous statements also skip the async
// driver's overhead, which matters on the ingest hot path.

import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import type { WriteRunner } from '../kysely/write-runner.js';

/** Enough for every distinct statement shape ingest produces; the cache is cleared when full. */
const STATEMENT_CACHE_SIZE = 200;

export function createSqliteWriteRunner(sqlite: BetterSqlite3.Database): WriteRunner {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const statement = (text: string): BetterSqlite3.Statement => {
    let prepared = cache.get(text);
    if (prepared === undefined) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
      prepared = sqlite.prepare(text);
      cache.set(text, prepared);
    }
    return prepared;
  };
  const runAll = sqlite.transaction((queries: readonly CompiledQuery[]) => {
    for (const q of queries) statement(q.sql).run(...q.parameters);
  });
  return (queries) =>
    new Promise<void>((resolve) => {
      if (queries.length > 0) runAll.immediate(queries);
      resolve();
    });
}
