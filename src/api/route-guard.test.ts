// Every route declares a permission: anonymous callers get 401 everywhere but the public routes,
// roles get 403 for what they may not do, and an undeclared route stops the server at start-up.

import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, ROLE_PERMISSIONS } from '../auth/index.js';
import { silentLogger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { startHarness, type Harness } from './api-test-harness.js';
import type { ApiApp } from './api-types.js';
import { registerRouteGuard } from './route-guard.js';

const PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /api/v1/info',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/logout',
  'POST /api/v1/invites/accept',
  // The dashboard's static shell: the page itself holds no data and logs in through the API.
  'GET /',
  'GET /index.html',
  'GET /login',
  'GET /setup',
  'GET /invite',
  'GET /fleet',
  'GET /devices/:id',
  'GET /jobs',
  'GET /alerts',
  'GET /wall',
  'GET /cloud',
  'GET /firmware',
  'GET /network',
  'GET /users',
  'GET /audit',
  'GET /settings',
  'GET /favicon.svg',
  'GET /assets/*',
]);

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('route guard', () => {
  it('declares a permission on every route and refuses anonymous callers except public ones', async () => {
    const routes = h.server.routes();
    expect(routes.length).toBeGreaterThan(15);
    const publicSeen: string[] = [];
    for (const route of routes) {
      if (route.method === 'HEAD' || route.method === 'OPTIONS') continue;
      const key = `${route.method} ${route.url}`;
      if (route.permission === 'public') {
        publicSeen.push(key);
        continue;
      }
      const path = route.url.replace(/:[A-Za-z]+/g, 'x').replace('*', 'x');
      const res = await h.call(route.method, path, {
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }),
      });
      expect(res.status, key).toBe(401);
      expect(res.json, key).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    }
    expect(publicSeen.sort()).toEqual([...PUBLIC].sort());
  });

  it('lists every declared route in the OpenAPI document', async () => {
    const cookie = await h.loginAs('operator', 'olga');
    const doc = await h.call('GET', '/api/v1/openapi.json', { cookie });
    expect(doc.status).toBe(200);
    const paths = Object.keys((doc.json as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/v1/devices', '/api/v1/devices/{id}/metrics', '/api/v1/tokens']),
    );
  });

  it('refuses with 403 what a role may not do', async () => {
    const dashboard = await h.loginAs('dashboard', 'wall');
    const user = await h.loginAs('user', 'ulla');
    expect((await h.call('GET', '/api/v1/devices', { cookie: dashboard })).status).toBe(200);
    const ack = await h.call('POST', '/api/v1/alerts/a1/ack', { cookie: dashboard, body: {} });
    expect(ack.status).toBe(403);
    expect(ack.json).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await h.call('GET', '/metrics', { cookie: dashboard })).status).toBe(403);
    expect(
      (await h.call('POST', '/api/v1/tokens', { cookie: dashboard, body: { name: 'x' } })).status,
    ).toBe(403);
    expect((await h.call('GET', '/metrics', { cookie: user })).status).toBe(403);
    expect((await h.call('GET', '/api/v1/jobs', { cookie: user })).status).toBe(200);
  });

  it('gives admins every permission in the table', () => {
    expect(ROLE_PERMISSIONS.admin.length).toBeGreaterThanOrEqual(ROLE_PERMISSIONS.operator.length);
    for (const role of ['operator', 'dashboard', 'user'] as const) {
      for (const p of ROLE_PERMISSIONS[role]) expect(ROLE_PERMISSIONS.admin).toContain(p);
    }
  });

  it('stops start-up when a route declares no permission', async () => {
    const auth = createAuth(
      { store: {} as Store, logger: silentLogger() },
      { sessionHours: 1, sessionIdleMinutes: 1 },
    );
    const app = Fastify() as unknown as ApiApp;
    registerRouteGuard(app, auth);
    expect(() => app.get('/undeclared', () => 'x')).toThrow(/declares no valid permission/);
    expect(() =>
      app.get('/typo', { config: { permission: 'fleet:raed' as 'fleet:read' } }, () => 'x'),
    ).toThrow(/declares no valid permission/);
    await app.close();
  });
});
