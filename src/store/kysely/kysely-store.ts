// Builds a Store from any Kysely database that has the product's schema: the repositories and the
// batch writer are dialect-neutral, so SQLite and PostgreSQL differ only in how they connect.

import type { Kysely } from 'kysely';
import { CcError, isCcError } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import { migrateToLatest } from '../migrations/migrator.js';
import type { Store, StoreCapacity, WriteBatch } from '../store.js';
import {
  createApiTokenRepository,
  createDeviceCredentialRepository,
  createSessionRepository,
  createSettingRepository,
  createUserRepository,
} from './access-repositories.js';
import {
  createInviteRepository,
  createOrganizationRepository,
  createSiteRepository,
} from './account-repositories.js';
import { foldBatch } from './batch-merge.js';
import type { Database } from './database.js';
import { createFirmwareCatalogRepository } from './firmware-catalog-repository.js';
import {
  createAlertRepository,
  createConsumableRepository,
  createDeviceRepository,
  createJobRepository,
} from './fleet-repositories.js';
import { createMetricRepository } from './metric-repository.js';
import { createOutboxRepository } from './outbox-repository.js';
import {
  createAuditRepository,
  createCommandRepository,
  createRegistrationRepository,
} from './registry-repositories.js';
import { createRolloutRepository } from './rollout-repository.js';
import { createUplinkRepository } from './uplink-repositories.js';
import { kyselyWriteRunner, type WriteRunner } from './write-runner.js';
import {
  upsertAlerts,
  upsertConsumables,
  upsertDevices,
  upsertJobs,
  upsertMetricSamples,
} from './upserts.js';

export interface KyselyStoreOptions {
  db: Kysely<Database>;
  dialect: Store['dialect'];
  logger: Logger;
  /** Names the database in errors and logs (a file path, or a URL without its password). */
  where: string;
  /** How write transactions run; a Kysely transaction unless the dialect needs otherwise. */
  runWrites?: WriteRunner;
  /** Releases the connection(s); `db.destroy()` unless the dialect needs more. */
  destroy?: () => Promise<void>;
  /** The database's own size limit; none unless the dialect has one. */
  capacity?: StoreCapacity;
}

const UNLIMITED: StoreCapacity = {
  headroomBytes: () => Promise.resolve(null),
  limitSize: (bytes) =>
    bytes === null
      ? Promise.resolve(null)
      : Promise.reject(new CcError('STORE_FAILED', 'this store cannot cap its own size')),
};

function batchSize(b: WriteBatch): number {
  return (
    b.devices.length + b.jobs.length + b.alerts.length + b.consumables.length + b.metrics.length
  );
}

export function createKyselyStore(options: KyselyStoreOptions): Store {
  const { db, logger, where } = options;
  const runWrites = options.runWrites ?? kyselyWriteRunner(db);
  const destroy = options.destroy ?? (() => db.destroy());
  let closed = false;

  const checkOpen = () => {
    if (closed) throw new CcError('STORE_FAILED', `the store ${where} is closed`, { where });
  };

  return {
    dialect: options.dialect,
    capacity: options.capacity ?? UNLIMITED,

    async migrate() {
      checkOpen();
      await migrateToLatest(db, logger, where);
    },

    async applyBatch(batch) {
      checkOpen();
      if (batchSize(batch) === 0) return;
      const folded = foldBatch(batch);
      // Devices first: readers joining jobs or alerts to devices then never see an orphan.
      const queries = [
        ...upsertDevices(db, folded.devices),
        ...upsertJobs(db, folded.jobs),
        ...upsertAlerts(db, folded.alerts),
        ...upsertConsumables(db, folded.consumables),
        ...upsertMetricSamples(db, folded.metrics),
      ];
      try {
        await runWrites(queries);
      } catch (err) {
        if (isCcError(err)) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        throw new CcError(
          'STORE_FAILED',
          `cannot write a batch to ${where}: ${reason}`,
          { where },
          // Kept so a full disk (SQLITE_FULL) is still recognised behind the store's own error.
          { cause: err },
        );
      }
    },

    devices: createDeviceRepository(db, runWrites),
    jobs: createJobRepository(db),
    alerts: createAlertRepository(db),
    consumables: createConsumableRepository(db),
    metrics: createMetricRepository(db),
    deviceCredentials: createDeviceCredentialRepository(db),
    users: createUserRepository(db),
    sessions: createSessionRepository(db),
    apiTokens: createApiTokenRepository(db),
    settings: createSettingRepository(db),
    registrations: createRegistrationRepository(db),
    commands: createCommandRepository(db),
    audit: createAuditRepository(db),
    organization: createOrganizationRepository(db),
    sites: createSiteRepository(db),
    invites: createInviteRepository(db),
    uplink: createUplinkRepository(db, runWrites),
    outbox: createOutboxRepository(db, runWrites),
    firmware: createFirmwareCatalogRepository(db, runWrites),
    rollouts: createRolloutRepository(db, runWrites),

    async close() {
      if (closed) return;
      closed = true;
      await destroy();
    },
  };
}
