// Puts a backup back into a data directory: only when no server uses the database, only from a
// backup whose hashes match and whose schema this program knows; the current files are kept
// beside the restored ones (`<name>.before-restore-<ts>`), never deleted.

import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CcError } from '../../domain/index.js';
import { DATA_DIR_ENTRIES, fileTimestamp } from './create-backup.js';
import { pathExists, reasonOf } from './data-files.js';
import {
  BACKUP_DB_FILE,
  readManifest,
  verifyBackupFiles,
  type BackupManifest,
} from './manifest.js';
import { unknownMigrations } from './schema-level.js';

export interface RestoreBackupOptions {
  /** The backup directory. */
  from: string;
  /** Where the database goes (the configured `store.sqliteFile`). */
  dbFile: string;
  dataDir: string;
  /** Replace an existing database (it is still moved aside, not deleted). */
  force?: boolean;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** The files moved aside, as they are named now. */
  movedAside: string[];
}

/**
 * Throws when another connection has the database open. SQLite deletes the `-wal` file when the
 * last connection to a WAL database closes, so a `-wal` that outlives our own open-and-close
 * belongs to someone else; a write lock we cannot take means a writer right now.
 */
export function assertDatabaseNotInUse(dbFile: string): void {
  let probe: BetterSqlite3.Database;
  try {
    probe = new BetterSqlite3(dbFile, { fileMustExist: true });
  } catch (err) {
    throw new CcError('STORE_FAILED', `cannot open the database ${dbFile}: ${reasonOf(err)}`, {
      file: dbFile,
    });
  }
  let writing = false;
  try {
    probe.pragma('busy_timeout = 0');
    probe.prepare('select count(*) from sqlite_master').get();
    try {
      probe.exec('BEGIN EXCLUSIVE');
      probe.exec('ROLLBACK');
    } catch {
      writing = true;
    }
  } finally {
    probe.close();
  }
  if (writing || existsSync(`${dbFile}-wal`)) {
    throw new CcError(
      'CONFLICT',
      `the database ${dbFile} is in use by another process: stop the server (e.g. systemctl stop command-center) before restoring`,
      { file: dbFile },
    );
  }
}

/** Verifies the backup, then replaces the data directory's database and files with it. */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreResult> {
  const { from, dbFile, dataDir } = options;
  const manifest = await readManifest(from);
  await verifyBackupFiles(from, manifest);
  const unknown = unknownMigrations(manifest.migrations);
  if (unknown.length > 0) {
    throw new CcError(
      'CONFLICT',
      `the backup ${from} has a newer schema than this program knows (migrations ${unknown.join(', ')}): restore it with the Command Center version that wrote it${manifest.productVersion ? ` (${manifest.productVersion})` : ''} or newer`,
      { migrations: unknown },
    );
  }
  const dbExists = await pathExists(dbFile);
  if (dbExists) {
    assertDatabaseNotInUse(dbFile);
    if (!options.force) {
      throw new CcError(
        'CONFLICT',
        `${dbFile} exists: add --force to replace it (the current files are kept as *.before-restore-<time>)`,
        { file: dbFile },
      );
    }
  }

  const stamp = fileTimestamp();
  const restored = new Set(manifest.files.map((f) => f.path.split('/')[0]));
  const targets = [
    dbFile,
    `${dbFile}-wal`,
    `${dbFile}-shm`,
    ...DATA_DIR_ENTRIES.filter((name) => restored.has(name)).map((name) => join(dataDir, name)),
  ];
  const movedAside: string[] = [];
  try {
    for (const target of targets) {
      if (!(await pathExists(target))) continue;
      const aside = `${target}.before-restore-${stamp}`;
      await rename(target, aside);
      movedAside.push(aside);
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await mkdir(dirname(dbFile), { recursive: true, mode: 0o700 });
    for (const entry of manifest.files) {
      const source = join(from, entry.path);
      const dest = entry.path === BACKUP_DB_FILE ? dbFile : join(dataDir, entry.path);
      await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
      // Copied under a temporary name, then renamed: a crash leaves no half-written database.
      const temp = `${dest}.restoring`;
      await copyFile(source, temp);
      // Keys stay private whatever the backup says; other files keep their recorded mode.
      const secret = /(^|\/)secret\.key$|\.key$/.test(entry.path) || entry.path === BACKUP_DB_FILE;
      await chmod(temp, secret ? 0o600 : entry.mode & 0o755);
      await rename(temp, dest);
    }
  } catch (err) {
    throw new CcError(
      'STORE_FAILED',
      `restore into ${dataDir} failed: ${reasonOf(err)}${movedAside.length > 0 ? `; the previous files are kept as ${movedAside.join(', ')}` : ''}`,
      { dataDir },
    );
  }
  return { manifest, movedAside };
}
