// Runs a list of compiled write statements as one transaction. This is the one place the dialects
// differ in how they write: PostgreSQL uses a Kysely transaction; SQLite runs the statements
// synchronously (see sqlite/sqlite-write-runner.ts) so a transaction never spans event-loop turns.

import type { CompiledQuery, Kysely } from 'kysely';

export type WriteRunner = (queries: readonly CompiledQuery[]) => Promise<void>;

export function kyselyWriteRunner<DB>(db: Kysely<DB>): WriteRunner {
  return async (queries) => {
    if (queries.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (const q of queries) await trx.executeQuery(q);
    });
  };
}
