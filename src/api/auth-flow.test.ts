// Setup, login/logout, sessions (idle and absolute expiry), login rate limit and API tokens, over
// real HTTPS against a real SQLite store.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../auth/secret-tokens.js';
import { PASSWORD, startHarness, type Harness } from './api-test-harness.js';

let h: Harness;

afterEach(async () => {
  await h.close();
});

describe('setup', () => {
  beforeEach(async () => {
    h = await startHarness();
  });

  it('reports setup as required, then creates the first admin once', async () => {
    expect(h.setupToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await h.call('GET', '/api/v1/info')).json).toMatchObject({ setupRequired: true });
    const ok = await h.call('POST', '/api/v1/setup', {
      body: { token: h.setupToken, username: 'admin', password: PASSWORD },
    });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ user: { username: 'admin', role: 'admin' } });
    expect(JSON.stringify(ok.json)).not.toContain('scrypt');
    expect((await h.call('GET', '/api/v1/info')).json).toMatchObject({ setupRequired: false });
    const again = await h.call('POST', '/api/v1/setup', {
      body: { token: h.setupToken, username: 'admin2', password: PASSWORD },
    });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      error: { code: 'SETUP_ALREADY_DONE', message: expect.any(String) as string },
    });
    expect(await h.auth.prepareSetup()).toBeNull();
  });

  it('refuses a wrong setup token with 403 and stores only its hash', async () => {
    const wrong = await h.call('POST', '/api/v1/setup', {
      body: { token: 'x'.repeat(43), username: 'admin', password: PASSWORD },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({ error: { code: 'SETUP_TOKEN_INVALID' } });
    const stored = await h.store.settings.get('setup.tokenHash');
    expect(stored).toBe(hashSecret(h.setupToken!));
    expect(stored).not.toContain(h.setupToken!);
  });

  it('refuses an expired setup token', async () => {
    await h.store.settings.set('setup.expiresAt', new Date(Date.now() - 1000).toISOString());
    const res = await h.call('POST', '/api/v1/setup', {
      body: { token: h.setupToken, username: 'admin', password: PASSWORD },
    });
    expect(res.status).toBe(403);
  });

  it.each([
    ['too short', 'admin', 'short'],
    ['one repeated character', 'admin', 'aaaaaaaaaaaaaaaa'],
    ['equal to the user name', 'administrator', 'administrator'],
    ['too long', 'admin', 'x'.repeat(1025) + 'y'],
    ['a hostile user name', 'a b/../<script>', PASSWORD],
  ])('refuses a weak password or bad user name (%s) with 400', async (_why, username, password) => {
    const res = await h.call('POST', '/api/v1/setup', {
      body: { token: h.setupToken, username, password },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(await h.store.users.count()).toBe(0);
  });

  it('creates exactly one admin when setups race', async () => {
    const results = await Promise.all(
      ['a1', 'a2', 'a3'].map((username) =>
        h.call('POST', '/api/v1/setup', {
          body: { token: h.setupToken, username, password: PASSWORD },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await h.store.users.count()).toBe(1);
  });
});

describe('sessions', () => {
  beforeEach(async () => {
    h = await startHarness({ auth: { sessionHours: 1, sessionIdleMinutes: 10 } });
  });

  it('logs in with a secure cookie, answers /me, and logs out', async () => {
    await h.setupAdmin();
    const login = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^cc_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    const cookie = setCookie.split(';')[0]!;

    const me = await h.call('GET', '/api/v1/auth/me', { cookie });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ user: { username: 'admin', role: 'admin' }, via: 'session' });

    const out = await h.call('POST', '/api/v1/auth/logout', { cookie });
    expect(out.status).toBe(204);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie })).status).toBe(401);
  });

  it('answers the same for an unknown user and a wrong password', async () => {
    await h.setupAdmin();
    const unknown = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'nobody', password: PASSWORD },
    });
    const wrong = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: 'wrong password!!' },
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json);
    expect(unknown.headers['set-cookie']).toBeUndefined();
  });

  async function ageSession(cookie: string, change: { lastSeenAt?: number; expiresAt?: number }) {
    const idHash = hashSecret(cookie.replace('cc_session=', ''));
    const session = (await h.store.sessions.get(idHash))!;
    await h.store.sessions.remove(idHash);
    await h.store.sessions.create({
      ...session,
      createdAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      ...(change.lastSeenAt ? { lastSeenAt: new Date(change.lastSeenAt).toISOString() } : {}),
      ...(change.expiresAt ? { expiresAt: new Date(change.expiresAt).toISOString() } : {}),
    });
  }

  it('expires a session left idle longer than the idle timeout', async () => {
    const cookie = await h.setupAdmin();
    expect((await h.call('GET', '/api/v1/auth/me', { cookie })).status).toBe(200);
    await ageSession(cookie, { lastSeenAt: Date.now() - 11 * 60_000 });
    const res = await h.call('GET', '/api/v1/auth/me', { cookie });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
  });

  it('expires a session at its absolute expiry even when in use', async () => {
    const cookie = await h.setupAdmin();
    await ageSession(cookie, { lastSeenAt: Date.now() - 1000, expiresAt: Date.now() - 1 });
    expect((await h.call('GET', '/api/v1/auth/me', { cookie })).status).toBe(401);
  });

  it('refuses a forged or malformed session cookie', async () => {
    await h.setupAdmin();
    for (const cookie of ['cc_session=forged', `cc_session=${'A'.repeat(43)}`, 'cc_session=']) {
      expect((await h.call('GET', '/api/v1/devices', { cookie })).status).toBe(401);
    }
  });

  it('refuses a cross-origin state change made with a session cookie', async () => {
    const cookie = await h.setupAdmin();
    const res = await h.call('POST', '/api/v1/tokens', {
      cookie,
      body: { name: 'x' },
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
  });
});

describe('login rate limit', () => {
  beforeEach(async () => {
    h = await startHarness({ loginLimits: { maxFailures: 3, windowMs: 60_000, maxKeys: 100 } });
  });

  it('answers 429 with Retry-After after too many failures, even with the right password', async () => {
    await h.setupAdmin();
    for (let i = 0; i < 3; i++) {
      const res = await h.call('POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: `wrong password ${i}` },
      });
      expect(res.status).toBe(401);
    }
    const limited = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: PASSWORD },
    });
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('API tokens', () => {
  beforeEach(async () => {
    h = await startHarness();
  });

  it('creates a token shown once, uses it as Bearer, lists it without secret, revokes it', async () => {
    const cookie = await h.setupAdmin();
    const created = await h.call('POST', '/api/v1/tokens', {
      cookie,
      body: { name: 'grafana', expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    const { id, token, role } = created.json as { id: string; token: string; role: string };
    expect(token).toMatch(/^cc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(role).toBe('admin');
    const stored = await h.store.apiTokens.get(id);
    expect(stored?.secretHash).not.toContain(token.split('_').slice(2).join('_'));

    const me = await h.call('GET', '/api/v1/auth/me', { token });
    expect(me.json).toMatchObject({ via: 'token', user: { username: 'admin' } });
    expect((await h.call('GET', '/metrics', { token })).status).toBe(200);

    const list = await h.call('GET', '/api/v1/tokens', { cookie });
    expect(list.text).not.toContain(token);
    expect(list.json).toMatchObject({ items: [{ id, name: 'grafana', revokedAt: null }] });

    // A token cannot mint more tokens.
    expect((await h.call('POST', '/api/v1/tokens', { token, body: { name: 'x' } })).status).toBe(
      403,
    );

    expect((await h.call('DELETE', `/api/v1/tokens/${id}`, { cookie })).status).toBe(204);
    expect((await h.call('GET', '/api/v1/auth/me', { token })).status).toBe(401);
    expect((await h.call('DELETE', '/api/v1/tokens/nope', { cookie })).status).toBe(404);
  });

  it('refuses expired, tampered and malformed tokens', async () => {
    const cookie = await h.setupAdmin();
    const created = await h.call('POST', '/api/v1/tokens', { cookie, body: { name: 'ci' } });
    const { id, token } = created.json as { id: string; token: string };
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of [tampered, 'cc_nothex_x', 'garbage', `cc_${id}_`]) {
      expect((await h.call('GET', '/api/v1/devices', { token: bad })).status).toBe(401);
    }
    expect(
      (await h.call('GET', '/api/v1/devices', { headers: { authorization: 'Basic abc' } })).status,
    ).toBe(401);
    const stored = (await h.store.apiTokens.get(id))!;
    await h.store.apiTokens.revoke(id, new Date().toISOString());
    expect(stored.revokedAt).toBeNull();
    expect((await h.call('GET', '/api/v1/devices', { token })).status).toBe(401);
  });

  it('scopes a token: a weaker role, sites, API Proxy access; never stronger than its creator', async () => {
    const admin = await h.setupAdmin();
    const proxy = { devices: ['printer-01'], methods: ['get'], paths: ['/ws/v1/status'] };
    const kiosk = await h.call('POST', '/api/v1/tokens', {
      cookie: admin,
      body: { name: 'kiosk', role: 'dashboard', sites: ['site-a', 'site-a'] },
    });
    expect(kiosk.status, kiosk.text).toBe(201);
    expect(kiosk.json).toMatchObject({
      role: 'dashboard',
      scope: { sites: ['site-a'], proxy: null },
    });
    const kioskToken = (kiosk.json as { token: string }).token;
    expect((await h.call('GET', '/api/v1/devices', { token: kioskToken })).status).toBe(200);
    expect((await h.call('GET', '/metrics', { token: kioskToken })).status).toBe(403);

    const integration = await h.call('POST', '/api/v1/tokens', {
      cookie: admin,
      body: { name: 'mes', role: 'user', proxy: { ...proxy, methods: ['GET'] } },
    });
    expect(integration.status, integration.text).toBe(201);
    const stored = await h.store.apiTokens.get((integration.json as { id: string }).id);
    expect(stored?.scope).toEqual({ sites: null, proxy: { ...proxy, methods: ['GET'] } });

    const operator = await h.loginAs('operator', 'olga');
    const escalate = await h.call('POST', '/api/v1/tokens', {
      cookie: operator,
      body: { name: 'up', role: 'admin' },
    });
    expect(escalate.status).toBe(403);
    expect(escalate.json).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const proxyByOperator = await h.call('POST', '/api/v1/tokens', {
      cookie: operator,
      body: { name: 'p', proxy: { ...proxy, methods: ['GET'] } },
    });
    expect(proxyByOperator.status).toBe(403);
    for (const bad of [
      { name: 'x', proxy: { ...proxy, methods: ['TRACE'] } },
      { name: 'x', proxy: { ...proxy, paths: ['/etc/passwd'] } },
      { name: 'x', proxy: { ...proxy, paths: ['/ws/v1/../admin'] } },
      { name: 'x', sites: [] },
      { name: 'x', role: 'root' },
    ]) {
      const res = await h.call('POST', '/api/v1/tokens', { cookie: admin, body: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('validates the token request', async () => {
    const cookie = await h.setupAdmin();
    for (const body of [
      {},
      { name: '' },
      { name: 'x', expiresInDays: 0 },
      { name: 'x', extra: 1 },
    ]) {
      const res = await h.call('POST', '/api/v1/tokens', { cookie, body });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });
});
