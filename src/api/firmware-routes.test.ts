// The firmware catalog over HTTPS: uploads streamed as application/octet-stream with a real undici
// request, every refusal answered with the verdict's checks beside the JSON error, list/get/delete,
// the trust policy without key material, and who may do what.

import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import {
  forgeries,
  makeVendor,
  signedPackage,
  trustOf,
} from '../firmware/catalog/catalog-test-harness.js';
import { startFtpServer, type TestFtpServer } from '../../test/fixtures/ftp-server.js';
import { startHarness, type Harness } from './api-test-harness.js';

const vendor = makeVendor();
const retired = makeVendor();
const MAX_BYTES = 1024 * 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

let h: Harness;
let agent: Agent;
let admin: string;
let operator: string;
let origin: string;

async function upload(
  body: Buffer | Readable,
  options: { cookie?: string; contentType?: string; length?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/octet-stream',
    cookie: options.cookie ?? admin,
    origin,
  };
  if (options.length !== undefined) headers['content-length'] = String(options.length);
  const res = await request(`${origin}/api/v1/firmware/packages`, {
    method: 'POST',
    headers,
    body,
    dispatcher: agent,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: text ? JSON.parse(text) : undefined,
  };
}

function checksOf(answer: Answer): Check[] {
  return (answer.json as { verdict: { checks: Check[] } }).verdict.checks;
}

beforeAll(async () => {
  h = await startHarness({
    firmware: { trust: trustOf([vendor], [retired]), maxPackageBytes: MAX_BYTES },
  });
  origin = h.server.urls.https;
  agent = new Agent({ connect: { ca: h.certPem } });
  admin = await h.setupAdmin();
  operator = await h.loginAs('operator', 'olga');
});

afterAll(async () => {
  await agent.close();
  await h.close();
});

describe('firmware catalog API', () => {
  it('declares a permission on every firmware catalog route', () => {
    const declared = h.server
      .routes()
      .filter(
        (r) =>
          r.url.startsWith('/api/v1/firmware') && !r.url.startsWith('/api/v1/firmware/rollouts'),
      )
      .map((r) => `${r.method} ${r.url} ${r.permission}`)
      .sort();
    expect(declared).toEqual([
      'DELETE /api/v1/firmware/packages/:id firmware:manage',
      'GET /api/v1/firmware/packages fleet:read',
      'GET /api/v1/firmware/packages/:id fleet:read',
      'GET /api/v1/firmware/sync firmware:manage',
      'GET /api/v1/firmware/trust firmware:manage',
      'HEAD /api/v1/firmware/packages fleet:read',
      'HEAD /api/v1/firmware/packages/:id fleet:read',
      'HEAD /api/v1/firmware/sync firmware:manage',
      'HEAD /api/v1/firmware/trust firmware:manage',
      'POST /api/v1/firmware/packages firmware:manage',
      'POST /api/v1/firmware/sync firmware:manage',
    ]);
  });

  it('admits a streamed upload (201), lists, shows and deletes it', async () => {
    const bytes = signedPackage([vendor]);
    const chunks = Readable.from(
      Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
        bytes.subarray(i * 1000, (i + 1) * 1000),
      ),
    );
    const created = await upload(chunks);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const pkg = created.json as { id: string; checks: Check[]; name: string; file?: unknown };
    expect(pkg.checks.map((c) => c.ok)).toEqual(Array(10).fill(true));
    expect(pkg).not.toHaveProperty('file');

    const again = await upload(bytes);
    expect(again.status).toBe(200);
    expect((again.json as { id: string }).id).toBe(pkg.id);

    const list = await h.call('GET', '/api/v1/firmware/packages?model=Fusion%20P5', {
      cookie: operator,
    });
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ total: 1, items: [{ id: pkg.id }] });
    const none = await h.call('GET', '/api/v1/firmware/packages?model=Other', { cookie: admin });
    expect(none.json).toMatchObject({ total: 0, items: [] });
    const shown = await h.call('GET', `/api/v1/firmware/packages/${pkg.id}`, { cookie: operator });
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ id: pkg.id, name: 'fusion-fw', source: 'upload' });

    const byOperator = await h.call('DELETE', `/api/v1/firmware/packages/${pkg.id}`, {
      cookie: operator,
      headers: { origin },
    });
    expect(byOperator.status).toBe(403);
    const removed = await h.call('DELETE', `/api/v1/firmware/packages/${pkg.id}`, {
      cookie: admin,
      headers: { origin },
    });
    expect(removed.status).toBe(204);
    const gone = await h.call('GET', `/api/v1/firmware/packages/${pkg.id}`, { cookie: admin });
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it.each(forgeries(vendor, retired).map((f) => [f.what, f] as const))(
    'answers a package %s with the error and every check',
    async (_what, forgery) => {
      const answer = await upload(forgery.bytes);
      expect(answer.status).toBe(forgery.code === 'FIRMWARE_TOO_LARGE' ? 413 : 422);
      expect(answer.json).toMatchObject({ error: { code: forgery.code } });
      expect(typeof (answer.json as { error: { message: string } }).error.message).toBe('string');
      const checks = checksOf(answer);
      expect(checks).toHaveLength(10);
      expect(checks.find((c) => c.name === forgery.check)).toMatchObject({ ok: false });
    },
  );

  it('answers an oversized upload 413 as soon as it passes the limit, with bounded memory', async () => {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const endless = new Readable({
      read() {
        if (sent >= total) {
          this.push(null);
          return;
        }
        sent += chunk.length;
        this.push(chunk);
      },
    });
    global.gc?.();
    const before = process.memoryUsage();
    const answer = await upload(endless);
    const after = process.memoryUsage();
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ error: { code: 'FIRMWARE_TOO_LARGE' } });
    expect(checksOf(answer)[0]).toMatchObject({ name: 'package-format', ok: false });
    expect(sent).toBeLessThan(total);
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    const files = await h.firmware.list({ limit: 10, offset: 0 });
    expect(files.total).toBe(0);
  });

  it('answers 413 at once for a Content-Length over the limit', async () => {
    const answer = await upload(Buffer.alloc(MAX_BYTES + 1), { length: MAX_BYTES + 1 });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ error: { code: 'FIRMWARE_TOO_LARGE' } });
  });

  it('takes only application/octet-stream bodies', async () => {
    const json = await h.call('POST', '/api/v1/firmware/packages', {
      cookie: admin,
      headers: { origin },
      body: { file: 'x' },
    });
    expect(json.status).toBe(415);
    expect(json.json).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const text = await upload(Buffer.from('hello'), { contentType: 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('refuses an upload by an operator before reading it (403)', async () => {
    const answer = await upload(signedPackage([vendor]), { cookie: operator });
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await h.firmware.list({ limit: 10, offset: 0 })).total).toBe(0);
  });

  it('shows the trust policy by key id only', async () => {
    const trust = await h.call('GET', '/api/v1/firmware/trust', { cookie: admin });
    expect(trust.status).toBe(200);
    expect(trust.json).toEqual({
      configured: true,
      threshold: 1,
      keys: [
        { id: vendor.id, retired: false },
        { id: retired.id, retired: true },
      ],
    });
    expect(trust.text).not.toContain('BEGIN');
    expect((await h.call('GET', '/api/v1/firmware/trust', { cookie: operator })).status).toBe(403);
  });

  it('answers a sync without a repository 409 and shows the sync as not configured', async () => {
    const sync = await h.call('POST', '/api/v1/firmware/sync', {
      cookie: admin,
      headers: { origin },
    });
    expect(sync.status).toBe(409);
    expect(sync.json).toMatchObject({ error: { code: 'CONFLICT' } });
    const status = await h.call('GET', '/api/v1/firmware/sync', { cookie: admin });
    expect(status.json).toMatchObject({ configured: false, url: null, running: false, last: null });
  });
});

describe('firmware catalog API without vendor keys', () => {
  let bare: Harness;
  beforeAll(async () => {
    bare = await startHarness();
  });
  afterAll(async () => {
    await bare.close();
  });

  it('refuses every upload, saying which key to configure', async () => {
    const cookie = await bare.setupAdmin();
    const answer = await bare.call('POST', '/api/v1/firmware/packages', {
      cookie,
      headers: { origin: bare.server.urls.https, 'content-type': 'application/octet-stream' },
      raw: signedPackage([vendor]),
    });
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ error: { code: 'FIRMWARE_KEY_UNTRUSTED' } });
    expect((answer.json as { error: { message: string } }).error.message).toMatch(
      /firmware\.trustedKeys/,
    );
  });
});

describe('firmware catalog API with a repository', () => {
  let repo: Harness;
  let ftp: TestFtpServer;
  const bytes = signedPackage([vendor]);

  beforeAll(async () => {
    ftp = await startFtpServer({
      dir: '/fw/',
      files: new Map([
        ['fusion-fw-4.3.0.tar', bytes],
        ['fusion-fw-9.0.0.tar', signedPackage([makeVendor()])],
      ]),
      user: 'anonymous',
      password: 'guest',
    });
    repo = await startHarness({
      firmware: {
        trust: trustOf([vendor]),
        sync: {
          url: `ftp://127.0.0.1:${ftp.port}/fw/`,
          allowedHosts: [`127.0.0.1:${ftp.port}`],
        },
      },
    });
  });
  afterAll(async () => {
    await repo.close();
    await ftp.close();
  });

  it('runs a sync now and answers what was admitted and refused, with reasons', async () => {
    const cookie = await repo.setupAdmin();
    const answer = await repo.call('POST', '/api/v1/firmware/sync', {
      cookie,
      headers: { origin: repo.server.urls.https },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({
      ok: true,
      error: null,
      listed: 2,
      new: 2,
      admitted: [{ file: 'fusion-fw-4.3.0.tar', name: 'fusion-fw', version: '4.3.0' }],
      refused: [
        {
          file: 'fusion-fw-9.0.0.tar',
          code: 'FIRMWARE_SIGNATURE_INVALID',
          checks: [{ name: 'signature', ok: false }, { name: 'known-key' }, { name: 'threshold' }],
        },
      ],
    });
    const status = await repo.call('GET', '/api/v1/firmware/sync', { cookie });
    expect(status.json).toMatchObject({
      configured: true,
      url: `ftp://127.0.0.1:${ftp.port}/fw/`,
      intervalMinutes: 0,
      nextAt: null,
      last: { ok: true, trigger: 'manual' },
    });
    const list = await repo.call('GET', '/api/v1/firmware/packages', { cookie });
    expect(list.json).toMatchObject({
      total: 1,
      items: [{ source: `ftp://127.0.0.1:${ftp.port}/fw/fusion-fw-4.3.0.tar` }],
    });
  });
});
