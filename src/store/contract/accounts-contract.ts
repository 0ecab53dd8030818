// Contract: managing users (scope, role, disable, remove), ending a user's sessions, the
// organization, sites, invitations (single use), device-scoped history lists and the audit log's
// append-only surface and filters.

import { describe, expect, it } from 'vitest';
import type { AuditEntry, Invite, Site, Store, User } from '../store.js';
import { HOSTILE_STRINGS, PAGE, alert, at, batch, device, job } from './fixtures.js';

function user(over: Partial<User> = {}): User {
  return {
    id: 'u1',
    username: 'alice',
    role: 'operator',
    passwordHash: 'scrypt$abc',
    createdAt: at(0),
    disabledAt: null,
    sites: null,
    lastLoginAt: null,
    ...over,
  };
}

function site(over: Partial<Site> = {}): Site {
  return {
    id: 'hall-a',
    name: 'Hall A',
    description: null,
    timezone: null,
    createdAt: at(0),
    ...over,
  };
}

function invite(over: Partial<Invite> = {}): Invite {
  return {
    id: 'i1',
    tokenHash: 'th1',
    username: null,
    role: 'operator',
    sites: ['hall-a'],
    createdBy: 'u1',
    createdAt: at(0),
    expiresAt: at(3600),
    acceptedAt: null,
    acceptedBy: null,
    ...over,
  };
}

function entry(over: Partial<AuditEntry>): AuditEntry {
  return {
    id: 'a1',
    at: at(0),
    actor: 'alice',
    action: 'user.update',
    target: 'u1',
    outcome: 'ok',
    source: '10.0.0.1',
    details: {},
    ...over,
  };
}

export function accountsContract(store: () => Store): void {
  describe('user management', () => {
    it('creates a user with every site and no login by default', async () => {
      const { sites: _s, lastLoginAt: _l, ...bare } = user();
      await store().users.create(bare);
      expect(await store().users.get('u1')).toEqual(user());
    });

    it('lists, updates scope, role, disable and last login, and removes users', async () => {
      await store().users.create(user({ id: 'u2', username: 'zed' }));
      await store().users.create(user({ sites: ['hall-a', 'Drücker 🖨️'] }));
      expect((await store().users.list()).map((u) => u.username)).toEqual(['alice', 'zed']);
      expect((await store().users.get('u1'))?.sites).toEqual(['hall-a', 'Drücker 🖨️']);
      const updated = await store().users.update('u1', {
        role: 'dashboard',
        sites: null,
        disabledAt: at(5),
        lastLoginAt: at(4),
      });
      expect(updated).toEqual(
        user({ role: 'dashboard', sites: null, disabledAt: at(5), lastLoginAt: at(4) }),
      );
      expect(await store().users.update('u1', {})).toEqual(updated);
      expect(await store().users.update('u1', { sites: [], disabledAt: null })).toMatchObject({
        sites: [],
        disabledAt: null,
      });
      expect(await store().users.update('ghost', { role: 'admin' })).toBeUndefined();
      expect(await store().users.remove('u1')).toBe(true);
      expect(await store().users.remove('u1')).toBe(false);
      expect(await store().users.count()).toBe(1);
    });

    it('removes a user’s sessions and API tokens with it', async () => {
      await store().users.create(user());
      const session = {
        idHash: 's1',
        userId: 'u1',
        createdAt: at(0),
        lastSeenAt: at(0),
        expiresAt: at(3600),
      };
      await store().sessions.create(session);
      await store().apiTokens.create({
        id: 't1',
        userId: 'u1',
        name: 'ci',
        secretHash: 'h',
        role: 'operator',
        createdAt: at(0),
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
        scope: { sites: null, proxy: null },
      });
      await store().users.remove('u1');
      expect(await store().sessions.get('s1')).toBeUndefined();
      expect(await store().apiTokens.get('t1')).toBeUndefined();
    });

    it('ends every session of one user, optionally keeping one', async () => {
      await store().users.create(user());
      await store().users.create(user({ id: 'u2', username: 'bob' }));
      const base = { createdAt: at(0), lastSeenAt: at(0), expiresAt: at(3600) };
      for (const [idHash, userId] of [
        ['s1', 'u1'],
        ['s2', 'u1'],
        ['s3', 'u1'],
        ['s4', 'u2'],
      ] as const) {
        await store().sessions.create({ idHash, userId, ...base });
      }
      expect(await store().sessions.removeForUser('u1', 's2')).toBe(2);
      expect(await store().sessions.get('s2')).toBeDefined();
      expect(await store().sessions.removeForUser('u1')).toBe(1);
      expect(await store().sessions.removeForUser('u1')).toBe(0);
      expect(await store().sessions.get('s4')).toBeDefined();
    });
  });

  describe('organization and sites', () => {
    it('keeps one organization and renames it', async () => {
      expect(await store().organization.get()).toBeUndefined();
      const org = { id: 'o1', name: 'ACME', createdAt: at(0), updatedAt: at(0) };
      await store().organization.put(org);
      await store().organization.put({ ...org, name: 'ACME Plants', updatedAt: at(9) });
      expect(await store().organization.get()).toEqual({
        ...org,
        name: 'ACME Plants',
        updatedAt: at(9),
      });
    });

    it('creates, lists, updates and removes sites; refuses a duplicate id', async () => {
      await store().sites.create(site({ id: 'hall-b', description: 'North', timezone: 'UTC' }));
      await store().sites.create(site());
      await expect(store().sites.create(site())).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await store().sites.list()).map((s) => s.id)).toEqual(['hall-a', 'hall-b']);
      for (const text of HOSTILE_STRINGS) {
        expect(await store().sites.update('hall-a', { name: text })).toMatchObject({ name: text });
      }
      expect(
        await store().sites.update('hall-b', { description: null, timezone: 'Europe/Berlin' }),
      ).toMatchObject({ description: null, timezone: 'Europe/Berlin', name: 'Hall A' });
      expect(await store().sites.update('nope', { name: 'x' })).toBeUndefined();
      expect(await store().sites.remove('hall-a')).toBe(true);
      expect(await store().sites.remove('hall-a')).toBe(false);
      expect(await store().sites.get('hall-a')).toBeUndefined();
    });
  });

  describe('invites', () => {
    it('finds an invite by its token hash and lists pending ones only', async () => {
      await store().invites.create(invite());
      await store().invites.create(invite({ id: 'i2', tokenHash: 'th2', createdAt: at(1) }));
      await store().invites.create(
        invite({ id: 'old', tokenHash: 'th3', expiresAt: at(10), username: 'olga', sites: null }),
      );
      expect(await store().invites.byTokenHash('th3')).toMatchObject({
        id: 'old',
        username: 'olga',
        sites: null,
      });
      expect((await store().invites.pending(at(20))).map((i) => i.id)).toEqual(['i2', 'i1']);
      expect(await store().invites.consume('i1', at(30), 'u9')).toBe(true);
      expect((await store().invites.pending(at(31))).map((i) => i.id)).toEqual(['i2']);
      expect(await store().invites.get('i1')).toMatchObject({
        acceptedAt: at(30),
        acceptedBy: 'u9',
      });
      await expect(store().invites.create(invite({ id: 'i4' }))).rejects.toMatchObject({
        code: 'CONFLICT',
      });
    });

    it('consumes an invite exactly once, even when consumers race, and can release it', async () => {
      await store().invites.create(invite());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store().invites.consume('i1', at(i), `u${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store().invites.consume('nope', at(0), 'u')).toBe(false);
      await store().invites.release('i1');
      expect(await store().invites.consume('i1', at(50), 'u1')).toBe(true);
      expect(await store().invites.remove('i1')).toBe(true);
      expect(await store().invites.get('i1')).toBeUndefined();
    });
  });

  describe('history limited to devices', () => {
    it('lists jobs, alerts and commands of the given devices only', async () => {
      await store().applyBatch(
        batch({
          devices: [device(), device({ id: 'dev-2' })],
          jobs: [job(), job({ id: 'job-2', deviceId: 'dev-2' })],
          alerts: [alert(), alert({ id: 'alert-2', deviceId: 'dev-2' })],
        }),
      );
      const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id);
      expect(ids(await store().jobs.list({ ...PAGE, deviceIds: ['dev-2'] }))).toEqual(['job-2']);
      expect(ids(await store().jobs.list({ ...PAGE, deviceIds: [] }))).toEqual([]);
      expect(ids(await store().alerts.list({ ...PAGE, deviceIds: ['dev-1'] }))).toEqual([
        'alert-1',
      ]);
      expect((await store().alerts.list({ ...PAGE, deviceIds: [] })).total).toBe(0);
      await store().commands.create({
        id: 'c1',
        deviceId: 'dev-2',
        action: 'pause',
        targetId: 'job-2',
        channel: 'mqtt',
        status: 'pending',
        message: null,
        requestedBy: 'alice',
        requestedAt: at(0),
        completedAt: null,
      });
      expect(ids(await store().commands.list({ ...PAGE, deviceIds: ['dev-1'] }))).toEqual([]);
      expect(ids(await store().commands.list({ ...PAGE, deviceIds: ['dev-2'] }))).toEqual(['c1']);
    });
  });

  describe('audit log', () => {
    it('offers appending and listing only', () => {
      expect(Object.keys(store().audit).sort()).toEqual(['append', 'list']);
    });

    it('filters by an action prefix and by outcome, matching % and _ literally', async () => {
      await store().audit.append(entry({ id: 'a1', action: 'user.update' }));
      await store().audit.append(entry({ id: 'a2', action: 'user.delete', at: at(1) }));
      await store().audit.append(
        entry({ id: 'a3', action: 'auth.login', outcome: 'refused', at: at(2) }),
      );
      await store().audit.append(entry({ id: 'a4', action: 'userXupdate', at: at(3) }));
      const ids = async (filter: object) =>
        (await store().audit.list({ ...PAGE, ...filter })).items.map((e) => e.id);
      expect(await ids({ action: 'user.*' })).toEqual(['a2', 'a1']);
      expect(await ids({ action: 'user_*' })).toEqual([]);
      expect(await ids({ action: '%' })).toEqual([]);
      expect(await ids({ outcome: 'refused' })).toEqual(['a3']);
      expect(await ids({ action: 'auth.*', outcome: 'ok' })).toEqual([]);
    });
  });
}
