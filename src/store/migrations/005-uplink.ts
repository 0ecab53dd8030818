// Cloud uplink: the enrollment, the consent history (append-only in the database, like the audit
// log), the uplink's small state, and the outbox of sealed reports with its sequence counter. The
// counter lives in its own row so that seqs are never reused once items are removed; a trigger lets
// it move forward by exactly one per update, which makes a racing second writer fail loudly instead
// of reusing a seq.

import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<unknown>;

const CONSENT_APPEND_ONLY = 'the consent history is append-only';
/** Matched by the outbox repository to recognize a lost race for the next seq: keep in step. */
export const OUTBOX_SEQUENCE_REFUSAL = 'the outbox sequence only moves forward by one';
export const OUTBOX_SEQUENCE_ID = 'outbox';

function isSqlite(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

async function createTables(db: AnyDb, sqlite: boolean): Promise<void> {
  await db.schema
    .createTable('uplink_enrollment')
    // One row at most, under a fixed id.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('site_id', 'text', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('sealed_secret', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
    .addColumn('enrolled_by', 'text', (c) => c.notNull())
    .execute();

  // `n` records the order changes were made in: "the last change wins" must not depend on clocks.
  let consent = db.schema.createTable('consent_history');
  consent = sqlite
    ? consent.addColumn('n', 'integer', (c) => c.primaryKey().autoIncrement())
    : consent.addColumn('n', 'bigserial', (c) => c.primaryKey());
  await consent
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('category', 'text', (c) => c.notNull())
    // 0 or 1: the same column type on both dialects.
    .addColumn('granted', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .execute();
  await db.schema
    .createIndex('consent_history_category_idx')
    .on('consent_history')
    .columns(['category', 'n'])
    .execute();

  await db.schema
    .createTable('uplink_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox')
    // Not SQLite's INTEGER PRIMARY KEY: a NULL seq must fail, not be given a rowid.
    .addColumn('seq', 'bigint', (c) => c.primaryKey().notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox_sequence')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into outbox_sequence (id, last_seq) values (${OUTBOX_SEQUENCE_ID}, 0)`.execute(
    db,
  );
}

async function createSqliteTriggers(db: AnyDb): Promise<void> {
  for (const op of ['update', 'delete'] as const) {
    await sql
      .raw(
        `create trigger consent_history_no_${op} before ${op} on consent_history ` +
          `begin select raise(abort, '${CONSENT_APPEND_ONLY}'); end`,
      )
      .execute(db);
  }
  await sql
    .raw(
      'create trigger outbox_sequence_forward before update on outbox_sequence ' +
        'when new.last_seq <> old.last_seq + 1 or new.id <> old.id ' +
        `begin select raise(abort, '${OUTBOX_SEQUENCE_REFUSAL}'); end`,
    )
    .execute(db);
  await sql
    .raw(
      'create trigger outbox_sequence_no_delete before delete on outbox_sequence ' +
        `begin select raise(abort, '${OUTBOX_SEQUENCE_REFUSAL}'); end`,
    )
    .execute(db);
}

async function createPostgresTriggers(db: AnyDb): Promise<void> {
  await sql
    .raw(
      'create function consent_history_append_only() returns trigger language plpgsql as ' +
        `$$ begin raise exception '${CONSENT_APPEND_ONLY}'; end $$`,
    )
    .execute(db);
  await sql
    .raw(
      'create trigger consent_history_append_only before update or delete on consent_history ' +
        'for each statement execute function consent_history_append_only()',
    )
    .execute(db);
  await sql
    .raw(
      'create function outbox_sequence_forward() returns trigger language plpgsql as $$ begin ' +
        "if tg_op = 'DELETE' or new.last_seq <> old.last_seq + 1 or new.id <> old.id then " +
        `raise exception '${OUTBOX_SEQUENCE_REFUSAL}'; end if; return new; end $$`,
    )
    .execute(db);
  await sql
    .raw(
      'create trigger outbox_sequence_forward before update or delete on outbox_sequence ' +
        'for each row execute function outbox_sequence_forward()',
    )
    .execute(db);
}

async function up(db: AnyDb): Promise<void> {
  const sqlite = isSqlite(db);
  await createTables(db, sqlite);
  await (sqlite ? createSqliteTriggers(db) : createPostgresTriggers(db));
}

async function down(db: AnyDb): Promise<void> {
  if (isSqlite(db)) {
    for (const name of [
      'consent_history_no_update',
      'consent_history_no_delete',
      'outbox_sequence_forward',
      'outbox_sequence_no_delete',
    ]) {
      await sql.raw(`drop trigger if exists ${name}`).execute(db);
    }
  } else {
    await sql
      .raw('drop trigger if exists consent_history_append_only on consent_history')
      .execute(db);
    await sql.raw('drop function if exists consent_history_append_only()').execute(db);
    await sql.raw('drop trigger if exists outbox_sequence_forward on outbox_sequence').execute(db);
    await sql.raw('drop function if exists outbox_sequence_forward()').execute(db);
  }
  for (const table of [
    'outbox_sequence',
    'outbox',
    'uplink_state',
    'consent_history',
    'uplink_enrollment',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

export const uplinkMigration: Migration = { up, down };
