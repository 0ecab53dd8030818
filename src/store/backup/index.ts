// Backup and restore of the embedded SQLite store and the data-directory files that go with it.

export { createBackup, fileTimestamp, DATA_DIR_ENTRIES } from './create-backup.js';
export type { CreateBackupOptions } from './create-backup.js';
export { restoreBackup, assertDatabaseNotInUse } from './restore-backup.js';
export type { RestoreBackupOptions, RestoreResult } from './restore-backup.js';
export { backupBeforeMigrate, PRE_MIGRATE_KEEP } from './pre-migrate-backup.js';
export { readManifest, verifyBackupFiles, BACKUP_DB_FILE, MANIFEST_FILE } from './manifest.js';
export type { BackupManifest, BackupFileEntry } from './manifest.js';
