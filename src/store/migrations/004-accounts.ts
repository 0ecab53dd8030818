// Accounts: the organization and its sites, users' site scope and last login, invitations, audit
// indexes for the filters the API offers, and triggers that make the audit log append-only in the
// database itself (an UPDATE or DELETE on audit_log aborts).

import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<unknown>;

const APPEND_ONLY = 'the audit log is append-only';

function isSqlite(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('organization')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('timezone', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // NULL: every site (every user before this migration keeps seeing everything).
  await db.schema.alterTable('users').addColumn('sites', 'text').execute();
  await db.schema.alterTable('users').addColumn('last_login_at', 'bigint').execute();

  await db.schema
    .createTable('invites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('username', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('sites', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted_at', 'bigint')
    .addColumn('accepted_by', 'text')
    .execute();

  for (const column of ['actor', 'action', 'target'] as const) {
    await db.schema
      .createIndex(`audit_log_${column}_idx`)
      .on('audit_log')
      .columns([column, 'at'])
      .execute();
  }

  if (isSqlite(db)) {
    for (const op of ['update', 'delete'] as const) {
      await sql
        .raw(
          `create trigger audit_log_no_${op} before ${op} on audit_log ` +
            `begin select raise(abort, '${APPEND_ONLY}'); end`,
        )
        .execute(db);
    }
  } else {
    await sql
      .raw(
        'create function audit_log_append_only() returns trigger language plpgsql as ' +
          `$$ begin raise exception '${APPEND_ONLY}'; end $$`,
      )
      .execute(db);
    await sql
      .raw(
        'create trigger audit_log_append_only before update or delete on audit_log ' +
          'for each statement execute function audit_log_append_only()',
      )
      .execute(db);
  }
}

async function down(db: AnyDb): Promise<void> {
  if (isSqlite(db)) {
    await sql.raw('drop trigger if exists audit_log_no_update').execute(db);
    await sql.raw('drop trigger if exists audit_log_no_delete').execute(db);
  } else {
    await sql.raw('drop trigger if exists audit_log_append_only on audit_log').execute(db);
    await sql.raw('drop function if exists audit_log_append_only()').execute(db);
  }
  for (const column of ['actor', 'action', 'target']) {
    await db.schema.dropIndex(`audit_log_${column}_idx`).execute();
  }
  await db.schema.dropTable('invites').execute();
  await db.schema.alterTable('users').dropColumn('last_login_at').execute();
  await db.schema.alterTable('users').dropColumn('sites').execute();
  await db.schema.dropTable('sites').execute();
  await db.schema.dropTable('organization').execute();
}

export const accountsMigration: Migration = { up, down };
