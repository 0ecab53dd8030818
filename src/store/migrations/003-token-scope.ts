// API token scope: the sites a token is limited to and its API Proxy access, as JSON.

import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<unknown>;

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo(sql.lit('{}')))
    .execute();
}

async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('scope').execute();
}

export const tokenScopeMigration: Migration = { up, down };
