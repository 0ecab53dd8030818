// Which schema migrations a SQLite database has had, read from Kysely's bookkeeping table.

import type BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from '../migrations/migrator.js';

/** Names of the applied migrations, oldest first; empty for a database never migrated. */
export function appliedMigrations(sqlite: BetterSqlite3.Database): string[] {
  const table = sqlite
    .prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'")
    .get();
  if (table === undefined) return [];
  const rows = sqlite.prepare('select name from kysely_migration order by name').all() as {
    name: string;
  }[];
  return rows.map((r) => r.name);
}

/** The applied migrations this program does not know: a schema newer than the code. */
export function unknownMigrations(applied: readonly string[]): string[] {
  const known = new Set(MIGRATIONS.map(([name]) => name));
  return applied.filter((name) => !known.has(name));
}

/** The migrations this program would apply to a database with `applied`. */
export function pendingMigrations(applied: readonly string[]): string[] {
  const done = new Set(applied);
  return MIGRATIONS.map(([name]) => name).filter((name) => !done.has(name));
}
