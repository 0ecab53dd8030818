// Accounts over real HTTPS against a real SQLite store: users (role, sites, disable, delete, last
// admin), invitations (single use, expiry, login), password change and "log out everywhere",
// organization and sites, account lockout with its audit records, and the audit log's filters —
// with malformed, oversized and hostile input answering clean 4xx errors.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../auth/secret-tokens.js';
import {
  PASSWORD,
  deviceView,
  startHarness,
  type Answer,
  type Harness,
} from './api-test-harness.js';

let h: Harness;
let admin: string;

interface Entry {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  source: string | null;
  details: Record<string, unknown>;
}

function expectError(answer: Answer, status: number, code?: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.json).toMatchObject({
    error: { code: code ?? (expect.any(String) as string), message: expect.any(String) as string },
  });
  expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+/);
}

async function audit(query = ''): Promise<Entry[]> {
  const res = await h.call('GET', `/api/v1/audit?limit=500${query}`, { cookie: admin });
  expect(res.status, res.text).toBe(200);
  return (res.json as { items: Entry[] }).items;
}

async function userId(username: string): Promise<string> {
  return (await h.store.users.byUsername(username))!.id;
}

const HOSTILE = [
  "'; DROP TABLE users; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'x'.repeat(5000),
  '\u0000nul',
];

describe('users', () => {
  beforeEach(async () => {
    h = await startHarness();
    admin = await h.setupAdmin();
    await h.createSites('hall-a', 'hall-b');
  });
  afterEach(() => h.close());

  it('lists users without password hashes, with role, sites and last login', async () => {
    await h.loginAs('operator', 'olga', { sites: ['hall-a'] });
    const res = await h.call('GET', '/api/v1/users', { cookie: admin });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('scrypt');
    expect(res.json).toMatchObject({
      items: [
        { username: 'admin', role: 'admin', sites: null, disabledAt: null, lockedUntil: null },
        { username: 'olga', role: 'operator', sites: ['hall-a'] },
      ],
    });
    const olga = (res.json as { items: { username: string; lastLoginAt: string | null }[] })
      .items[1]!;
    expect(olga.lastLoginAt).not.toBeNull();
  });

  it('changes role and sites, disables (ending sessions and tokens) and enables', async () => {
    const olga = await h.loginAs('operator', 'olga');
    const token = (
      (await h.call('POST', '/api/v1/tokens', { cookie: olga, body: { name: 'ci' } })).json as {
        token: string;
      }
    ).token;
    const id = await userId('olga');
    const changed = await h.call('PATCH', `/api/v1/users/${id}`, {
      cookie: admin,
      body: { role: 'dashboard', sites: ['hall-b', 'hall-b'] },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toMatchObject({ role: 'dashboard', sites: ['hall-b'] });
    // The token's role (operator) is now more than its user holds: it stops working.
    expect((await h.call('GET', '/api/v1/auth/me', { token })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: olga })).json).toMatchObject({
      user: { role: 'dashboard', sites: ['hall-b'] },
    });

    const disabled = await h.call('PATCH', `/api/v1/users/${id}`, {
      cookie: admin,
      body: { disabled: true, role: 'operator' },
    });
    expect(disabled.json).toMatchObject({ disabledAt: expect.any(String) as string });
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: olga })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/auth/me', { token })).status).toBe(401);
    expectError(
      await h.call('POST', '/api/v1/auth/login', {
        body: { username: 'olga', password: PASSWORD },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    await h.call('PATCH', `/api/v1/users/${id}`, { cookie: admin, body: { disabled: false } });
    expect((await h.call('GET', '/api/v1/auth/me', { token })).status).toBe(200);
    const actions = (await audit('&target=' + id)).map((e) => e.action);
    expect(actions).toEqual(['user.enable', 'user.disable', 'user.update']);
  });

  it('never removes, disables or demotes the last enabled admin who sees every site', async () => {
    const me = await userId('admin');
    for (const body of [{ role: 'operator' }, { sites: ['hall-a'] }]) {
      expectError(
        await h.call('PATCH', `/api/v1/users/${me}`, { cookie: admin, body }),
        409,
        'LAST_ADMIN',
      );
    }
    expectError(
      await h.call('PATCH', `/api/v1/users/${me}`, { cookie: admin, body: { disabled: true } }),
      409,
    );
    expectError(await h.call('DELETE', `/api/v1/users/${me}`, { cookie: admin }), 409);
    const second = await h.loginAs('admin', 'root2');
    const root2 = await userId('root2');
    // Two admins: one may go, but not both (racing demotions included).
    const results = await Promise.all([
      h.call('PATCH', `/api/v1/users/${root2}`, { cookie: admin, body: { role: 'operator' } }),
      h.call('PATCH', `/api/v1/users/${me}`, { cookie: second, body: { role: 'operator' } }),
    ]);
    // One passes; the other finds the last admin (409) or has just lost the right to act (403).
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect([403, 409]).toContain(results.find((r) => r.status !== 200)?.status);
    expect((await h.store.users.list()).filter((u) => u.role === 'admin')).toHaveLength(1);
  });

  it('deletes a user with their sessions and tokens; answers 404 for unknown ids', async () => {
    const olga = await h.loginAs('operator', 'olga');
    const id = await userId('olga');
    expect((await h.call('DELETE', `/api/v1/users/${id}`, { cookie: admin })).status).toBe(204);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: olga })).status).toBe(401);
    expectError(
      await h.call('DELETE', `/api/v1/users/${id}`, { cookie: admin }),
      404,
      'USER_NOT_FOUND',
    );
    expectError(await h.call('POST', '/api/v1/users/nope/unlock', { cookie: admin }), 404);
    expect((await audit('&action=user.delete'))[0]).toMatchObject({
      actor: 'admin',
      target: id,
      source: '127.0.0.1',
      details: { username: 'olga' },
    });
  });

  it('ends every session of a user, and the caller’s own with or without the current one', async () => {
    const a = await h.loginAs('operator', 'olga');
    const b = await h.login('olga');
    const c = await h.login('olga');
    const id = await userId('olga');
    const mine = await h.call('POST', '/api/v1/auth/logout-all', {
      cookie: a,
      body: { keepCurrent: true },
    });
    expect(mine.json).toEqual({ sessionsEnded: 2 });
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: a })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: b })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: c })).status).toBe(401);
    await h.login('olga');
    const all = await h.call('POST', `/api/v1/users/${id}/logout-everywhere`, { cookie: admin });
    expect(all.json).toEqual({ sessionsEnded: 2 });
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: a })).status).toBe(401);
    const d = await h.login('olga');
    const out = await h.call('POST', '/api/v1/auth/logout-all', {
      cookie: d,
      body: { keepCurrent: false },
    });
    expect(out.json).toEqual({ sessionsEnded: 1 });
    expect(String(out.headers['set-cookie'])).toMatch(/cc_session=;/);
    expectError(await h.call('POST', '/api/v1/auth/logout-all', { cookie: admin, body: {} }), 400);
    const actions = (await audit()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.logout-all', 'user.logout-everywhere']));
  });

  it('refuses an operator managing users, and hostile or malformed changes', async () => {
    const olga = await h.loginAs('operator', 'olga');
    const id = await userId('olga');
    expectError(await h.call('GET', '/api/v1/users', { cookie: olga }), 403, 'FORBIDDEN');
    for (const body of [
      {},
      { role: 'root' },
      { sites: [] },
      { sites: ['no-such-site'] },
      { sites: [HOSTILE[0]] },
      { sites: Array.from({ length: 501 }, (_, i) => `s${i}`) },
      { disabled: 'yes' },
      { role: 'admin', extra: 1 },
    ]) {
      expectError(await h.call('PATCH', `/api/v1/users/${id}`, { cookie: admin, body }), 400);
    }
    expectError(
      await h.call('PATCH', `/api/v1/users/${encodeURIComponent(HOSTILE[0]!)}`, {
        cookie: admin,
        body: { role: 'user' },
      }),
      404,
    );
    expectError(
      await h.call('PATCH', `/api/v1/users/${id}`, {
        cookie: admin,
        raw: '{"role":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
    );
  });
});

describe('password change', () => {
  beforeEach(async () => {
    h = await startHarness();
    admin = await h.setupAdmin();
  });
  afterEach(() => h.close());

  it('checks the current password and the policy, and ends the other sessions', async () => {
    const olga = await h.loginAs('operator', 'olga');
    const other = await h.login('olga');
    const change = (currentPassword: string, newPassword: string, cookie = olga) =>
      h.call('POST', '/api/v1/auth/password', { cookie, body: { currentPassword, newPassword } });
    expectError(await change('wrong password here', 'a brand new passphrase'), 403);
    expectError(await change(PASSWORD, 'short'), 400, 'VALIDATION_FAILED');
    expectError(await change(PASSWORD, 'olga'), 400);
    expectError(await change(PASSWORD, PASSWORD), 400);
    const ok = await change(PASSWORD, 'a brand new passphrase');
    expect(ok.json).toEqual({ sessionsEnded: 1 });
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: olga })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: other })).status).toBe(401);
    expect(await h.login('olga', 'a brand new passphrase')).toMatch(/^cc_session=/);
    const token = (
      (await h.call('POST', '/api/v1/tokens', { cookie: olga, body: { name: 'x' } })).json as {
        token: string;
      }
    ).token;
    expectError(
      await h.call('POST', '/api/v1/auth/password', {
        token,
        body: { currentPassword: 'a brand new passphrase', newPassword: 'another long phrase' },
      }),
      403,
    );
    const entries = await audit('&action=auth.password.change');
    expect(entries).toHaveLength(1);
    expect(JSON.stringify(entries)).not.toContain('brand new');
  });
});

describe('invites', () => {
  beforeEach(async () => {
    h = await startHarness();
    admin = await h.setupAdmin();
    await h.createSites('hall-a', 'hall-b');
  });
  afterEach(() => h.close());

  async function invite(body: Record<string, unknown>) {
    const res = await h.call('POST', '/api/v1/invites', { cookie: admin, body });
    expect(res.status, res.text).toBe(201);
    return res.json as { invite: { id: string }; token: string; path: string; url: string };
  }

  it('creates a one-time link stored hashed, accepted once, logging the new user in', async () => {
    const created = await invite({ role: 'operator', sites: ['hall-a'] });
    expect(created.path).toBe(`/invite#token=${created.token}`);
    expect(created.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/invite#token=/);
    const stored = await h.store.invites.get(created.invite.id);
    expect(stored?.tokenHash).toBe(hashSecret(created.token));
    const list = await h.call('GET', '/api/v1/invites', { cookie: admin });
    expect(list.text).not.toContain(created.token);
    expect(list.json).toMatchObject({
      items: [{ id: created.invite.id, role: 'operator', sites: ['hall-a'], createdBy: 'admin' }],
    });

    const accepted = await h.call('POST', '/api/v1/invites/accept', {
      body: { token: created.token, username: 'olga', password: PASSWORD },
    });
    expect(accepted.status, accepted.text).toBe(201);
    const cookie = String(accepted.headers['set-cookie']).split(';')[0]!;
    expect(String(accepted.headers['set-cookie'])).toMatch(/HttpOnly.*Secure|Secure.*HttpOnly/);
    const me = await h.call('GET', '/api/v1/auth/me', { cookie });
    expect(me.json).toMatchObject({
      user: { username: 'olga', role: 'operator', sites: ['hall-a'] },
    });

    const again = await h.call('POST', '/api/v1/invites/accept', {
      body: { token: created.token, username: 'olga2', password: PASSWORD },
    });
    expectError(again, 410, 'INVITE_EXPIRED');
    expect((await h.call('GET', '/api/v1/invites', { cookie: admin })).json).toEqual({ items: [] });
    const actions = (await audit()).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.invite:ok',
        'user.invite.accept:ok',
        'user.invite.accept:refused',
      ]),
    );
  });

  it('creates exactly one account when accepts race', async () => {
    const { token } = await invite({ role: 'user' });
    const results = await Promise.all(
      ['u1', 'u2', 'u3'].map((username) =>
        h.call('POST', '/api/v1/invites/accept', { body: { token, username, password: PASSWORD } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 410, 410]);
    expect(await h.store.users.count()).toBe(2);
  });

  it('refuses expired, unknown and withdrawn invitations with clear errors', async () => {
    const { token, invite: inv } = await invite({ role: 'user', username: 'fixed' });
    const accept = (body: Record<string, unknown>) =>
      h.call('POST', '/api/v1/invites/accept', { body });
    expectError(await accept({ token, username: 'other', password: PASSWORD }), 400);
    const stored = (await h.store.invites.get(inv.id))!;
    await h.store.invites.remove(inv.id);
    await h.store.invites.create({
      ...stored,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expectError(
      await accept({ token, username: 'late', password: PASSWORD }),
      410,
      'INVITE_EXPIRED',
    );
    expectError(
      await accept({ token: 'x'.repeat(43), username: 'n', password: PASSWORD }),
      403,
      'INVITE_INVALID',
    );
    const pending = await invite({ role: 'user' });
    expect(
      (await h.call('DELETE', `/api/v1/invites/${pending.invite.id}`, { cookie: admin })).status,
    ).toBe(204);
    expectError(await accept({ token: pending.token, username: 'n', password: PASSWORD }), 403);
    expectError(
      await h.call('DELETE', `/api/v1/invites/${pending.invite.id}`, { cookie: admin }),
      404,
    );
  });

  it('validates invitations and the account they create', async () => {
    for (const body of [
      {},
      { role: 'root' },
      { role: 'user', sites: ['nowhere'] },
      { role: 'user', sites: [] },
      { role: 'user', expiresInHours: 0 },
      { role: 'user', expiresInHours: 10_000 },
      { role: 'user', username: 'a b/../<x>' },
      { role: 'user', username: 'x'.repeat(65) },
      { role: 'user', extra: true },
    ]) {
      expectError(await h.call('POST', '/api/v1/invites', { cookie: admin, body }), 400);
    }
    expectError(
      await h.call('POST', '/api/v1/invites', {
        cookie: admin,
        body: { role: 'user', username: 'admin' },
      }),
      409,
    );
    const { token } = await invite({ role: 'user' });
    for (const body of [
      { token, username: 'n', password: 'short' },
      { token, username: HOSTILE[1], password: PASSWORD },
      { token, username: 'n', password: 'x'.repeat(2000) },
      { token: 'x'.repeat(200), username: 'n', password: PASSWORD },
      { token, username: 'n' },
    ]) {
      expectError(await h.call('POST', '/api/v1/invites/accept', { body }), 400);
    }
    expectError(
      await h.call('POST', '/api/v1/invites/accept', {
        body: { token, username: 'admin', password: PASSWORD },
      }),
      409,
    );
    // Refusals did not use the invitation up.
    const ok = await h.call('POST', '/api/v1/invites/accept', {
      body: { token, username: 'newbie', password: PASSWORD },
    });
    expect(ok.status, ok.text).toBe(201);
  });

  it('lets a site-scoped admin invite only within their sites', async () => {
    const scoped = await h.loginAs('admin', 'ada', { sites: ['hall-a'] });
    const within = await h.call('POST', '/api/v1/invites', {
      cookie: scoped,
      body: { role: 'operator', sites: ['hall-a'] },
    });
    expect(within.status, within.text).toBe(201);
    expectError(
      await h.call('POST', '/api/v1/invites', {
        cookie: scoped,
        body: { role: 'operator', sites: ['hall-b'] },
      }),
      400,
    );
    expectError(
      await h.call('POST', '/api/v1/invites', { cookie: scoped, body: { role: 'operator' } }),
      403,
    );
    const users = (await h.call('GET', '/api/v1/users', { cookie: scoped })).json as {
      items: { username: string }[];
    };
    expect(users.items.map((u) => u.username)).toEqual(['ada']);
  });
});

describe('organization and sites', () => {
  beforeEach(async () => {
    h = await startHarness();
    admin = await h.setupAdmin();
  });
  afterEach(() => h.close());

  it('creates the organization at setup and renames it', async () => {
    const org = await h.call('GET', '/api/v1/organization', { cookie: admin });
    expect(org.json).toMatchObject({ name: 'My organization' });
    const renamed = await h.call('PATCH', '/api/v1/organization', {
      cookie: admin,
      body: { name: 'ACME Additive' },
    });
    expect(renamed.json).toMatchObject({ name: 'ACME Additive' });
    for (const body of [
      {},
      { name: '' },
      { name: 'x'.repeat(201) },
      { name: 'a\nb' },
      { id: 'x' },
    ]) {
      expectError(await h.call('PATCH', '/api/v1/organization', { cookie: admin, body }), 400);
    }
    const operator = await h.loginAs('operator', 'olga');
    expect((await h.call('GET', '/api/v1/organization', { cookie: operator })).status).toBe(200);
    expectError(
      await h.call('PATCH', '/api/v1/organization', { cookie: operator, body: { name: 'x' } }),
      403,
    );
    expect((await audit('&action=organization.update'))[0]).toMatchObject({
      details: { name: 'ACME Additive', previousName: 'My organization' },
    });
  });

  it('creates, lists, edits and removes sites, refusing to remove one with devices', async () => {
    const create = (body: Record<string, unknown>) =>
      h.call('POST', '/api/v1/sites', { cookie: admin, body });
    const res = await create({ id: 'hall-a', name: 'Hall A', timezone: 'Europe/Berlin' });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ id: 'hall-a', devices: 0, description: null });
    expectError(await create({ id: 'hall-a', name: 'Again' }), 409, 'CONFLICT');
    await create({ id: 'hall-b', name: 'Hall B' });
    h.ingest.emit({ type: 'device', device: deviceView('p1', { siteId: 'hall-a' }) });
    const list = await h.call('GET', '/api/v1/sites', { cookie: admin });
    expect(list.json).toMatchObject({
      items: [
        { id: 'hall-a', devices: 1 },
        { id: 'hall-b', devices: 0 },
      ],
    });
    const edited = await h.call('PATCH', '/api/v1/sites/hall-b', {
      cookie: admin,
      body: { name: 'Hall B (north)', description: 'Cooling', timezone: null },
    });
    expect(edited.json).toMatchObject({ name: 'Hall B (north)', description: 'Cooling' });
    expectError(
      await h.call('DELETE', '/api/v1/sites/hall-a', { cookie: admin }),
      409,
      'SITE_NOT_EMPTY',
    );
    expect((await h.call('DELETE', '/api/v1/sites/hall-b', { cookie: admin })).status).toBe(204);
    expectError(
      await h.call('DELETE', '/api/v1/sites/hall-b', { cookie: admin }),
      404,
      'SITE_NOT_FOUND',
    );
    expectError(
      await h.call('PATCH', '/api/v1/sites/nope', { cookie: admin, body: { name: 'x' } }),
      404,
    );
    const actions = (await audit('&action=site.*')).map((e) => e.action);
    expect(actions).toEqual(['site.delete', 'site.update', 'site.create', 'site.create']);
  });

  it('refuses malformed and hostile sites', async () => {
    for (const body of [
      {},
      { id: 'x' },
      { name: 'x' },
      { id: '-bad', name: 'x' },
      { id: 'a/b', name: 'x' },
      { id: 'x'.repeat(65), name: 'x' },
      { id: 'ok', name: 'x', timezone: 'Mars/Olympus' },
      { id: 'ok', name: 'x', description: 'd'.repeat(1001) },
      { id: 'ok', name: '\u0000' },
      ...HOSTILE.map((id) => ({ id, name: 'x' })),
    ]) {
      expectError(await h.call('POST', '/api/v1/sites', { cookie: admin, body }), 400);
    }
    const big = await h.call('POST', '/api/v1/sites', {
      cookie: admin,
      raw: JSON.stringify({ id: 'big', name: 'x'.repeat(100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect([400, 413]).toContain(big.status);
    expect(big.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect((await h.call('GET', '/api/v1/sites', { cookie: admin })).json).toEqual({ items: [] });
  });
});

describe('account lockout', () => {
  beforeEach(async () => {
    h = await startHarness({
      auth: { sessionHours: 12, sessionIdleMinutes: 60, loginMaxFailures: 3, lockoutMinutes: 5 },
      // Per-address limit well above the lockout, so the lockout is what answers.
      loginLimits: { maxFailures: 100, windowMs: 15 * 60_000, maxKeys: 1000 },
      auditThrottle: { perKeyMs: 1000, globalPerSecond: 1000, maxKeys: 1000 },
    });
    admin = await h.setupAdmin();
  });
  afterEach(() => h.close());

  const login = (username: string, password: string) =>
    h.call('POST', '/api/v1/auth/login', { body: { username, password } });

  it('locks an account after N failures, refuses even the right password, audits, and unlocks', async () => {
    await h.loginAs('operator', 'olga');
    for (let i = 0; i < 3; i++) expectError(await login('olga', `wrong ${i} password`), 401);
    const locked = await login('olga', PASSWORD);
    expectError(locked, 429, 'RATE_LIMITED');
    const retry = Number(locked.headers['retry-after']);
    expect(retry).toBeGreaterThan(200);
    expect(retry).toBeLessThanOrEqual(300);
    const users = (await h.call('GET', '/api/v1/users', { cookie: admin })).json as {
      items: { username: string; lockedUntil: string | null; id: string }[];
    };
    const olga = users.items.find((u) => u.username === 'olga')!;
    expect(olga.lockedUntil).not.toBeNull();

    const entries = await audit('&actor=olga');
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual(
      expect.arrayContaining(['auth.login:refused', 'auth.lockout:refused']),
    );
    expect(entries.find((e) => e.action === 'auth.lockout')).toMatchObject({
      source: '127.0.0.1',
      details: { lockoutsInARow: 1 },
    });

    const unlocked = await h.call('POST', `/api/v1/users/${olga.id}/unlock`, { cookie: admin });
    expect(unlocked.json).toEqual({ unlocked: true });
    expect((await login('olga', PASSWORD)).status).toBe(200);
    expect((await audit('&action=user.unlock'))[0]).toMatchObject({
      actor: 'admin',
      target: olga.id,
      details: { wasLocked: true },
    });
  });

  it('treats an unknown user name like a real one (no account enumeration)', async () => {
    for (let i = 0; i < 3; i++) await login('ghost', `wrong ${i} password`);
    for (let i = 0; i < 3; i++) await login('admin', `wrong ${i} password`);
    const ghost = await login('ghost', 'anything at all');
    const real = await login('admin', 'anything at all');
    expect(ghost.status).toBe(429);
    expect(real.status).toBe(429);
    expect(ghost.json).toEqual(real.json);
  });

  it('bounds the audit records a flood of failed logins writes', async () => {
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => login('admin', 'not the password!!')),
    );
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(results.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    const entries = await audit('&action=auth.*&outcome=refused');
    // At most one record per address and name per second, plus the lockout's.
    expect(entries.length).toBeLessThanOrEqual(seconds + 2);
    expect(entries.length).toBeLessThan(30);
    const attempts = entries
      .filter((e) => e.action === 'auth.login')
      .reduce((n, e) => n + Number(e.details.attempts ?? 0), 0);
    expect(attempts).toBeGreaterThanOrEqual(1);
  });
});

describe('audit log', () => {
  beforeEach(async () => {
    h = await startHarness();
    admin = await h.setupAdmin();
  });
  afterEach(() => h.close());

  it('records logins, logouts, tokens and setup, and filters by actor, action, target, time', async () => {
    const olga = await h.loginAs('operator', 'olga');
    const created = await h.call('POST', '/api/v1/tokens', { cookie: olga, body: { name: 'ci' } });
    const tokenId = (created.json as { id: string }).id;
    await h.call('DELETE', `/api/v1/tokens/${tokenId}`, { cookie: olga });
    await h.call('POST', '/api/v1/auth/logout', { cookie: olga });
    const actions = (await audit('&actor=olga')).map((e) => e.action);
    expect(actions).toEqual(['auth.logout', 'token.revoke', 'token.create', 'auth.login']);
    expect(await audit('&action=setup.complete')).toHaveLength(1);
    expect((await audit(`&target=${tokenId}`)).map((e) => e.action)).toEqual([
      'token.revoke',
      'token.create',
    ]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await audit(`&since=${encodeURIComponent(future)}`)).toEqual([]);
    const page = await h.call('GET', '/api/v1/audit?limit=2&offset=1', { cookie: admin });
    expect(page.json).toMatchObject({ limit: 2, offset: 1 });
    expect((page.json as { items: unknown[]; total: number }).items).toHaveLength(2);
    for (const q of [
      'limit=0',
      'limit=501',
      'since=yesterday',
      'outcome=maybe',
      'actor=' + 'x'.repeat(300),
    ]) {
      expectError(await h.call('GET', `/api/v1/audit?${q}`, { cookie: admin }), 400);
    }
    expectError(await h.call('GET', '/api/v1/audit', { cookie: olga }), 401);
  });
});
