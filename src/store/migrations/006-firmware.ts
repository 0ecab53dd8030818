// Firmware: the catalog of verified packages the server keeps, and staged rollouts with each
// device's place and progress in them.
//
// Two rules live in the database itself, so that racing writers cannot break them on either dialect:
// - an unfinished rollout holds its package: `rollouts.active_package_id` equals `package_id` while
//   the rollout is running or paused (a CHECK ties it to the state) and NULL once it is finished,
//   and it is a foreign key, so removing a package an unfinished rollout uses fails. `package_id`
//   itself has no foreign key: finished rollouts keep the id as history after the package is gone.
// - a device is in at most one unfinished rollout: `rollout_devices.active_device_id` holds the
//   device id while the rollout is unfinished (NULL after) under a UNIQUE constraint; NULLs never
//   collide, on SQLite or PostgreSQL. The repository sets it with the rollout's state, in the same
//   transaction.

import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<unknown>;

async function createCatalog(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('firmware_packages')
    // SHA-256 (hex) of the package file.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    // JSON array, in the manifest's order; firmware_package_models indexes it.
    .addColumn('models', 'text', (c) => c.notNull())
    .addColumn('image_size', 'bigint', (c) => c.notNull())
    .addColumn('image_sha256', 'text', (c) => c.notNull())
    .addColumn('released_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    // 0 or 1: the same column type on both dialects.
    .addColumn('allow_downgrade', 'integer', (c) => c.notNull())
    // JSON array of vendor key ids.
    .addColumn('signers', 'text', (c) => c.notNull())
    .addColumn('package_bytes', 'bigint', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addColumn('added_by', 'text', (c) => c.notNull())
    // JSON array of { name, ok, detail }.
    .addColumn('checks', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('firmware_packages_added_idx')
    .on('firmware_packages')
    .columns(['added_at', 'id'])
    .execute();
  await db.schema
    .createIndex('firmware_packages_name_version_idx')
    .on('firmware_packages')
    .columns(['name', 'version'])
    .execute();

  // One row per model a package is for: filtering by model needs no JSON functions, which the two
  // dialects spell differently.
  await db.schema
    .createTable('firmware_package_models')
    .addColumn('package_id', 'text', (c) =>
      c.notNull().references('firmware_packages.id').onDelete('cascade'),
    )
    .addColumn('model', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_package_models_pk', ['package_id', 'model'])
    .execute();
  await db.schema
    .createIndex('firmware_package_models_model_idx')
    .on('firmware_package_models')
    .columns(['model', 'package_id'])
    .execute();
}

async function createRollouts(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('rollouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('package_id', 'text', (c) => c.notNull())
    .addColumn('active_package_id', 'text', (c) => c.references('firmware_packages.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('paused_reason', 'text')
    .addColumn('canary_size', 'integer', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('failure_threshold', 'integer', (c) => c.notNull())
    // JSON object { models?, sites?, devices? }.
    .addColumn('selection', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    // Written so that it is never NULL (a NULL CHECK passes): true or false on every row.
    .addCheckConstraint(
      'rollouts_active_package_check',
      sql`(state in ('running', 'paused') and active_package_id is not null
        and active_package_id = package_id)
        or (state not in ('running', 'paused') and active_package_id is null)`,
    )
    .execute();
  await db.schema
    .createIndex('rollouts_created_idx')
    .on('rollouts')
    .columns(['created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('rollouts_state_created_idx')
    .on('rollouts')
    .columns(['state', 'created_at'])
    .execute();
  // Removing a package looks its unfinished rollouts up by this column (the foreign key check).
  await db.schema
    .createIndex('rollouts_active_package_idx')
    .on('rollouts')
    .column('active_package_id')
    .execute();

  await db.schema
    .createTable('rollout_devices')
    .addColumn('rollout_id', 'text', (c) =>
      c.notNull().references('rollouts.id').onDelete('cascade'),
    )
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('active_device_id', 'text', (c) => c.unique())
    .addColumn('stage', 'text', (c) => c.notNull())
    // The device's order in the rollout (`order` is a reserved word).
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('from_version', 'text')
    .addColumn('to_version', 'text', (c) => c.notNull())
    .addColumn('progress', 'double precision')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollout_devices_pk', ['rollout_id', 'device_id'])
    // Also the index that lists a rollout's devices in order.
    .addUniqueConstraint('rollout_devices_position_unique', ['rollout_id', 'position'])
    .addCheckConstraint(
      'rollout_devices_active_device_check',
      sql`active_device_id is null or active_device_id = device_id`,
    )
    .execute();
}

async function up(db: AnyDb): Promise<void> {
  await createCatalog(db);
  await createRollouts(db);
}

async function down(db: AnyDb): Promise<void> {
  for (const table of [
    'rollout_devices',
    'rollouts',
    'firmware_package_models',
    'firmware_packages',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

export const firmwareMigration: Migration = { up, down };
