// `command-center backup` and `restore`: a consistent online backup of the data directory (the
// SQLite database through SQLite's backup API, plus secret.key, tls/ and ports.json), and its
// verified restore into a stopped server's data directory.

import { isAbsolute, join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig, type AppConfig } from '../../config/index.js';
import { CcError } from '../../domain/index.js';
import { createBackup, fileTimestamp, restoreBackup } from '../../store/backup/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { productVersion } from '../version.js';

interface BackupOptions extends ConfigOptions {
  out?: string;
}

interface RestoreOptions extends ConfigOptions {
  from: string;
  force?: boolean;
}

export function registerBackupCommands(program: Command): void {
  addConfigOptions(
    program
      .command('backup')
      .description('back up the database and key files while the server runs')
      .option(
        '-o, --out <dir>',
        'backup directory to create; default <dataDir>/backups/backup-<time>',
      ),
  ).action(async (options: BackupOptions) => {
    await runBackup(options);
  });
  addConfigOptions(
    program
      .command('restore')
      .description('restore a backup into the data directory of a stopped server')
      .requiredOption('--from <dir>', 'backup directory written by `command-center backup`')
      .option('--force', 'replace an existing database (the current files are kept aside)'),
  ).action(async (options: RestoreOptions) => {
    await runRestore(options);
  });
}

function storeLocation(options: ConfigOptions): { dataDir: string; dbFile: string } {
  const { config }: { config: AppConfig } = loadConfig({
    file: options.config,
    env: process.env,
    overrides: options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  });
  if (config.store.driver !== 'sqlite') {
    throw new CcError(
      'CONFIG_INVALID',
      'backup and restore cover the embedded SQLite store; back up PostgreSQL with pg_dump',
      { key: 'store.driver' },
    );
  }
  const dataDir = resolve(config.dataDir);
  const { sqliteFile } = config.store;
  return { dataDir, dbFile: isAbsolute(sqliteFile) ? sqliteFile : resolve(dataDir, sqliteFile) };
}

/** A progress bar on standard error, on a terminal only. */
function pageProgress(): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  let bar: SingleBar | null = null;
  return {
    update(done, total) {
      if (bar === null) {
        bar = new SingleBar(
          {
            format: 'database [{bar}] {percentage}% | {value}/{total} pages',
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(total, done);
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

async function runBackup(options: BackupOptions): Promise<void> {
  const { dataDir, dbFile } = storeLocation(options);
  const outDir = resolve(options.out ?? join(dataDir, 'backups', `backup-${fileTimestamp()}`));
  const progress = pageProgress();
  let manifest;
  try {
    manifest = await createBackup({
      dbFile,
      dataDir,
      outDir,
      productVersion: productVersion(),
      onProgress: (done, total) => {
        progress.update(done, total);
      },
    });
  } finally {
    progress.stop();
  }
  const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  process.stderr.write(
    `backed up ${dbFile} (schema ${String(manifest.migrations.length)}) and ${String(manifest.files.length - 1)} other file(s), ${String(bytes)} bytes\n`,
  );
  if (!manifest.files.some((f) => f.path === 'secret.key')) {
    process.stderr.write(
      `warning: ${join(dataDir, 'secret.key')} not found; it is not in the backup\n`,
    );
  }
  process.stdout.write(`${outDir}\n`);
}

async function runRestore(options: RestoreOptions): Promise<void> {
  const { dataDir, dbFile } = storeLocation(options);
  const from = resolve(options.from);
  const result = await restoreBackup({ from, dbFile, dataDir, force: options.force === true });
  process.stdout.write(
    `restored ${from} (created ${result.manifest.createdAt}, schema ${String(result.manifest.migrations.length)}) into ${dataDir}\n`,
  );
  for (const aside of result.movedAside) process.stdout.write(`  previous file kept as ${aside}\n`);
}
