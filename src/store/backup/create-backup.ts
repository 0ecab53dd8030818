// Writes a consistent online backup of the data directory: the SQLite database through SQLite's
// backup API (safe while the server writes), plus the small files that make the database usable —
// `secret.key` opens the sealed secrets, `tls/` keeps the certificate devices pinned, `ports.json`
// keeps the ports clients remember.

import { chmod, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CcError } from '../../domain/index.js';
import {
  BACKUP_DB_FILE,
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  MANIFEST_FILE,
  sha256File,
  type BackupFileEntry,
  type BackupManifest,
} from './manifest.js';
import { listFiles, pathExists, reasonOf } from './data-files.js';
import { appliedMigrations } from './schema-level.js';

/** Files and directories of the data directory that go with the database, if present. */
export const DATA_DIR_ENTRIES = ['secret.key', 'ports.json', 'tls'] as const;

export interface CreateBackupOptions {
  /** The live database file. */
  dbFile: string;
  dataDir: string;
  /** The backup directory to create; must not exist. */
  outDir: string;
  productVersion?: string;
  /** Called as pages are copied. */
  onProgress?: (copiedPages: number, totalPages: number) => void;
  /** Pages copied per step (each step runs between other work of the event loop). */
  pagesPerStep?: number;
}

/** A timestamp usable in a file name: 20250314T101500Z. */
export function fileTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function copyDatabase(options: CreateBackupOptions, dest: string): Promise<string[]> {
  let source: BetterSqlite3.Database;
  try {
    source = new BetterSqlite3(options.dbFile, { fileMustExist: true });
  } catch (err) {
    throw new CcError(
      'STORE_FAILED',
      `cannot open the database ${options.dbFile} to back it up: ${reasonOf(err)}`,
      { file: options.dbFile },
    );
  }
  try {
    source.pragma('busy_timeout = 5000');
    const step = options.pagesPerStep ?? 256;
    let lastRemaining = Number.POSITIVE_INFINITY;
    let restarted = false;
    await source.backup(dest, {
      progress: ({ totalPages, remainingPages }) => {
        // Another connection's write restarts a step-wise backup; under a steady stream of writes
        // it could restart forever, so after the first restart copy the rest in one step (a
        // single read transaction: WAL readers do not block the writers).
        if (remainingPages > lastRemaining) restarted = true;
        lastRemaining = remainingPages;
        options.onProgress?.(totalPages - remainingPages, totalPages);
        return restarted ? 0x7fffffff : step;
      },
    });
    const copy = new BetterSqlite3(dest, { fileMustExist: true });
    try {
      const check: unknown = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        throw new CcError('STORE_FAILED', `the backup copy of ${options.dbFile} fails its check`, {
          check,
        });
      }
      const total = copy.pragma('page_count', { simple: true }) as number;
      options.onProgress?.(total, total);
      // A self-contained single file: no -wal beside it, whatever mode the source uses.
      copy.pragma('journal_mode = DELETE');
      return appliedMigrations(copy);
    } finally {
      copy.close();
    }
  } catch (err) {
    if (err instanceof CcError) throw err;
    throw new CcError('STORE_FAILED', `cannot back up ${options.dbFile}: ${reasonOf(err)}`, {
      file: options.dbFile,
    });
  } finally {
    source.close();
  }
}

async function describe(dir: string, path: string): Promise<BackupFileEntry> {
  const file = join(dir, path);
  const info = await stat(file);
  return { path, sha256: await sha256File(file), bytes: info.size, mode: info.mode & 0o777 };
}

/** Writes the backup directory and returns its manifest. */
export async function createBackup(options: CreateBackupOptions): Promise<BackupManifest> {
  const { outDir, dataDir } = options;
  if (await pathExists(outDir)) {
    throw new CcError('CONFLICT', `${outDir} exists already: choose another --out`, {
      dir: outDir,
    });
  }
  // Written under a temporary name and renamed at the end: a directory named like a backup is a
  // complete one.
  const work = `${outDir}.partial`;
  await rm(work, { recursive: true, force: true });
  try {
    await mkdir(work, { recursive: true, mode: 0o700 });
    const migrations = await copyDatabase(options, join(work, BACKUP_DB_FILE));
    await chmod(join(work, BACKUP_DB_FILE), 0o600);
    for (const name of DATA_DIR_ENTRIES) {
      const from = join(dataDir, name);
      if (await pathExists(from))
        await cp(from, join(work, name), { recursive: true, preserveTimestamps: true });
    }
    const paths = [BACKUP_DB_FILE, ...(await listFiles(work)).filter((p) => p !== BACKUP_DB_FILE)];
    const files: BackupFileEntry[] = [];
    for (const path of paths) files.push(await describe(work, path));
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      productVersion: options.productVersion ?? null,
      createdAt: new Date().toISOString(),
      migrations,
      files,
    };
    await writeFile(join(work, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o600,
    });
    await rename(work, outDir);
    return manifest;
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    if (err instanceof CcError) throw err;
    throw new CcError('STORE_FAILED', `cannot write the backup ${outDir}: ${reasonOf(err)}`, {
      dir: outDir,
    });
  }
}
