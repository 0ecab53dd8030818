import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveUplinkKeys, sealReport, type Envelope, type UplinkKeys } from '../uplink/seal.js';
import {
  createCloudReceiver,
  type CloudReceiver,
  type CloudReceiverInfo,
  type EnrollResponse,
} from './index.js';

/** Built at run time: a fixed token in the tree would read as a committed secret. */
const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;

const ORG = 'org-acme';
const TOKEN = `enroll-${randomBytes(12).toString('hex')}`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface Running {
  receiver: CloudReceiver;
  info: CloudReceiverInfo;
  call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  close(): Promise<void>;
}

async function run(dataDir: string, extra: { adminToken?: string } = {}): Promise<Running> {
  const receiver = createCloudReceiver({
    dataDir,
    organizationId: ORG,
    enrollmentToken: TOKEN,
    ...extra,
  });
  const info = await receiver.start();
  // Trust only the receiver's own certificate, with host name checks: what the uplink sender does.
  const agent = new Agent({ connect: { ca: info.caCertPem } });
  return {
    receiver,
    info,
    async call(method, path, body, headers = {}) {
      const res = await request(`${info.url}${path}`, {
        dispatcher: agent,
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        headers: res.headers,
        body: text === '' ? null : JSON.parse(text),
      };
    },
    async close() {
      await agent.close();
      await receiver.stop();
    },
  };
}

interface Site {
  siteId: string;
  kid: string;
  keys: UplinkKeys;
  seal(report: unknown, seq: number): Envelope;
}

async function enrollSite(
  r: Running,
  serverName = `server-${randomBytes(4).toString('hex')}`,
): Promise<Site> {
  const res = await r.call('POST', '/v1/enroll', {
    organizationId: ORG,
    enrollmentToken: TOKEN,
    server: { name: serverName, version: '0.1.0' },
  });
  expect(res.status).toBe(201);
  const body = res.body as EnrollResponse;
  const keys = deriveUplinkKeys(Buffer.from(body.siteSecret, 'base64'));
  return {
    siteId: body.siteId,
    kid: body.kid,
    keys,
    // As the server seals: seq and siteId repeated inside the report, where the MAC covers them.
    seal: (report, seq) =>
      sealReport(
        { ...(report as object), seq, siteId: body.siteId },
        { siteId: body.siteId, seq, kid: body.kid },
        keys,
      ),
  };
}

function flip(base64: string): string {
  const buf = Buffer.from(base64, 'base64');
  buf[buf.length - 1] = (buf[buf.length - 1] ?? 0) ^ 0x80;
  return buf.toString('base64');
}

function errorCode(answer: Answer): string | undefined {
  return (answer.body as { error?: { code?: string } } | null)?.error?.code;
}

describe('cloud receiver', () => {
  let dir: string;
  let r: Running;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-cloud-receiver-'));
    r = await run(join(dir, 'main'), { adminToken: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await r.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('enrollment', () => {
    it('enrolls a server with the organization and token, giving a 32-byte secret', async () => {
      const res = await r.call('POST', '/v1/enroll', {
        organizationId: ORG,
        enrollmentToken: TOKEN,
        server: { name: 'enroll-ok', version: '1.2.3' },
      });
      expect(res.status).toBe(201);
      const body = res.body as EnrollResponse;
      expect(body.siteId).toMatch(/^site-[0-9a-f]{20}$/);
      expect(Buffer.from(body.siteSecret, 'base64')).toHaveLength(32);
      expect(body.kid).toMatch(/^k-/);
      expect(body.reportIntervalSeconds).toBe(300);
      const site = r.receiver.sites().find((s) => s.siteId === body.siteId);
      expect(site).toMatchObject({
        serverName: 'enroll-ok',
        serverVersion: '1.2.3',
        status: 'active',
      });
      expect(site).not.toHaveProperty('secret');
    });

    it.each([
      ['a wrong organization', { organizationId: 'org-other', enrollmentToken: TOKEN }],
      ['a wrong token', { organizationId: ORG, enrollmentToken: `${TOKEN}x` }],
      ['an empty-looking token', { organizationId: ORG, enrollmentToken: ' ' }],
    ])('refuses %s with 401 ENROLLMENT_REFUSED', async (_name, credentials) => {
      const before = r.receiver.sites().length;
      const res = await r.call('POST', '/v1/enroll', {
        ...credentials,
        server: { name: 's', version: '1' },
      });
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe('ENROLLMENT_REFUSED');
      expect(r.receiver.sites()).toHaveLength(before);
    });

    it.each<[string, unknown]>([
      ['no server', { organizationId: ORG, enrollmentToken: TOKEN }],
      [
        'a numeric token',
        { organizationId: ORG, enrollmentToken: 7, server: { name: 's', version: '1' } },
      ],
      [
        'an extra key',
        { organizationId: ORG, enrollmentToken: TOKEN, server: { name: 's', version: '1' }, x: 1 },
      ],
      [
        'a name with a newline',
        { organizationId: ORG, enrollmentToken: TOKEN, server: { name: 'a\nb', version: '1' } },
      ],
      ['an array', []],
    ])('refuses a body with %s as 400 BAD_REQUEST', async (_name, body) => {
      const res = await r.call('POST', '/v1/enroll', body);
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('BAD_REQUEST');
    });

    it('supersedes the previous site of a server that enrolls again', async () => {
      const first = await enrollSite(r, 'enrolls-twice');
      const second = await enrollSite(r, 'enrolls-twice');
      expect(second.siteId).not.toBe(first.siteId);
      expect(second.keys.encKey.equals(first.keys.encKey)).toBe(false);
      const sites = r.receiver.sites();
      expect(sites.find((s) => s.siteId === first.siteId)).toMatchObject({
        status: 'superseded',
        supersededBy: second.siteId,
      });
      const old = await r.call('POST', '/v1/reports', first.seal({ kind: 'periodic' }, 1));
      expect(old.status).toBe(401);
      expect(errorCode(old)).toBe('UNKNOWN_SITE');
      expect(
        (await r.call('POST', '/v1/reports', second.seal({ kind: 'periodic' }, 1))).status,
      ).toBe(202);
    });
  });

  describe('reports', () => {
    it('accepts a sealed report and stores what was sealed', async () => {
      const site = await enrollSite(r);
      const report = {
        v: 1,
        kind: 'periodic',
        devices: [{ id: 'printer-01', state: 'printing' }],
        note: 'ü',
      };
      const res = await r.call('POST', '/v1/reports', site.seal(report, 1));
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ accepted: 1 });
      expect(r.receiver.reports(site.siteId)).toEqual([
        {
          seq: 1,
          receivedAt: expect.any(String) as string,
          report: { ...report, seq: 1, siteId: site.siteId },
        },
      ]);
      expect(r.receiver.sites().find((s) => s.siteId === site.siteId)).toMatchObject({
        lastSeq: 1,
        reportCount: 1,
      });
    });

    it.each(['ct', 'iv', 'mac'] as const)(
      'refuses a tampered %s with 401 BAD_MAC',
      async (field) => {
        const site = await enrollSite(r);
        const envelope = site.seal({ kind: 'periodic', pad: 'x'.repeat(50) }, 1);
        const res = await r.call('POST', '/v1/reports', {
          ...envelope,
          [field]: flip(envelope[field]),
        });
        expect(res.status).toBe(401);
        expect(errorCode(res)).toBe('BAD_MAC');
        expect(r.receiver.reports(site.siteId)).toEqual([]);
        // The genuine envelope still goes through: a failed MAC changed nothing.
        expect((await r.call('POST', '/v1/reports', envelope)).status).toBe(202);
      },
    );

    it('refuses an envelope sealed with another site’s keys with 401 BAD_MAC', async () => {
      const site = await enrollSite(r);
      const forged = sealReport(
        { kind: 'periodic' },
        { siteId: site.siteId, seq: 1, kid: site.kid },
        deriveUplinkKeys(randomBytes(32)),
      );
      const res = await r.call('POST', '/v1/reports', forged);
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe('BAD_MAC');
    });

    it.each<[string, (e: Envelope) => unknown]>([
      [
        'a ct cut inside a block',
        (e) => ({ ...e, ct: Buffer.from(e.ct, 'base64').subarray(0, 20).toString('base64') }),
      ],
      ['a missing mac', ({ mac: _mac, ...rest }) => rest],
      ['an extra key', (e) => ({ ...e, hint: 'x' })],
      ['seq 0', (e) => ({ ...e, seq: 0 })],
      ['seq as a string', (e) => ({ ...e, seq: String(e.seq) })],
      ['version 2', (e) => ({ ...e, v: 2 })],
      ['an iv of 12 bytes', (e) => ({ ...e, iv: randomBytes(12).toString('base64') })],
      ['an array', (e) => [e]],
      ['text that is not JSON', () => '{"v":1,'],
    ])('refuses %s with 400 MALFORMED_ENVELOPE', async (_name, mutate) => {
      const site = await enrollSite(r);
      const res = await r.call('POST', '/v1/reports', mutate(site.seal({ kind: 'periodic' }, 1)));
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('MALFORMED_ENVELOPE');
    });

    it('refuses a truncated ciphertext (whole blocks) with 401 BAD_MAC', async () => {
      const site = await enrollSite(r);
      const envelope = site.seal({ kind: 'periodic', pad: 'x'.repeat(50) }, 1);
      const ct = Buffer.from(envelope.ct, 'base64').subarray(0, 32).toString('base64');
      const res = await r.call('POST', '/v1/reports', { ...envelope, ct });
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe('BAD_MAC');
    });

    it('refuses an authentic report with bad padding as 400 UNREADABLE_REPORT, storing nothing', async () => {
      const site = await enrollSite(r);
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', site.keys.encKey, iv).setAutoPadding(false);
      const ct = Buffer.concat([cipher.update(Buffer.alloc(16, 0x41)), cipher.final()]);
      const mac = createHmac('sha256', site.keys.macKey).update(iv).update(ct).digest();
      const res = await r.call('POST', '/v1/reports', {
        v: 1,
        siteId: site.siteId,
        seq: 1,
        kid: site.kid,
        iv: iv.toString('base64'),
        ct: ct.toString('base64'),
        mac: mac.toString('base64'),
      });
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('UNREADABLE_REPORT');
      expect(r.receiver.reports(site.siteId)).toEqual([]);
    });

    it('refuses an unknown site and a stale key id with 401', async () => {
      const site = await enrollSite(r);
      const unknown = sealReport({}, { siteId: 'site-nobody', seq: 1, kid: site.kid }, site.keys);
      const res = await r.call('POST', '/v1/reports', unknown);
      expect([res.status, errorCode(res)]).toEqual([401, 'UNKNOWN_SITE']);
      const staleKid = sealReport({}, { siteId: site.siteId, seq: 1, kid: 'k-old' }, site.keys);
      const kidRes = await r.call('POST', '/v1/reports', staleKid);
      expect([kidRes.status, errorCode(kidRes)]).toEqual([401, 'UNKNOWN_KEY']);
    });

    it('refuses an envelope whose outer seq differs from the sealed one, keeping the seq state', async () => {
      const site = await enrollSite(r);
      const envelope = site.seal({ kind: 'periodic' }, 1);
      const moved = await r.call('POST', '/v1/reports', { ...envelope, seq: 1_000_000 });
      expect([moved.status, errorCode(moved)]).toEqual([400, 'SEQ_MISMATCH']);
      const unsealed = sealReport(
        { kind: 'periodic' },
        { siteId: site.siteId, seq: 2, kid: site.kid },
        site.keys,
      );
      const bare = await r.call('POST', '/v1/reports', unsealed);
      expect([bare.status, errorCode(bare)]).toEqual([400, 'SEQ_MISMATCH']);
      expect((await r.call('POST', '/v1/reports', envelope)).status).toBe(202);
    });

    it('acknowledges an identical resend with 200 duplicate and stores it once', async () => {
      const site = await enrollSite(r);
      const envelope = site.seal({ kind: 'periodic', n: 1 }, 1);
      expect((await r.call('POST', '/v1/reports', envelope)).status).toBe(202);
      const again = await r.call('POST', '/v1/reports', envelope);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ accepted: 1, duplicate: true });
      expect(r.receiver.reports(site.siteId)).toHaveLength(1);
    });

    it('refuses replays and reordering with 409 REPLAYED', async () => {
      const site = await enrollSite(r);
      const first = site.seal({ kind: 'periodic', n: 1 }, 1);
      expect((await r.call('POST', '/v1/reports', first)).status).toBe(202);
      expect(
        (await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic', n: 5 }, 5))).status,
      ).toBe(202);
      const cases: [string, Envelope][] = [
        ['another report under an accepted seq', site.seal({ kind: 'periodic', n: 'other' }, 5)],
        ['a lower, never used seq', site.seal({ kind: 'periodic', n: 3 }, 3)],
        // The MAC does not cover seq: a captured envelope resent under a higher seq still verifies.
        ['an accepted envelope under a higher seq', { ...first, seq: 9 }],
      ];
      for (const [name, envelope] of cases) {
        const res = await r.call('POST', '/v1/reports', envelope);
        expect([name, res.status, errorCode(res)]).toEqual([name, 409, 'REPLAYED']);
      }
      expect(r.receiver.reports(site.siteId).map((x) => x.seq)).toEqual([1, 5]);
      expect((await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 6))).status).toBe(
        202,
      );
    });

    it('marks a site unenrolled on an unenroll report and refuses its later reports', async () => {
      const site = await enrollSite(r);
      const unenroll = site.seal({ kind: 'unenroll', reason: 'decommissioned' }, 1);
      const res = await r.call('POST', '/v1/reports', unenroll);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ accepted: 1, unenrolled: true });
      expect(r.receiver.sites().find((s) => s.siteId === site.siteId)?.status).toBe('unenrolled');
      const later = await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 2));
      expect([later.status, errorCode(later)]).toEqual([401, 'UNKNOWN_SITE']);
      // Its own resend (the answer was lost) is still acknowledged.
      expect((await r.call('POST', '/v1/reports', unenroll)).status).toBe(200);
    });

    it('answers configured settings and requests with every accepted report', async () => {
      const site = await enrollSite(r);
      r.receiver.setResponse({
        settings: { reportIntervalSeconds: 60 },
        requests: [{ id: 'req-1', kind: 'diagnostics' }],
      });
      try {
        const res = await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1));
        expect(res.body).toEqual({
          accepted: 1,
          settings: { reportIntervalSeconds: 60 },
          requests: [{ id: 'req-1', kind: 'diagnostics' }],
        });
      } finally {
        r.receiver.setResponse(null);
      }
      expect(
        (await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 2))).body,
      ).toEqual({ accepted: 2 });
    });
  });

  describe('limits and errors', () => {
    it('refuses a body over 1 MiB with 413 as JSON', async () => {
      const site = await enrollSite(r);
      const envelope = site.seal({ kind: 'periodic' }, 1);
      const res = await r.call('POST', '/v1/reports', { ...envelope, ct: 'A'.repeat(1024 * 1024) });
      expect(res.status).toBe(413);
      expect(errorCode(res)).toBe('PAYLOAD_TOO_LARGE');
    });

    it('refuses a body that is not JSON with 415', async () => {
      const res = await r.call('POST', '/v1/reports', 'hello', { 'content-type': 'text/plain' });
      expect(res.status).toBe(415);
      expect(errorCode(res)).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await r.call('GET', '/v1/nothing');
      expect([res.status, errorCode(res)]).toEqual([404, 'ROUTE_NOT_FOUND']);
    });

    it('speaks TLS 1.2 and refuses older versions', async () => {
      const url = new URL(r.info.url);
      const handshake = (version: 'TLSv1.1' | 'TLSv1.2') =>
        new Promise<string>((resolve) => {
          const socket = connect({
            host: url.hostname,
            port: Number(url.port),
            ca: r.info.caCertPem,
            minVersion: 'TLSv1',
            maxVersion: version,
            // Let the client offer old versions, so a refusal can only come from the server.
            ciphers: 'DEFAULT:@SECLEVEL=0',
          });
          socket.once('secureConnect', () => {
            resolve(socket.getProtocol() ?? 'unknown');
            socket.destroy();
          });
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
      expect(await handshake('TLSv1.2')).toBe('TLSv1.2');
      expect(await handshake('TLSv1.1')).toMatch(/ALERT|VERSION/);
    });

    it('answers failNext with the given status, then recovers', async () => {
      const site = await enrollSite(r);
      r.receiver.failNext(2, 503, { retryAfterSeconds: 7 });
      const first = await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1));
      expect([first.status, errorCode(first), first.headers['retry-after']]).toEqual([
        503,
        'UNAVAILABLE',
        '7',
      ]);
      expect((await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1))).status).toBe(
        503,
      );
      expect((await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1))).status).toBe(
        202,
      );
      expect(r.receiver.reports(site.siteId)).toHaveLength(1);
    });

    it('answers redirectTo with 307 and a Location until cleared', async () => {
      r.receiver.redirectTo('https://elsewhere.example/v1/reports');
      try {
        const res = await r.call('POST', '/v1/reports', { v: 1 });
        expect(res.status).toBe(307);
        expect(res.headers.location).toBe('https://elsewhere.example/v1/reports');
      } finally {
        r.receiver.redirectTo(null);
      }
      expect((await r.call('POST', '/v1/reports', { v: 1 })).status).toBe(400);
    });

    it('holds the answer to a stored report with holdAnswers, and sends it when turned off', async () => {
      const site = await enrollSite(r);
      r.receiver.holdAnswers(60_000);
      let answered = false;
      const pending = r
        .call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1))
        .finally(() => {
          answered = true;
        });
      try {
        await expect.poll(() => r.receiver.reports(site.siteId).map((x) => x.seq)).toEqual([1]);
        expect(answered).toBe(false);
        // Answers to reports that are not stored go out at once.
        r.receiver.failNext(1);
        expect(
          (await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 2))).status,
        ).toBe(503);
        const replay = await r.call('POST', '/v1/reports', site.seal({ kind: 'other' }, 1));
        expect([replay.status, errorCode(replay)]).toEqual([409, 'REPLAYED']);
        expect(answered).toBe(false);
      } finally {
        r.receiver.holdAnswers(0);
      }
      expect((await pending).status).toBe(202);

      r.receiver.holdAnswers(150);
      try {
        const started = Date.now();
        const res = await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 2));
        expect(res.status).toBe(202);
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      } finally {
        r.receiver.holdAnswers(0);
      }
      for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
        expect(() => r.receiver.holdAnswers(bad)).toThrow(RangeError);
      }
    });
  });

  describe('admin listing', () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

    it.each<[string, Record<string, string>]>([
      ['no token', {}],
      ['a wrong token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
      ['a Basic credential', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ])('requires the admin token (%s → 401)', async (_name, headers) => {
      for (const path of ['/v1/sites', '/v1/sites/site-x/reports']) {
        const res = await r.call('GET', path, undefined, headers);
        expect([path, res.status, errorCode(res)]).toEqual([path, 401, 'UNAUTHENTICATED']);
      }
    });

    it('lists sites and a site’s reports page by page', async () => {
      const site = await enrollSite(r);
      for (const seq of [1, 2, 3]) {
        expect(
          (await r.call('POST', '/v1/reports', site.seal({ kind: 'periodic', seq }, seq))).status,
        ).toBe(202);
      }
      const sites = await r.call('GET', '/v1/sites', undefined, auth);
      expect(sites.status).toBe(200);
      expect((sites.body as { items: { siteId: string }[] }).items.map((s) => s.siteId)).toContain(
        site.siteId,
      );
      expect(JSON.stringify(sites.body)).not.toMatch(/secret/i);

      const page = await r.call(
        'GET',
        `/v1/sites/${site.siteId}/reports?afterSeq=1&limit=1`,
        undefined,
        auth,
      );
      expect(page.body).toEqual({
        items: [
          {
            seq: 2,
            receivedAt: expect.any(String) as string,
            report: { kind: 'periodic', seq: 2, siteId: site.siteId },
          },
        ],
        nextAfterSeq: 2,
      });
      const bad = await r.call('GET', `/v1/sites/${site.siteId}/reports?limit=0`, undefined, auth);
      expect([bad.status, errorCode(bad)]).toEqual([400, 'BAD_REQUEST']);
      const missing = await r.call('GET', '/v1/sites/site-nobody/reports', undefined, auth);
      expect([missing.status, errorCode(missing)]).toEqual([404, 'SITE_NOT_FOUND']);
    });
  });
});

describe('cloud receiver stopping with answers held', () => {
  it('sends or drops held answers at stop() instead of waiting for the hold', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-cloud-hold-'));
    try {
      const running = await run(dir);
      const site = await enrollSite(running);
      running.receiver.holdAnswers(60_000);
      const pending = running.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1)).then(
        (res) => res.status,
        () => 'connection closed',
      );
      await expect.poll(() => running.receiver.reports(site.siteId).map((x) => x.seq)).toEqual([1]);
      const started = Date.now();
      await running.receiver.stop();
      expect([202, 'connection closed']).toContain(await pending);
      expect(Date.now() - started).toBeLessThan(10_000);
      await running.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cloud receiver across restarts', () => {
  it('keeps sites, reports and seq state in its data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-cloud-restart-'));
    try {
      const first = await run(dir);
      const site = await enrollSite(first);
      const one = site.seal({ kind: 'periodic', n: 1 }, 1);
      expect((await first.call('POST', '/v1/reports', one)).status).toBe(202);
      await first.close();

      const second = await run(dir);
      try {
        // Same generated certificate after a restart: senders keep trusting it.
        expect(second.info.fingerprint256).toBe(first.info.fingerprint256);
        expect(second.info.caCertPath).toBe(join(dir, 'tls', 'server.crt'));
        expect((await second.call('POST', '/v1/reports', one)).status).toBe(200);
        const replay = await second.call('POST', '/v1/reports', site.seal({ kind: 'periodic' }, 1));
        expect([replay.status, errorCode(replay)]).toEqual([409, 'REPLAYED']);
        expect(
          (await second.call('POST', '/v1/reports', site.seal({ kind: 'periodic', n: 2 }, 2)))
            .status,
        ).toBe(202);
        expect(second.receiver.reports(site.siteId).map((x) => x.report)).toEqual([
          { kind: 'periodic', n: 1, seq: 1, siteId: site.siteId },
          { kind: 'periodic', n: 2, seq: 2, siteId: site.siteId },
        ]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
