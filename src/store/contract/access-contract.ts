// Contract: device credentials, users, sessions, API tokens and settings.

import { describe, expect, it } from 'vitest';
import type { ApiToken, Session, Store, User } from '../store.js';
import { HOSTILE_STRINGS, at } from './fixtures.js';

function user(over: Partial<User> = {}): User {
  return {
    id: 'u1',
    username: 'alice',
    role: 'admin',
    passwordHash: 'scrypt$abc',
    createdAt: at(0),
    disabledAt: null,
    sites: null,
    lastLoginAt: null,
    ...over,
  };
}

function session(over: Partial<Session> = {}): Session {
  return {
    idHash: 's1',
    userId: 'u1',
    createdAt: at(0),
    lastSeenAt: at(0),
    expiresAt: at(3600),
    ...over,
  };
}

function token(over: Partial<ApiToken> = {}): ApiToken {
  return {
    id: 't1',
    userId: 'u1',
    name: 'ci',
    secretHash: 'hash',
    role: 'operator',
    createdAt: at(0),
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    scope: { sites: null, proxy: null },
    ...over,
  };
}

export function accessContract(store: () => Store): void {
  describe('device credentials', () => {
    it('puts, replaces and removes a credential', async () => {
      const c = { deviceId: 'dev-1', tokenHash: 'h1', createdAt: at(0) };
      await store().deviceCredentials.put(c);
      expect(await store().deviceCredentials.get('dev-1')).toEqual(c);
      await store().deviceCredentials.put({ ...c, tokenHash: 'h2', createdAt: at(5) });
      expect(await store().deviceCredentials.get('dev-1')).toMatchObject({ tokenHash: 'h2' });
      await store().deviceCredentials.remove('dev-1');
      expect(await store().deviceCredentials.get('dev-1')).toBeUndefined();
    });
  });

  describe('users', () => {
    it('creates, finds by id and username, and counts users', async () => {
      expect(await store().users.count()).toBe(0);
      await store().users.create(user());
      await store().users.create(user({ id: 'u2', username: 'Zoë ✓', disabledAt: at(9) }));
      expect(await store().users.get('u1')).toEqual(user());
      expect(await store().users.byUsername('Zoë ✓')).toMatchObject({
        id: 'u2',
        disabledAt: at(9),
      });
      expect(await store().users.byUsername('ALICE')).toBeUndefined();
      expect(await store().users.count()).toBe(2);
    });

    it('refuses a second user with the same username or id with CONFLICT', async () => {
      await store().users.create(user());
      await expect(store().users.create(user({ id: 'u2' }))).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(store().users.create(user({ username: 'bob' }))).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      expect(await store().users.count()).toBe(1);
    });
  });

  describe('sessions', () => {
    it('creates, touches forward only, removes, and removes expired sessions', async () => {
      await store().users.create(user());
      await store().sessions.create(session());
      await store().sessions.create(session({ idHash: 's2', expiresAt: at(100) }));
      expect(await store().sessions.get('s1')).toEqual(session());
      await store().sessions.touch('s1', at(50));
      await store().sessions.touch('s1', at(40));
      expect(await store().sessions.get('s1')).toMatchObject({ lastSeenAt: at(50) });
      expect(await store().sessions.removeExpired(at(100))).toBe(1);
      expect(await store().sessions.get('s2')).toBeUndefined();
      await store().sessions.remove('s1');
      expect(await store().sessions.get('s1')).toBeUndefined();
    });

    it('refuses a session of an unknown user and a duplicate session id', async () => {
      await expect(store().sessions.create(session({ userId: 'ghost' }))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await store().users.create(user());
      await store().sessions.create(session());
      await expect(store().sessions.create(session())).rejects.toMatchObject({ code: 'CONFLICT' });
    });
  });

  describe('API tokens', () => {
    it('creates, lists per user, revokes once and records the latest use', async () => {
      await store().users.create(user());
      await store().users.create(user({ id: 'u2', username: 'bob' }));
      await store().apiTokens.create(token());
      await store().apiTokens.create(token({ id: 't2', createdAt: at(1), expiresAt: at(99) }));
      await store().apiTokens.create(token({ id: 't3', userId: 'u2' }));
      const scope = {
        sites: ['site-a'],
        proxy: { devices: null, methods: ['GET'], paths: ['/ws/v1/status'] },
      };
      await store().apiTokens.create(token({ id: 't4', userId: 'u2', scope }));
      expect((await store().apiTokens.get('t4'))?.scope).toEqual(scope);
      expect(await store().apiTokens.get('t1')).toEqual(token());
      expect((await store().apiTokens.listForUser('u1')).map((t) => t.id)).toEqual(['t1', 't2']);
      await store().apiTokens.revoke('t1', at(10));
      await store().apiTokens.revoke('t1', at(20));
      await store().apiTokens.touch('t2', at(30));
      await store().apiTokens.touch('t2', at(25));
      expect(await store().apiTokens.get('t1')).toMatchObject({ revokedAt: at(10) });
      expect(await store().apiTokens.get('t2')).toMatchObject({ lastUsedAt: at(30) });
      expect(await store().apiTokens.get('nope')).toBeUndefined();
      await expect(store().apiTokens.create(token())).rejects.toMatchObject({ code: 'CONFLICT' });
    });
  });

  describe('settings', () => {
    it('sets, overwrites and removes values, storing hostile strings verbatim', async () => {
      expect(await store().settings.get('k')).toBeUndefined();
      await store().settings.set('k', 'one');
      await store().settings.set('k', 'two');
      expect(await store().settings.get('k')).toBe('two');
      for (const s of HOSTILE_STRINGS) {
        await store().settings.set(s, s);
        expect(await store().settings.get(s)).toBe(s);
      }
      await store().settings.remove('k');
      expect(await store().settings.get('k')).toBeUndefined();
    });
  });
}
