// Before an upgrade migrates an existing database, a backup of it: a failed or unwanted upgrade
// can be rolled back with `command-center restore`. The last few are kept.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../observability/index.js';
import { MIGRATIONS } from '../migrations/migrator.js';
import { createBackup, fileTimestamp } from './create-backup.js';
import { pathExists } from './data-files.js';
import { appliedMigrations, pendingMigrations } from './schema-level.js';

export const PRE_MIGRATE_PREFIX = 'pre-migrate-';
export const PRE_MIGRATE_KEEP = 5;

export interface PreMigrateBackupOptions {
  dbFile: string;
  dataDir: string;
  logger: Logger;
  /** How many pre-migration backups to keep (default 5). */
  keep?: number;
}

function readApplied(dbFile: string): string[] {
  const sqlite = new BetterSqlite3(dbFile, { fileMustExist: true });
  try {
    sqlite.pragma('busy_timeout = 5000');
    return appliedMigrations(sqlite);
  } finally {
    sqlite.close();
  }
}

/**
 * Backs up the database when it has been migrated before and migrations are pending; a new or
 * never-migrated database has nothing to lose. Returns the backup directory, or null.
 */
export async function backupBeforeMigrate(
  options: PreMigrateBackupOptions,
): Promise<string | null> {
  const { dbFile, dataDir, logger } = options;
  if (!(await pathExists(dbFile))) return null;
  const applied = readApplied(dbFile);
  if (applied.length === 0 || pendingMigrations(applied).length === 0) return null;
  const from = applied.length;
  const to = MIGRATIONS.length;
  const backups = join(dataDir, 'backups');
  const outDir = join(backups, `${PRE_MIGRATE_PREFIX}${from}-to-${to}-${fileTimestamp()}`);
  logger.info({ from, to, backup: outDir }, 'backing up the database before migrating it');
  await createBackup({ dbFile, dataDir, outDir });
  logger.info({ backup: outDir }, 'wrote the pre-migration backup');
  await prunePreMigrateBackups(backups, options.keep ?? PRE_MIGRATE_KEEP, logger);
  return outDir;
}

async function prunePreMigrateBackups(dir: string, keep: number, logger: Logger): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  // Names end with a UTC timestamp after the levels; sort by that, oldest first.
  const stampOf = (name: string): string => name.slice(name.lastIndexOf('-') + 1);
  const backups = entries
    .filter((e) => e.isDirectory() && e.name.startsWith(PRE_MIGRATE_PREFIX))
    .filter((e) => !e.name.endsWith('.partial'))
    .map((e) => e.name)
    .sort((a, b) => stampOf(a).localeCompare(stampOf(b)) || a.localeCompare(b));
  for (const name of backups.slice(0, Math.max(0, backups.length - keep))) {
    await rm(join(dir, name), { recursive: true, force: true });
    logger.info({ backup: join(dir, name) }, 'removed an old pre-migration backup');
  }
}
