// Bad requests get a JSON error with a stable code and never a stack trace: unknown routes,
// validation, malformed JSON, oversized bodies and headers, wrong media types, internal failures.

import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Answer, type Harness } from './api-test-harness.js';

let h: Harness;
let cookie: string;

beforeAll(async () => {
  h = await startHarness({ bodyLimit: 4096 });
  cookie = await h.setupAdmin();
});
afterAll(async () => {
  await h.close();
});

function expectError(res: Answer, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: { code, message: expect.any(String) as string } });
  expect(res.text).not.toMatch(/\bat .+\(.*:\d+:\d+\)|node_modules|\.ts:\d+/);
}

/** Sends raw bytes over TLS and returns the raw answer (for requests a client library refuses). */
async function rawRequest(h: Harness, text: string): Promise<string> {
  const url = new URL(h.server.urls.https);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: h.certPem }, () => {
      socket.write(text);
    });
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('error answers', () => {
  it('answers 404 ROUTE_NOT_FOUND for an unknown route', async () => {
    expectError(await h.call('GET', '/api/v1/nothing-here', { cookie }), 404, 'ROUTE_NOT_FOUND');
    expectError(await h.call('GET', '/%E0%A4%A', {}), 400, 'BAD_REQUEST');
  });

  it('answers 400 VALIDATION_FAILED naming the field', async () => {
    const res = await h.call('GET', '/api/v1/devices?limit=100000', { cookie });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect((res.json as { error: { message: string } }).error.message).toMatch(/limit/);
    expectError(
      await h.call('GET', '/api/v1/devices?state=exploded', { cookie }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await h.call('GET', '/api/v1/jobs?since=yesterday', { cookie }),
      400,
      'VALIDATION_FAILED',
    );
    const login = await h.call('POST', '/api/v1/auth/login', { body: { username: 'a' } });
    expectError(login, 400, 'VALIDATION_FAILED');
    expect((login.json as { error: { message: string } }).error.message).toMatch(/password/);
  });

  it('answers 400 for malformed JSON and 415 for another media type', async () => {
    const headers = { 'content-type': 'application/json' };
    expectError(
      await h.call('POST', '/api/v1/auth/login', { raw: '{"username":', headers }),
      400,
      'BAD_REQUEST',
    );
    expectError(
      await h.call('POST', '/api/v1/auth/login', {
        raw: 'username=a',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await h.call('POST', '/api/v1/auth/login', { raw: '{"__proto__":{"x":1}}', headers }),
      400,
      'BAD_REQUEST',
    );
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const res = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'a', password: 'x'.repeat(10_000) },
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 431 in the same JSON shape for huge headers', async () => {
    const answer = await rawRequest(
      h,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
    expect(answer).toContain('{"error":{"code":"HEADERS_TOO_LARGE"');
  });

  it('answers a garbage request line with 400 JSON and stays up', async () => {
    const answer = await rawRequest(h, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
  });

  it('answers 500 INTERNAL with a generic message when the store fails', async () => {
    const original = h.store.jobs.list.bind(h.store.jobs);
    h.store.jobs.list = () => Promise.reject(new Error('disk on fire at /secret/path'));
    try {
      const res = await h.call('GET', '/api/v1/jobs', { cookie });
      expectError(res, 500, 'INTERNAL');
      expect(res.text).not.toContain('disk on fire');
    } finally {
      h.store.jobs.list = original;
    }
  });
});

describe('response headers', () => {
  it('sets security headers and a request id', async () => {
    const res = await h.call('GET', '/healthz');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await h.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-42' } });
    expect(echoed.headers['x-request-id']).toBe('trace-42');
    const hostile = await h.call('GET', '/healthz', {
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the interactive docs to logged-in users with a CSP that lets them run', async () => {
    expect((await h.call('GET', '/api/docs/')).status).toBe(401);
    const page = await h.call('GET', '/api/docs/', { cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-initializer.js');
    expect(page.headers['content-security-policy']).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('serves Prometheus metrics to admins', async () => {
    const res = await h.call('GET', '/metrics', { cookie });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('cc_stream_clients');
  });
});
