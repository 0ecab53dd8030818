// The dashboard's static files: index.html for every client route (never cached), hashed assets
// cached for a year, a clear 503 page when the app was not built, and API paths never shadowed.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/index.js';
import { startHarness, type Harness } from '../api-test-harness.js';
import type { ApiApp } from '../api-types.js';
import { registerErrorHandling } from '../error-handler.js';
import { CLIENT_ROUTES, registerDashboardRoutes } from './dashboard.js';

const INDEX =
  '<!doctype html><title>Command Center</title><script type="module" src="/assets/index-abc123.js"></script>';

async function appFor(rootDir: string): Promise<ApiApp> {
  const app = Fastify({ loggerInstance: silentLogger() }) as unknown as ApiApp;
  registerErrorHandling(app, silentLogger());
  registerDashboardRoutes(app, { rootDir });
  await app.ready();
  return app;
}

describe('dashboard static files', () => {
  let dir: string;
  let built: ApiApp;
  let missing: ApiApp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-web-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), INDEX);
    await writeFile(join(dir, 'dist', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'dist', 'assets', 'index-def456.css'), 'body{}');
    built = await appFor(join(dir, 'dist'));
    missing = await appFor(join(dir, 'nothing-here'));
  });

  afterAll(async () => {
    await built.close();
    await missing.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    '/',
    '/fleet',
    '/devices/printer-01',
    '/jobs',
    '/alerts',
    '/wall',
    '/setup',
    '/invite',
    '/login',
    '/settings',
    '/users',
    '/audit',
  ])('answers index.html, never cached, for the client route %s', async (url) => {
    const res = await built.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(INDEX);
  });

  it('serves hashed assets with their type and a year of immutable caching', async () => {
    const js = await built.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await built.inject({ method: 'GET', url: '/assets/index-def456.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await built.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.headers['content-type']).toBe('image/svg+xml');
  });

  it.each([
    '/assets/nope.js',
    '/assets/..%2Fpackage.json',
    '/assets/%2e%2e%2fdist%2findex.html',
    '/assets/',
  ])('answers 404 for %s and never reads outside the build', async (url) => {
    const res = await built.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('Command Center</title>');
  });

  it('still starts without a build and says how to make one', async () => {
    for (const url of ['/', '/fleet', '/setup']) {
      const res = await missing.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('dashboard not built: run npm run build');
    }
    expect(
      (await missing.inject({ method: 'GET', url: '/assets/index-abc123.js' })).statusCode,
    ).toBe(404);
  });

  it('lists only client routes, none under /api or the operational endpoints', () => {
    for (const route of CLIENT_ROUTES) {
      expect(route).not.toMatch(/^\/(api|metrics|healthz|readyz)(\/|$)/);
    }
  });
});

describe('dashboard in the HTTPS app', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('sends the strict Content-Security-Policy with the page', async () => {
    const res = await h.call('GET', '/');
    expect([200, 503]).toContain(res.status);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it.each(['/api/v1/nothing', '/api/v1', '/metricsx', '/healthz/x', '/fleet/x'])(
    'does not answer the page for %s',
    async (url) => {
      const res = await h.call('GET', url);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    },
  );

  it('keeps /healthz, /readyz and /metrics for what they are', async () => {
    expect((await h.call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await h.call('GET', '/readyz')).status).toBe(200);
    expect((await h.call('GET', '/metrics')).status).toBe(401);
  });
});
