// The embedded store: one SQLite file opened with better-sqlite3, queried through Kysely.
//
// Durability: WAL mode with synchronous=NORMAL (the default here) makes a committed transaction
// survive a crash or `kill -9` of the process — the WAL is in the OS page cache and is replayed on
// the next open — but the last transactions may be lost if the machine loses power before the OS
// flushes the WAL. synchronous=FULL fsyncs the WAL on every commit, which also survives power loss
// at the cost of one fsync per batch (ingest groups writes into batches to keep that affordable).

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { CcError } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import type { Database } from '../kysely/database.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import type { Store } from '../store.js';
import { createSqliteCapacity } from './sqlite-capacity.js';
import { createSqliteWriteRunner } from './sqlite-write-runner.js';

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  logger: Logger;
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another connection's write lock before failing, in ms. */
  busyTimeoutMs?: number;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function openFile(options: SqliteStoreOptions): BetterSqlite3.Database {
  const { file } = options;
  let sqlite: BetterSqlite3.Database | undefined;
  try {
    sqlite = new BetterSqlite3(file);
    // The first statement reads the header: a file that is not a database fails here, not later.
    const mode: unknown = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      options.logger.warn({ file, mode }, 'SQLite could not switch to WAL mode');
    }
    sqlite.pragma(`busy_timeout = ${String(options.busyTimeoutMs ?? 5000)}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    sqlite.prepare('select count(*) from sqlite_master').get();
    return sqlite;
  } catch (err) {
    sqlite?.close();
    throw new CcError('STORE_FAILED', `cannot open the database file ${file}: ${reasonOf(err)}`, {
      file,
    });
  }
}

/** Opens (creating when needed) the SQLite database; call `migrate()` before using it. */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { file, logger } = options;
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (err) {
    throw new CcError(
      'STORE_FAILED',
      `cannot create the directory of the database file ${file}: ${reasonOf(err)}`,
      { file },
    );
  }
  const sqlite = openFile(options);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  logger.debug({ file, synchronous: options.synchronous ?? 'NORMAL' }, 'opened SQLite store');
  return createKyselyStore({
    db,
    dialect: 'sqlite',
    logger,
    where: file,
    runWrites: createSqliteWriteRunner(sqlite),
    capacity: createSqliteCapacity(sqlite),
    destroy: async () => {
      // Kysely closes the connection only if it ever ran a query through it.
      await db.destroy();
      if (sqlite.open) sqlite.close();
    },
  });
}
