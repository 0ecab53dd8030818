// Who may connect: device credentials, users, sessions, API tokens — and the small settings table.

import type { Kysely, Selectable } from 'kysely';
import type {
  ApiToken,
  ApiTokenRepository,
  DeviceCredentialRepository,
  Role,
  SessionRepository,
  SettingRepository,
  TokenScope,
  User,
  UserRepository,
} from '../store.js';
import { parseSites, stringifySites } from './site-lists.js';
import type { ApiTokensTable, Database, UsersTable } from './database.js';
import { withConstraints } from './constraint-errors.js';
import { countOf } from './paging.js';
import { fromMs, fromMsOrNull, toMs, toMsOrNull } from './time-columns.js';

function rowToUser(r: Selectable<UsersTable>): User {
  return {
    id: r.id,
    username: r.username,
    role: r.role as Role,
    passwordHash: r.password_hash,
    createdAt: fromMs(r.created_at),
    disabledAt: fromMsOrNull(r.disabled_at),
    sites: parseSites(r.sites),
    lastLoginAt: fromMsOrNull(r.last_login_at),
  };
}

function rowToToken(r: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    secretHash: r.secret_hash,
    role: r.role as Role,
    createdAt: fromMs(r.created_at),
    expiresAt: fromMsOrNull(r.expires_at),
    lastUsedAt: fromMsOrNull(r.last_used_at),
    revokedAt: fromMsOrNull(r.revoked_at),
    scope: parseScope(r.scope),
  };
}

function parseScope(text: string): TokenScope {
  const raw = JSON.parse(text) as Partial<TokenScope>;
  return { sites: raw.sites ?? null, proxy: raw.proxy ?? null };
}

export function createDeviceCredentialRepository(db: Kysely<Database>): DeviceCredentialRepository {
  return {
    async get(deviceId) {
      const r = await db
        .selectFrom('device_credentials')
        .selectAll()
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      return (
        r && { deviceId: r.device_id, tokenHash: r.token_hash, createdAt: fromMs(r.created_at) }
      );
    },
    async put(c) {
      // Re-provisioning a device replaces its token: the old one stops working.
      await db
        .insertInto('device_credentials')
        .values({
          device_id: c.deviceId,
          token_hash: c.tokenHash,
          created_at: toMs(c.createdAt, 'createdAt'),
        })
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet((eb) => ({
            token_hash: eb.ref('excluded.token_hash'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute();
    },
    async remove(deviceId) {
      await db.deleteFrom('device_credentials').where('device_id', '=', deviceId).execute();
    },
  };
}

export function createUserRepository(db: Kysely<Database>): UserRepository {
  const get = async (id: string): Promise<User | undefined> => {
    const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToUser(r);
  };
  return {
    get,
    async byUsername(username) {
      const r = await db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      return r && rowToUser(r);
    },
    async count() {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return countOf(r);
    },
    async create(u) {
      const row = {
        id: u.id,
        username: u.username,
        role: u.role,
        password_hash: u.passwordHash,
        created_at: toMs(u.createdAt, 'createdAt'),
        disabled_at: toMsOrNull(u.disabledAt, 'disabledAt'),
        sites: stringifySites(u.sites ?? null),
        last_login_at: toMsOrNull(u.lastLoginAt, 'lastLoginAt'),
      };
      await withConstraints(`user ${u.username}`, () =>
        db.insertInto('users').values(row).execute(),
      );
    },
    async list() {
      const rows = await db.selectFrom('users').selectAll().orderBy('username').execute();
      return rows.map(rowToUser);
    },
    async update(id, c) {
      const set = {
        ...(c.role !== undefined ? { role: c.role } : {}),
        ...(c.passwordHash !== undefined ? { password_hash: c.passwordHash } : {}),
        ...(c.sites !== undefined ? { sites: stringifySites(c.sites) } : {}),
        ...(c.disabledAt !== undefined
          ? { disabled_at: toMsOrNull(c.disabledAt, 'disabledAt') }
          : {}),
        ...(c.lastLoginAt !== undefined
          ? { last_login_at: toMsOrNull(c.lastLoginAt, 'lastLoginAt') }
          : {}),
      };
      if (Object.keys(set).length > 0) {
        await db.updateTable('users').set(set).where('id', '=', id).execute();
      }
      return get(id);
    },
    async remove(id) {
      // Sessions and API tokens go with the user (foreign keys, on delete cascade).
      const r = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export function createSessionRepository(db: Kysely<Database>): SessionRepository {
  return {
    async get(idHash) {
      const r = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      return (
        r && {
          idHash: r.id_hash,
          userId: r.user_id,
          createdAt: fromMs(r.created_at),
          lastSeenAt: fromMs(r.last_seen_at),
          expiresAt: fromMs(r.expires_at),
        }
      );
    },
    async create(s) {
      const row = {
        id_hash: s.idHash,
        user_id: s.userId,
        created_at: toMs(s.createdAt, 'createdAt'),
        last_seen_at: toMs(s.lastSeenAt, 'lastSeenAt'),
        expires_at: toMs(s.expiresAt, 'expiresAt'),
      };
      await withConstraints('session', () => db.insertInto('sessions').values(row).execute());
    },
    async touch(idHash, lastSeenAt) {
      const at = toMs(lastSeenAt, 'lastSeenAt');
      await db
        .updateTable('sessions')
        .set({ last_seen_at: at })
        .where('id_hash', '=', idHash)
        .where('last_seen_at', '<', at)
        .execute();
    },
    async remove(idHash) {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
    async removeExpired(now) {
      const r = await db
        .deleteFrom('sessions')
        .where('expires_at', '<=', toMs(now, 'now'))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async removeForUser(userId, keep) {
      let q = db.deleteFrom('sessions').where('user_id', '=', userId);
      if (keep !== undefined) q = q.where('id_hash', '!=', keep);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export function createApiTokenRepository(db: Kysely<Database>): ApiTokenRepository {
  return {
    async get(id) {
      const r = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return r && rowToToken(r);
    },
    async listForUser(userId) {
      const rows = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(rowToToken);
    },
    async create(t) {
      const row = {
        id: t.id,
        user_id: t.userId,
        name: t.name,
        secret_hash: t.secretHash,
        role: t.role,
        created_at: toMs(t.createdAt, 'createdAt'),
        expires_at: toMsOrNull(t.expiresAt, 'expiresAt'),
        last_used_at: toMsOrNull(t.lastUsedAt, 'lastUsedAt'),
        revoked_at: toMsOrNull(t.revokedAt, 'revokedAt'),
        scope: JSON.stringify(t.scope),
      };
      await withConstraints(`API token ${t.id}`, () =>
        db.insertInto('api_tokens').values(row).execute(),
      );
    },
    async revoke(id, at) {
      // The first revocation time stands.
      await db
        .updateTable('api_tokens')
        .set({ revoked_at: toMs(at, 'revokedAt') })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },
    async touch(id, at) {
      const ms = toMs(at, 'lastUsedAt');
      await db
        .updateTable('api_tokens')
        .set({ last_used_at: ms })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', ms)]))
        .execute();
    },
  };
}

export function createSettingRepository(db: Kysely<Database>): SettingRepository {
  return {
    async get(key) {
      const r = await db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirst();
      return r?.value;
    },
    async set(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .execute();
    },
    async remove(key) {
      await db.deleteFrom('settings').where('key', '=', key).execute();
    },
  };
}
