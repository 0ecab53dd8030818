// Device registry (Web Services address, pinned certificate, sealed credential, admin's name and
// site), remote commands with their outcomes, and the append-only audit log.

import type { Kysely, Migration } from 'kysely';

type AnyDb = Kysely<unknown>;

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('device_registrations')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('base_url', 'text')
    .addColumn('pin_state', 'text', (c) => c.notNull())
    .addColumn('fingerprint256', 'text')
    .addColumn('presented_fingerprint256', 'text')
    .addColumn('credential_sealed', 'text')
    .addColumn('display_name', 'text')
    .addColumn('site_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('approved_at', 'bigint')
    .execute();

  await db.schema
    .createTable('commands')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('commands_device_idx')
    .on('commands')
    .columns(['device_id', 'requested_at'])
    .execute();
  await db.schema
    .createIndex('commands_requested_idx')
    .on('commands')
    .column('requested_at')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
}

async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('commands').execute();
  await db.schema.dropTable('device_registrations').execute();
}

export const deviceRegistryMigration: Migration = { up, down };
