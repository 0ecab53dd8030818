import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Answer, type Harness } from './api-test-harness.js';

const ALLOWED = 'https://mes.example.com';
const OTHER = 'https://evil.example.net';

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function preflight(h: Harness, origin: string, method = 'DELETE'): Promise<Answer> {
  return h.call('OPTIONS', '/api/v1/devices', {
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

async function adminToken(h: Harness, cookie: string, role?: string): Promise<string> {
  const origin = h.server.urls.https;
  const answer = await h.call('POST', '/api/v1/tokens', {
    cookie,
    headers: { origin },
    body: { name: `cors-${role ?? 'admin'}`, ...(role ? { role } : {}) },
  });
  const secret = (answer.json as { token?: unknown }).token;
  if (answer.status !== 201 || typeof secret !== 'string') {
    throw new Error(`no token: ${answer.status} ${answer.text}`);
  }
  return secret;
}

describe('CORS, off by default', () => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startHarness();
    token = await adminToken(h, await h.setupAdmin());
  });
  afterAll(() => h.close());

  it('sends no CORS headers to any origin', async () => {
    const answer = await h.call('GET', '/api/v1/devices', { token, headers: { origin: ALLOWED } });
    expect(answer.status).toBe(200);
    expect(header(answer, 'access-control-allow-origin')).toBeUndefined();
  });

  it('answers a preflight with the JSON 404 of an unknown route', async () => {
    const answer = await preflight(h, ALLOWED);
    expect(answer.status).toBe(404);
    expect(header(answer, 'access-control-allow-origin')).toBeUndefined();
    expect((answer.json as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('CORS with an allow-list', () => {
  let h: Harness;
  let cookie: string;
  let token: string;
  beforeAll(async () => {
    h = await startHarness({ corsOrigins: [ALLOWED] });
    cookie = await h.setupAdmin();
    token = await adminToken(h, cookie);
  });
  afterAll(() => h.close());

  it('answers a preflight from a listed origin without allowing credentials', async () => {
    const answer = await preflight(h, ALLOWED);
    expect(answer.status).toBe(204);
    expect(header(answer, 'access-control-allow-origin')).toBe(ALLOWED);
    expect(header(answer, 'vary')).toMatch(/origin/i);
    expect(header(answer, 'access-control-allow-methods')).toContain('DELETE');
    expect(header(answer, 'access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    );
    expect(header(answer, 'access-control-max-age')).toBe('600');
    expect(header(answer, 'access-control-allow-credentials')).toBeUndefined();
  });

  it('gives an unlisted origin, "null" and a look-alike no CORS headers', async () => {
    for (const origin of [OTHER, 'null', `${ALLOWED}.evil.net`, 'http://mes.example.com']) {
      const answer = await preflight(h, origin);
      expect(answer.status, origin).toBe(404);
      expect(header(answer, 'access-control-allow-origin'), origin).toBeUndefined();
      const read = await h.call('GET', '/api/v1/devices', { token, headers: { origin } });
      expect(read.status).toBe(200);
      expect(header(read, 'access-control-allow-origin'), origin).toBeUndefined();
      expect(header(read, 'vary')).toMatch(/origin/i);
    }
  });

  it('lets a listed origin read with a token, and read the errors too', async () => {
    const read = await h.call('GET', '/api/v1/devices', { token, headers: { origin: ALLOWED } });
    expect(read.status).toBe(200);
    expect(header(read, 'access-control-allow-origin')).toBe(ALLOWED);
    expect(header(read, 'access-control-expose-headers')).toContain('x-request-id');
    const anonymous = await h.call('GET', '/api/v1/devices', { headers: { origin: ALLOWED } });
    expect(anonymous.status).toBe(401);
    expect(header(anonymous, 'access-control-allow-origin')).toBe(ALLOWED);
  });

  it('still refuses a cookie-authenticated write from a listed origin (CSRF)', async () => {
    const answer = await h.call('POST', '/api/v1/tokens', {
      cookie,
      headers: { origin: ALLOWED },
      body: { name: 'cross-origin' },
    });
    expect(answer.status).toBe(403);
    expect((answer.json as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });
});

/** Sends a raw request with one header of `size` bytes; returns the status line's code. */
function statusWithHeader(h: Harness, size: number): Promise<number> {
  const url = new URL(h.server.urls.https);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: h.certPem }, () => {
      socket.write(
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(size)}\r\n\r\n`,
      );
    });
    let out = '';
    socket.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^HTTP\/1\.1 \d{3}/.test(out)) {
        socket.destroy();
        resolve(Number(out.slice(9, 12)));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      reject(new Error(`closed without an answer: ${out}`));
    });
  });
}

describe('request head limit', () => {
  it('accepts a 12 KiB header by default and answers 431 over a configured 4 KiB', async () => {
    const wide = await startHarness();
    const narrow = await startHarness({ maxHeaderBytes: 4096 });
    try {
      expect(await statusWithHeader(wide, 12 * 1024)).toBe(200);
      expect(await statusWithHeader(narrow, 3 * 1024)).toBe(200);
      expect(await statusWithHeader(narrow, 6 * 1024)).toBe(431);
      expect(await statusWithHeader(wide, 20 * 1024)).toBe(431);
    } finally {
      await wide.close();
      await narrow.close();
    }
  });
});
