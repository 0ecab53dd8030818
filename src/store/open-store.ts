// Picks the store implementation the configuration names and opens it, migrated and ready.

import { isAbsolute, resolve } from 'node:path';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { backupBeforeMigrate } from './backup/index.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface StoreConfig {
  driver: 'sqlite' | 'postgres';
  /** Relative to the data directory unless absolute. */
  sqliteFile: string;
  postgresUrl: string | null;
}

/** Opens the configured store and applies pending migrations (so `migrate()` after it is a no-op). */
export async function openStore(
  config: StoreConfig,
  dataDir: string,
  logger: Logger,
): Promise<Store> {
  switch (config.driver) {
    case 'sqlite': {
      const file = isAbsolute(config.sqliteFile)
        ? config.sqliteFile
        : resolve(dataDir, config.sqliteFile);
      // An upgrade that brings migrations first backs up the database it is about to change.
      await backupBeforeMigrate({ dbFile: file, dataDir, logger });
      const store = await createSqliteStore({ file, logger });
      try {
        await store.migrate();
      } catch (err) {
        await store.close();
        throw err;
      }
      return store;
    }
    case 'postgres':
      throw new CcError(
        'CONFIG_INVALID',
        'store.driver postgres is not available in this version; set store.driver to sqlite',
        { key: 'store.driver' },
      );
  }
}
