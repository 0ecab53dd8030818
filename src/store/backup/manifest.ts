// The backup directory's manifest: what a backup holds, at which schema level, and each file's
// SHA-256, so a restore can refuse a damaged or tampered copy before touching the data directory.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CcError } from '../../domain/index.js';

export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_FORMAT = 'command-center-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** The database's name inside a backup, whatever `store.sqliteFile` calls it. */
export const BACKUP_DB_FILE = 'command-center.db';

export interface BackupFileEntry {
  /** Relative to the backup directory, with `/` separators. */
  path: string;
  sha256: string;
  bytes: number;
  /** Permission bits to restore (e.g. 0o600 for keys). */
  mode: number;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  productVersion: string | null;
  createdAt: string;
  /** Names of the schema migrations applied to the database, oldest first. */
  migrations: string[];
  files: BackupFileEntry[];
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFileEntry(value: unknown): value is BackupFileEntry {
  return (
    isRecord(value) &&
    typeof value.path === 'string' &&
    // A manifest names files inside the backup only: no absolute paths, no way out with `..`.
    /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\0\\]+$/.test(value.path) &&
    typeof value.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(value.sha256) &&
    typeof value.bytes === 'number' &&
    typeof value.mode === 'number'
  );
}

/** Reads and validates `<dir>/manifest.json`. */
export async function readManifest(dir: string): Promise<BackupManifest> {
  const file = join(dir, MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CcError(
      'VALIDATION_FAILED',
      `${dir} is not a backup: cannot read ${file}: ${reason}`,
      {
        file,
      },
    );
  }
  if (
    !isRecord(parsed) ||
    parsed.format !== BACKUP_FORMAT ||
    typeof parsed.formatVersion !== 'number' ||
    typeof parsed.createdAt !== 'string' ||
    !Array.isArray(parsed.migrations) ||
    !parsed.migrations.every((m) => typeof m === 'string') ||
    !Array.isArray(parsed.files) ||
    !parsed.files.every(isFileEntry)
  ) {
    throw new CcError('VALIDATION_FAILED', `${file} is not a Command Center backup manifest`, {
      file,
    });
  }
  if (parsed.formatVersion > BACKUP_FORMAT_VERSION) {
    throw new CcError(
      'CONFLICT',
      `${dir} was written in backup format ${String(parsed.formatVersion)}, newer than this program reads (${String(BACKUP_FORMAT_VERSION)}): restore it with a newer Command Center`,
      { file },
    );
  }
  return parsed as unknown as BackupManifest;
}

/** Checks every file of the manifest against its hash; throws on the first mismatch. */
export async function verifyBackupFiles(dir: string, manifest: BackupManifest): Promise<void> {
  if (!manifest.files.some((f) => f.path === BACKUP_DB_FILE)) {
    throw new CcError('VALIDATION_FAILED', `the backup ${dir} holds no ${BACKUP_DB_FILE}`, { dir });
  }
  for (const entry of manifest.files) {
    const file = join(dir, entry.path);
    let actual: string;
    try {
      actual = await sha256File(file);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new CcError('VALIDATION_FAILED', `the backup ${dir} is incomplete: ${reason}`, {
        file,
      });
    }
    if (actual !== entry.sha256) {
      throw new CcError(
        'VALIDATION_FAILED',
        `the backup ${dir} is damaged or was modified: ${entry.path} does not match its SHA-256 in the manifest`,
        { file },
      );
    }
  }
}
