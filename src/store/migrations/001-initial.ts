// The first schema: every table of the product. Written with Kysely's schema builder only, so the
// same migration runs on SQLite and PostgreSQL (bigint epoch-ms times, double precision numbers).

import type { Kysely, Migration } from 'kysely';

/** Schema builders do not depend on the table types, so migrations take an untyped database. */
type AnyDb = Kysely<unknown>;

async function createFleetTables(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('site_id', 'text')
    .addColumn('firmware_version', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint')
    .addColumn('state_at', 'bigint')
    .addColumn('search_text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('devices_site_idx').on('devices').column('site_id').execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('progress', 'double precision', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('estimated_end_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('layer', 'integer')
    .addColumn('layers', 'integer')
    .addColumn('material_used_g', 'double precision')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_updated_idx').on('jobs').column('updated_at').execute();
  await db.schema
    .createIndex('jobs_device_updated_idx')
    .on('jobs')
    .columns(['device_id', 'updated_at'])
    .execute();
  await db.schema.createIndex('jobs_state_idx').on('jobs').column('state').execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('cleared_at', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .execute();
  await db.schema.createIndex('alerts_raised_idx').on('alerts').column('raised_at').execute();
  await db.schema
    .createIndex('alerts_device_raised_idx')
    .on('alerts')
    .columns(['device_id', 'raised_at'])
    .execute();
  await db.schema.createIndex('alerts_cleared_idx').on('alerts').column('cleared_at').execute();

  await db.schema
    .createTable('consumables')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('slot', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('level', 'double precision', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('consumables_pk', ['device_id', 'slot'])
    .execute();

  // The primary key is the (device_id, name, ts) index range queries use; it also makes a
  // redelivered sample an update instead of a duplicate.
  await db.schema
    .createTable('metric_samples')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_samples_pk', ['device_id', 'name', 'ts'])
    .execute();
  await db.schema.createIndex('metric_samples_ts_idx').on('metric_samples').column('ts').execute();
}

async function createAccessTables(db: AnyDb): Promise<void> {
  // No foreign key to devices: a device is provisioned (credential issued) before it ever reports.
  await db.schema
    .createTable('device_credentials')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_tokens_user_idx').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export const initialMigration: Migration = {
  async up(db: AnyDb): Promise<void> {
    await createFleetTables(db);
    await createAccessTables(db);
  },
};
