// The organization, its sites and invitations to create accounts.

import type { Kysely, Selectable } from 'kysely';
import type {
  Invite,
  InviteRepository,
  OrganizationRepository,
  Role,
  Site,
  SiteRepository,
} from '../store.js';
import { withConstraints } from './constraint-errors.js';
import type { Database, InvitesTable, SitesTable } from './database.js';
import { parseSites, stringifySites } from './site-lists.js';
import { fromMs, fromMsOrNull, toMs } from './time-columns.js';

function rowToSite(r: Selectable<SitesTable>): Site {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    timezone: r.timezone,
    createdAt: fromMs(r.created_at),
  };
}

function rowToInvite(r: Selectable<InvitesTable>): Invite {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    username: r.username,
    role: r.role as Role,
    sites: parseSites(r.sites),
    createdBy: r.created_by,
    createdAt: fromMs(r.created_at),
    expiresAt: fromMs(r.expires_at),
    acceptedAt: fromMsOrNull(r.accepted_at),
    acceptedBy: r.accepted_by,
  };
}

export function createOrganizationRepository(db: Kysely<Database>): OrganizationRepository {
  return {
    async get() {
      const r = await db
        .selectFrom('organization')
        .selectAll()
        .orderBy('created_at')
        .limit(1)
        .executeTakeFirst();
      return (
        r && {
          id: r.id,
          name: r.name,
          createdAt: fromMs(r.created_at),
          updatedAt: fromMs(r.updated_at),
        }
      );
    },
    async put(o) {
      const values = {
        id: o.id,
        name: o.name,
        created_at: toMs(o.createdAt, 'createdAt'),
        updated_at: toMs(o.updatedAt, 'updatedAt'),
      };
      await db
        .insertInto('organization')
        .values(values)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ name: values.name, updated_at: values.updated_at }),
        )
        .execute();
    },
  };
}

export function createSiteRepository(db: Kysely<Database>): SiteRepository {
  const get = async (id: string): Promise<Site | undefined> => {
    const r = await db.selectFrom('sites').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToSite(r);
  };
  return {
    get,
    async list() {
      const rows = await db.selectFrom('sites').selectAll().orderBy('id').execute();
      return rows.map(rowToSite);
    },
    async create(s) {
      const row = {
        id: s.id,
        name: s.name,
        description: s.description,
        timezone: s.timezone,
        created_at: toMs(s.createdAt, 'createdAt'),
      };
      await withConstraints(`site ${s.id}`, () => db.insertInto('sites').values(row).execute());
    },
    async update(id, c) {
      const set = {
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.description !== undefined ? { description: c.description } : {}),
        ...(c.timezone !== undefined ? { timezone: c.timezone } : {}),
      };
      if (Object.keys(set).length > 0) {
        await db.updateTable('sites').set(set).where('id', '=', id).execute();
      }
      return get(id);
    },
    async remove(id) {
      const r = await db.deleteFrom('sites').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export function createInviteRepository(db: Kysely<Database>): InviteRepository {
  return {
    async get(id) {
      const r = await db.selectFrom('invites').selectAll().where('id', '=', id).executeTakeFirst();
      return r && rowToInvite(r);
    },
    async byTokenHash(tokenHash) {
      const r = await db
        .selectFrom('invites')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return r && rowToInvite(r);
    },
    async pending(now) {
      const rows = await db
        .selectFrom('invites')
        .selectAll()
        .where('accepted_at', 'is', null)
        .where('expires_at', '>', toMs(now, 'now'))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(rowToInvite);
    },
    async create(i) {
      const row = {
        id: i.id,
        token_hash: i.tokenHash,
        username: i.username,
        role: i.role,
        sites: stringifySites(i.sites),
        created_by: i.createdBy,
        created_at: toMs(i.createdAt, 'createdAt'),
        expires_at: toMs(i.expiresAt, 'expiresAt'),
        accepted_at: null,
        accepted_by: null,
      };
      await withConstraints(`invite ${i.id}`, () => db.insertInto('invites').values(row).execute());
    },
    async consume(id, at, by) {
      // One UPDATE guarded by "not yet used": of two racing accepts only one changes a row.
      const r = await db
        .updateTable('invites')
        .set({ accepted_at: toMs(at, 'acceptedAt'), accepted_by: by })
        .where('id', '=', id)
        .where('accepted_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async release(id) {
      await db
        .updateTable('invites')
        .set({ accepted_at: null, accepted_by: null })
        .where('id', '=', id)
        .execute();
    },
    async remove(id) {
      const r = await db.deleteFrom('invites').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
