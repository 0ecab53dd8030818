// The cloud uplink end to end, with real parts: the API of a server, its uplink and outbox on a real
// SQLite file, the reference cloud receiver over real TLS, and Debian's tinyproxy as the site's
// forward proxy. Covers enrollment, reports through CONNECT, consent and the preview, outages,
// redirects off the allow-list, NO_PROXY, critical alerts and un-enrollment.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alert, deviceView, job, startHarness, type Harness } from '../src/api/api-test-harness.js';
import {
  createCloudReceiver,
  type CloudReceiver,
  type CloudReceiverInfo,
} from '../src/cloud-receiver/index.js';
import type { UplinkSettings, UplinkStatus } from '../src/uplink/index.js';
import {
  forwardProxySkipReason,
  freePort,
  startForwardProxy,
  type ForwardProxy,
} from './fixtures/forward-proxy.js';

const ORG = 'org-acme';
const ENROLLMENT_TOKEN = 'enroll-8f2c1e9b7a';
/** Values a site would not want to leave without consent; none may appear in a report. */
const MARKERS = {
  owner: 'alice.marker-owner',
  jobName: 'turbine-blade-marker-job.3mf',
  deviceName: 'Hall A marker printer',
  alertMessage: 'marker free text from a technician',
  deviceId: 'marker-printer-7',
};

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Cloud {
  receiver: CloudReceiver;
  info: CloudReceiverInfo;
  dir: string;
  port: number;
}

async function startCloud(port = 0, dir?: string): Promise<Cloud> {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'cc-cloud-')));
  const receiver = createCloudReceiver({
    dataDir,
    port,
    organizationId: ORG,
    enrollmentToken: ENROLLMENT_TOKEN,
  });
  const info = await receiver.start();
  return { receiver, info, dir: dataDir, port: Number(new URL(info.url).port) };
}

function uplinkTo(cloud: Cloud, over: Partial<UplinkSettings> = {}): Partial<UplinkSettings> {
  return {
    endpoint: cloud.info.url,
    allowedHosts: [`127.0.0.1:${cloud.port}`],
    ca: cloud.info.caCertPem,
    proxy: 'none',
    ...over,
  };
}

async function enroll(h: Harness, cookie: string): Promise<UplinkStatus> {
  const answer = await h.call('POST', '/api/v1/cloud/enrollment', {
    cookie,
    headers: { origin: h.server.urls.https },
    body: { organizationId: ORG, enrollmentToken: ENROLLMENT_TOKEN },
  });
  expect(answer.status, answer.text).toBe(201);
  // Enrollment sends a first report at once; wait for it, so counts below start from zero.
  return until('the first report after enrollment', async () => {
    const status = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    return status.lastSuccessAt !== null && status.outbox.count === 0 ? status : undefined;
  });
}

function write(h: Harness, cookie: string) {
  return { cookie, headers: { origin: h.server.urls.https } };
}

function seedFleet(h: Harness): void {
  h.ingest.emit({
    type: 'device',
    device: deviceView(MARKERS.deviceId, {
      serial: 'SN-4410-0007',
      name: MARKERS.deviceName,
      state: 'printing',
      currentJob: job('j-1', {
        deviceId: MARKERS.deviceId,
        name: MARKERS.jobName,
        owner: MARKERS.owner,
      }),
      openAlerts: [alert('a-1', { deviceId: MARKERS.deviceId, message: MARKERS.alertMessage })],
    }),
  });
  h.ingest.emit({ type: 'device', device: deviceView('plain-printer-2') });
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('enrollment and reports', () => {
  let cloud: Cloud;
  let h: Harness;
  let cookie: string;
  beforeAll(async () => {
    cloud = await startCloud();
    h = await startHarness({ uplink: uplinkTo(cloud) });
    cookie = await h.setupAdmin();
    seedFleet(h);
  });
  afterAll(async () => {
    await h.close();
    await cloud.receiver.stop();
    await rm(cloud.dir, { recursive: true, force: true });
  });

  it('refuses a wrong enrollment token with the cloud’s reason, and audits it', async () => {
    const answer = await h.call('POST', '/api/v1/cloud/enrollment', {
      ...write(h, cookie),
      body: { organizationId: ORG, enrollmentToken: 'not-the-token' },
    });
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ error: { code: 'CLOUD_ENROLLMENT_REFUSED' } });
    const audit = await h.call('GET', '/api/v1/audit?action=cloud.enroll', { cookie });
    expect(audit.json).toMatchObject({ items: [{ outcome: 'refused', target: ORG }] });
    expect(audit.text).not.toContain('not-the-token');
  });

  it('refuses an endpoint off the allow-list before connecting anywhere', async () => {
    const before = cloud.receiver.counters().enrollRequests;
    const answer = await h.call('POST', '/api/v1/cloud/enrollment', {
      ...write(h, cookie),
      body: {
        organizationId: ORG,
        enrollmentToken: ENROLLMENT_TOKEN,
        endpoint: 'https://127.0.0.2:9/cc',
      },
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.text).toMatch(/allowedHosts/);
    expect(cloud.receiver.counters().enrollRequests).toBe(before);
  });

  it('enrolls, keeps the secret out of every answer, and delivers a report the receiver decrypts', async () => {
    const status = await enroll(h, cookie);
    expect(status.enrolled).toBe(true);
    expect(status.enrollment).toMatchObject({ organizationId: ORG, enrolledBy: 'admin' });
    expect(JSON.stringify(status)).not.toMatch(/secret/i);
    const siteId = status.enrollment!.siteId;
    expect(cloud.receiver.sites().map((s) => s.siteId)).toContain(siteId);

    const queued = await h.call('POST', '/api/v1/cloud/reports', write(h, cookie));
    expect(queued.status).toBe(202);
    const { seq } = queued.json as { seq: number };
    const stored = await until('the report at the receiver', () =>
      cloud.receiver.reports(siteId).find((r) => r.seq === seq),
    );
    expect(stored.report).toMatchObject({ v: 1, kind: 'periodic' });
    const after = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    expect(after.outbox.count).toBe(0);
    expect(after.lastSuccessAt).not.toBeNull();
    expect(after.delivery.lastDelivered).toMatchObject({ seq, via: 'direct' });
  });

  it('sends no non-anonymous value without consent, and exactly the consented ones with it', async () => {
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    const sendAndRead = async (): Promise<string> => {
      const { seq } = (await h.call('POST', '/api/v1/cloud/reports', write(h, cookie))).json as {
        seq: number;
      };
      const stored = await until('the report', () =>
        cloud.receiver.reports(siteId).find((r) => r.seq === seq),
      );
      return JSON.stringify(stored.report);
    };
    const none = await sendAndRead();
    for (const marker of Object.values(MARKERS)) expect(none).not.toContain(marker);

    const granted = await h.call('PUT', '/api/v1/cloud/consent', {
      ...write(h, cookie),
      body: { identity: true, production: true },
    });
    expect(granted.status, granted.text).toBe(200);
    const some = await sendAndRead();
    expect(some).toContain(MARKERS.owner);
    expect(some).toContain(MARKERS.jobName);
    for (const marker of [MARKERS.deviceName, MARKERS.alertMessage, MARKERS.deviceId]) {
      expect(some).not.toContain(marker);
    }
    const audit = await h.call('GET', '/api/v1/audit?action=cloud.consent', { cookie });
    expect(audit.json).toMatchObject({
      items: [{ actor: 'admin', details: { identity: true, production: true } }],
    });

    await h.call('PUT', '/api/v1/cloud/consent', {
      ...write(h, cookie),
      body: { identity: false, production: false },
    });
    const revoked = await sendAndRead();
    for (const marker of Object.values(MARKERS)) expect(revoked).not.toContain(marker);
  });

  it('previews exactly what the receiver then decrypts', async () => {
    await h.call('PUT', '/api/v1/cloud/consent', { ...write(h, cookie), body: { labels: true } });
    const preview = (await h.call('GET', '/api/v1/cloud/preview', { cookie })).json as {
      report: Record<string, unknown>;
      bytes: number;
    };
    expect(preview.bytes).toBe(Buffer.byteLength(JSON.stringify(preview.report)));
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    const { seq } = (await h.call('POST', '/api/v1/cloud/reports', write(h, cookie))).json as {
      seq: number;
    };
    const stored = await until('the report', () =>
      cloud.receiver.reports(siteId).find((r) => r.seq === seq),
    );
    // Everything but the clock and the process's own moving numbers is identical.
    const stable = (report: unknown): unknown =>
      JSON.parse(
        JSON.stringify(report, (key, value: unknown) =>
          [
            'generatedAt',
            'since',
            'uptimeS',
            'health',
            'seenAgoS',
            'ageS',
            'seq',
            'siteId',
            'part',
          ].includes(key)
            ? undefined
            : value,
        ),
      );
    expect(stable(stored.report)).toEqual(stable(preview.report));
    expect(JSON.stringify(stored.report)).toContain(MARKERS.deviceName);
  });

  it('sends a large fleet’s report in parts that each fit an envelope', async () => {
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    const ids = Array.from({ length: 2500 }, (_, i) => `bulk-${String(i).padStart(5, '0')}`);
    for (const id of ids) h.ingest.emit({ type: 'device', device: deviceView(id) });
    try {
      const queued = await h.uplink.reportNow();
      expect(queued.parts).toBeGreaterThan(1);
      const parts = await until('every part', () => {
        const got = cloud.receiver
          .reports(siteId)
          .filter((r) => r.seq >= queued.seq && r.seq < queued.seq + queued.parts);
        return got.length === queued.parts ? got : undefined;
      });
      const devices = parts.flatMap((p) => (p.report as { devices: unknown[] }).devices);
      expect(devices).toHaveLength(ids.length + 2);
      expect(parts.map((p) => (p.report as { part: unknown }).part)).toEqual(
        parts.map((_, i) => ({ index: i + 1, count: queued.parts })),
      );
    } finally {
      for (const id of ids) h.ingest.emit({ type: 'device-removed', deviceId: id });
    }
  });

  it('sends a critical report when a critical alert opens', async () => {
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    const before = cloud.receiver.reports(siteId).length;
    h.ingest.emit({
      type: 'alert',
      alert: alert('crit-1', {
        deviceId: MARKERS.deviceId,
        code: 'LASER_FAULT',
        severity: 'critical',
        raisedAt: new Date().toISOString(),
      }),
    });
    const critical = await until('the critical report', () =>
      cloud.receiver
        .reports(siteId)
        .slice(before)
        .find((r) => (r.report as { kind?: string }).kind === 'critical'),
    );
    expect(critical.report).toMatchObject({
      trigger: { code: 'LASER_FAULT', severity: 'critical' },
    });
    // The same alert seen again (a later version of it) is not reported twice: reports are
    // produced in order, so once a later periodic one arrives, a second critical one would have.
    h.ingest.emit({
      type: 'alert',
      alert: alert('crit-1', {
        deviceId: MARKERS.deviceId,
        code: 'LASER_FAULT',
        severity: 'critical',
        raisedAt: new Date().toISOString(),
      }),
    });
    const { seq } = await h.uplink.reportNow();
    await until('the later periodic report', () =>
      cloud.receiver.reports(siteId).find((r) => r.seq === seq),
    );
    const criticals = cloud.receiver
      .reports(siteId)
      .slice(before)
      .filter((r) => (r.report as { kind?: string }).kind === 'critical');
    expect(criticals).toHaveLength(1);
  });

  it('keeps a report queued when the cloud redirects it to a host off the allow-list', async () => {
    cloud.receiver.redirectTo('https://127.0.0.2:1/elsewhere');
    try {
      await h.call('POST', '/api/v1/cloud/reports', write(h, cookie));
      const status = await until('the refused redirect', async () => {
        const s = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
        return s.lastError && /redirect/i.test(s.lastError.message) ? s : undefined;
      });
      expect(status.outbox.count).toBeGreaterThan(0);
      expect(status.lastError!.message).toContain('127.0.0.2');
    } finally {
      cloud.receiver.redirectTo(null);
    }
    await h.uplink.reportNow();
    await until('the queue to drain', async () => {
      const s = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
      return s.outbox.count === 0 ? s : undefined;
    });
  });

  it('follows what the cloud asks in its answers: a slower interval, a diagnostics report', async () => {
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    cloud.receiver.setResponse({
      settings: { reportIntervalSeconds: 900 },
      requests: [{ id: 'diag-1', kind: 'diagnostics' }],
    });
    try {
      const { seq } = await h.uplink.reportNow();
      // The diagnostics report is produced after the answer to `seq`: it has a higher seq.
      await until('the diagnostics report', () =>
        cloud.receiver.reports(siteId).find((r) => r.seq > seq),
      );
      // The cloud repeats the same request in every answer: it is acted on once.
      const next = await h.uplink.reportNow();
      await until('the next report', () =>
        cloud.receiver.reports(siteId).find((r) => r.seq === next.seq),
      );
      await h.uplink.idle();
      expect(cloud.receiver.reports(siteId).filter((r) => r.seq > seq)).toHaveLength(2);
    } finally {
      cloud.receiver.setResponse(null);
    }
    const status = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    expect(status.intervalSeconds).toBe(900);
  });

  it('un-enrolls: tells the cloud, forgets the enrollment, and audits it', async () => {
    const siteId = ((await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus)
      .enrollment!.siteId;
    const answer = await h.call('DELETE', '/api/v1/cloud/enrollment', write(h, cookie));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({
      enrolled: false,
      enrollment: null,
      lastError: null,
      delivery: { retryAt: null, consecutiveFailures: 0 },
    });
    expect(cloud.receiver.sites().find((s) => s.siteId === siteId)).toMatchObject({
      status: 'unenrolled',
    });
    const again = await h.call('POST', '/api/v1/cloud/reports', write(h, cookie));
    expect(again.json).toMatchObject({ error: { code: 'CLOUD_NOT_ENROLLED' } });
    const audit = await h.call('GET', '/api/v1/audit?action=cloud.unenroll', { cookie });
    expect(audit.json).toMatchObject({ items: [{ target: siteId, details: { notified: true } }] });
  });
});

describe('outages', () => {
  it('delivers every report, in order, after the cloud was away for an hour of intervals', async () => {
    const cloud = await startCloud();
    const h = await startHarness({ uplink: uplinkTo(cloud) });
    cleanups.push(() => rm(cloud.dir, { recursive: true, force: true }));
    cleanups.push(() => h.close());
    const cookie = await h.setupAdmin();
    seedFleet(h);
    const siteId = (await enroll(h, cookie)).enrollment!.siteId;
    await cloud.receiver.stop();

    // Twelve 5-minute intervals while the cloud is down.
    const seqs: number[] = [];
    for (let i = 0; i < 12; i += 1) seqs.push((await h.uplink.reportNow()).seq);
    const down = await until('the failed deliveries', async () => {
      const s = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
      return s.lastError !== null && s.outbox.count === 12 ? s : undefined;
    });
    expect(down.delivery.consecutiveFailures).toBeGreaterThan(0);

    const back = await startCloud(cloud.port, cloud.dir);
    cleanups.push(() => back.receiver.stop());
    const received = await until('every report after the outage', () => {
      const list = back.receiver.reports(siteId);
      return seqs.every((s) => list.some((r) => r.seq === s)) ? list : undefined;
    });
    const order = received.map((r) => r.seq);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    const after = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    expect(after.outbox.count).toBe(0);
    expect(after.lastError).toBeNull();
  });

  it('waits as long as a busy cloud’s Retry-After asks before trying again', async () => {
    const cloud = await startCloud();
    const h = await startHarness({ uplink: uplinkTo(cloud, { backoffMaxSeconds: 60 }) });
    cleanups.push(() => cloud.receiver.stop());
    cleanups.push(() => h.close());
    const cookie = await h.setupAdmin();
    await enroll(h, cookie);
    cloud.receiver.failNext(1, 503, { retryAfterSeconds: 30 });
    const before = Date.now();
    await h.uplink.reportNow();
    const status = await until('the backoff', async () => {
      const s = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
      return s.delivery.retryAt !== null ? s : undefined;
    });
    expect(Date.parse(status.delivery.retryAt!) - before).toBeGreaterThanOrEqual(29_000);
    expect(status.outbox.count).toBe(1);
  });

  it('drops the oldest periodic reports beyond the bound, with an alert', async () => {
    const cloud = await startCloud();
    const h = await startHarness({ uplink: uplinkTo(cloud, { outboxMaxItems: 10 }) });
    cleanups.push(() => cloud.receiver.stop());
    cleanups.push(() => h.close());
    const cookie = await h.setupAdmin();
    await enroll(h, cookie);
    cloud.receiver.failNext(Infinity, 503);
    for (let i = 0; i < 14; i += 1) await h.uplink.reportNow();
    const status = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    expect(status.outbox.count).toBe(10);
    expect(status.outbox.droppedTotal).toBe(4);
    expect(status.alerts).toMatchObject([{ code: 'UPLINK_REPORTS_DROPPED' }]);
    const metrics = await h.metrics.metrics();
    expect(metrics).toMatch(/cc_uplink_outbox_dropped_total\{kind="periodic"\} 4/);
  });
});

const proxySkip = forwardProxySkipReason();

describe.skipIf(proxySkip !== null)('through the site proxy', () => {
  let cloud: Cloud;
  let proxy: ForwardProxy;
  beforeAll(async () => {
    cloud = await startCloud();
    proxy = await startForwardProxy({ connectPorts: [cloud.port] });
  });
  afterAll(async () => {
    await proxy.stop();
    await cloud.receiver.stop();
  });

  it('enrolls and reports through CONNECT on an explicit proxy', async () => {
    const h = await startHarness({ uplink: uplinkTo(cloud, { proxy: proxy.url }) });
    cleanups.push(() => h.close());
    const cookie = await h.setupAdmin();
    const status = await enroll(h, cookie);
    expect(status.route).toEqual({ via: 'proxy', proxy: proxy.url });
    const { seq } = await h.uplink.reportNow();
    await until('the report through the proxy', () =>
      cloud.receiver.reports(status.enrollment!.siteId).find((r) => r.seq === seq),
    );
    const after = (await h.call('GET', '/api/v1/cloud', { cookie })).json as UplinkStatus;
    expect(after.delivery.lastDelivered).toMatchObject({ seq, via: 'proxy' });
    expect(await proxy.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${cloud.port}`));
  });

  it('says the proxy is down, keeps the report, and delivers once it is back', async () => {
    const deadPort = await freePort();
    const h = await startHarness({
      uplink: uplinkTo(cloud, { proxy: `http://127.0.0.1:${deadPort}` }),
    });
    cleanups.push(() => h.close());
    const cookie = await h.setupAdmin();
    const refused = await h.call('POST', '/api/v1/cloud/enrollment', {
      ...write(h, cookie),
      body: { organizationId: ORG, enrollmentToken: ENROLLMENT_TOKEN },
    });
    expect(refused.status).toBe(502);
    expect(refused.json).toMatchObject({ error: { code: 'CLOUD_UNREACHABLE' } });
    expect((refused.json as { error: { message: string } }).error.message).toMatch(/proxy/i);
  });

  it('honours NO_PROXY from the environment', async () => {
    const deadPort = await freePort();
    // The uplink reads this environment: a dead proxy, with the cloud's address exempted.
    const h2 = await startHarness({
      uplink: uplinkTo(cloud, { proxy: 'environment' }),
      uplinkEnv: { HTTPS_PROXY: `http://127.0.0.1:${deadPort}`, NO_PROXY: '127.0.0.1' },
    });
    cleanups.push(() => h2.close());
    const cookie = await h2.setupAdmin();
    const status = await enroll(h2, cookie);
    expect(status.route.via).toBe('direct');
    const { seq } = await h2.uplink.reportNow();
    await until('the direct report', () =>
      cloud.receiver.reports(status.enrollment!.siteId).find((r) => r.seq === seq),
    );
  });
});
