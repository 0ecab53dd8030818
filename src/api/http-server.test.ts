// The plain-HTTP port: health, readiness, the certificate download, and redirects to HTTPS that a
// hostile Host header cannot turn into an open redirect.

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './api-test-harness.js';
import { certificateHostNames, createHostMatcher } from './redirect-hosts.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await request(`${h.server.urls.http}${path}`, { method: method as 'GET', headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('plain HTTP port', () => {
  it('serves health, readiness and the certificate', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const ca = await get('/ca.crt');
    expect(ca.status).toBe(200);
    expect(ca.headers['content-type']).toBe('application/x-pem-file');
    expect(ca.text).toBe(h.certPem);
  });

  it('redirects everything else to the same path on HTTPS', async () => {
    const httpsPort = new URL(h.server.urls.https).port;
    const res = await get('/api/v1/devices?limit=5');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${httpsPort}/api/v1/devices?limit=5`);
    const named = await get('/x', { host: 'LOCALHOST:1234' });
    expect(named.headers.location).toBe(`https://localhost:${httpsPort}/x`);
    const post = await get('/api/v1/auth/login', {}, 'POST');
    expect(post.status).toBe(308);
    const slashes = await get('//evil.example/path');
    expect(slashes.headers.location).toBe(`https://127.0.0.1:${httpsPort}//evil.example/path`);
  });

  it.each([
    'evil.example',
    'evil.example:80',
    'localhost.evil.example',
    '127.0.0.1@evil.example',
    'localhost/evil',
    '[::1]',
    'a'.repeat(300),
  ])('refuses to redirect to the hostile host %s', async (host) => {
    const res = await get('/login', { host });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});

describe('redirect host matching', () => {
  it('takes host names from the certificate', () => {
    expect(certificateHostNames(h.certPem).sort()).toEqual(['127.0.0.1', 'localhost']);
  });

  it('matches a wildcard name on exactly one label', () => {
    const m = createHostMatcher(['*.plant.example', '::1']);
    expect(m.allowedHost('cc.plant.example:8080')).toBe('cc.plant.example');
    expect(m.allowedHost('a.b.plant.example')).toBeUndefined();
    expect(m.allowedHost('plant.example')).toBeUndefined();
    expect(m.allowedHost('[::1]:8080')).toBe('[::1]');
    expect(m.allowedHost(undefined)).toBeUndefined();
    expect(m.allowedHost('cc.plant.example\r\nSet-Cookie: x')).toBeUndefined();
  });
});
