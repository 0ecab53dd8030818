// Runs the schema migrations, listed in code (no directory scan) so they ship inside the build.
// Kysely records applied migrations in `kysely_migration`; running again applies only new ones.

import { inspect } from 'node:util';
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { CcError } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import { initialMigration } from './001-initial.js';
import { deviceRegistryMigration } from './002-device-registry.js';
import { tokenScopeMigration } from './003-token-scope.js';
import { accountsMigration } from './004-accounts.js';
import { uplinkMigration } from './005-uplink.js';
import { firmwareMigration } from './006-firmware.js';

/** Ordered by name; never rename or edit a released migration — add a new one. */
export const MIGRATIONS: readonly (readonly [string, Migration])[] = [
  ['001_initial', initialMigration],
  ['002_device_registry', deviceRegistryMigration],
  ['003_token_scope', tokenScopeMigration],
  ['004_accounts', accountsMigration],
  ['005_uplink', uplinkMigration],
  ['006_firmware', firmwareMigration],
];

const provider: MigrationProvider = {
  getMigrations: () => Promise.resolve(Object.fromEntries(MIGRATIONS)),
};

/** Applies pending migrations; returns the names of those applied now. */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  logger: Logger,
  where: string,
): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  for (const name of applied) logger.info({ migration: name }, 'applied store migration');
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new CcError(
      'STORE_FAILED',
      `cannot migrate the database ${where}${failed ? ` (migration ${failed})` : ''}: ${reason}`,
      { where, migration: failed },
    );
  }
  return applied;
}
