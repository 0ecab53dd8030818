// The cloud uplink of the real `command-center start` process, with real parts around it: the
// reference cloud receiver over TLS, the server's own SQLite outbox, Debian's tinyproxy as the
// site's proxy, and a kill -9 between the cloud storing a report and the server hearing so.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCloudReceiver,
  type CloudReceiver,
  type CloudReceiverInfo,
} from '../src/cloud-receiver/index.js';
import { planFleet } from '../src/simulator/index.js';
import type { UplinkReport, UplinkStatus } from '../src/uplink/index.js';
import {
  forwardProxySkipReason,
  startForwardProxy,
  type ForwardProxy,
} from './fixtures/forward-proxy.js';
import { ApiClient } from './fixtures/https-client.js';
import { execCli, startServerProcess, type ServerProcess } from './fixtures/server-process.js';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';

const ORG = 'org-process-test';
const ENROLLMENT_TOKEN = 'enroll-process-7d41c9';
const PASSWORD = 'a long enough admin password';

interface Cloud {
  receiver: CloudReceiver;
  info: CloudReceiverInfo;
  port: number;
  caFile: string;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function startCloud(dir: string, reportIntervalSeconds?: number): Promise<Cloud> {
  const receiver = createCloudReceiver({
    dataDir: join(dir, 'cloud'),
    organizationId: ORG,
    enrollmentToken: ENROLLMENT_TOKEN,
    ...(reportIntervalSeconds !== undefined ? { reportIntervalSeconds } : {}),
  });
  const info = await receiver.start();
  const caFile = join(dir, 'cloud-ca.pem');
  await writeFile(caFile, info.caCertPem);
  return { receiver, info, port: Number(new URL(info.url).port), caFile };
}

/** The server's environment: its data directory, loopback ports, and the uplink to `cloud`. */
function serverEnv(dataDir: string, cloud: Cloud, extra: Record<string, string> = {}) {
  return {
    ...testEnv(dataDir),
    CC_UPLINK__ENDPOINT: cloud.info.url,
    CC_UPLINK__ALLOWED_HOSTS: `127.0.0.1:${cloud.port}`,
    CC_UPLINK__CA_FILE: cloud.caFile,
    CC_UPLINK__PROXY: 'none',
    CC_UPLINK__DRAIN_PER_MINUTE: '6000',
    CC_UPLINK__BACKOFF_MAX_SECONDS: '5',
    ...extra,
  };
}

/** Creates the first admin through the setup link and an API token for it. */
async function adminApi(
  server: ServerProcess,
  dataDir: string,
): Promise<{ api: ApiClient; token: string }> {
  const base = `https://127.0.0.1:${server.ports.https}`;
  const api = await ApiClient.trusting(base, join(dataDir, 'tls', 'server.crt'));
  const setupToken = new URL(server.setupUrl!).hash.replace('#token=', '');
  const setup = await api.post('/api/v1/setup', {
    token: setupToken,
    username: 'admin',
    password: PASSWORD,
  });
  expect(setup.status, setup.text).toBe(201);
  const login = await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
  expect(login.status, login.text).toBe(200);
  const created = await api.post('/api/v1/tokens', { name: 'uplink-process-test' });
  expect(created.status, created.text).toBe(201);
  const token = (created.body as { token: string }).token;
  api.useToken(token);
  return { api, token };
}

async function uplinkStatus(api: ApiClient): Promise<UplinkStatus> {
  const res = await api.get('/api/v1/cloud');
  expect(res.status, res.text).toBe(200);
  return res.body as UplinkStatus;
}

async function queueReport(api: ApiClient): Promise<number> {
  const res = await api.post('/api/v1/cloud/reports');
  expect(res.status, res.text).toBe(202);
  return (res.body as { seq: number }).seq;
}

describe('the uplink of a server process', () => {
  let data: TestDataDir | undefined;
  let cloud: Cloud | undefined;
  let proxy: ForwardProxy | undefined;
  const servers: ServerProcess[] = [];
  const clients: ApiClient[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      if (server.child.exitCode === null && server.child.signalCode === null) await server.kill9();
    }
    for (const client of clients.splice(0)) await client.close();
    await proxy?.stop();
    proxy = undefined;
    await cloud?.receiver.stop();
    cloud = undefined;
    await data?.cleanup();
    data = undefined;
  });

  it('kill -9 mid-send loses nothing and duplicates nothing', async () => {
    data = await makeTempDir('cc-uplink-k9-');
    cloud = await startCloud(data.dir);
    const serverDir = join(data.dir, 'server');
    const env = serverEnv(serverDir, cloud);
    const first = await startServerProcess(env);
    servers.push(first);
    const { api, token } = await adminApi(first, serverDir);
    clients.push(api);

    const enrolled = await api.post('/api/v1/cloud/enrollment', {
      organizationId: ORG,
      enrollmentToken: ENROLLMENT_TOKEN,
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    const siteId = (enrolled.body as UplinkStatus).enrollment!.siteId;

    // The cloud is away while reports are queued: they wait, sealed, in the outbox on disk. (A
    // report the server sends on its own, e.g. right after enrolling, waits with them.)
    cloud.receiver.failNext(Infinity);
    const before = cloud.receiver.reports(siteId).length;
    const queued: number[] = [];
    for (let i = 0; i < 8; i += 1) queued.push(await queueReport(api));
    const down = await until('the failed delivery', async () => {
      const s = await uplinkStatus(api);
      return s.lastError !== null && s.outbox.count >= queued.length ? s : undefined;
    });
    expect(down.delivery.consecutiveFailures).toBeGreaterThan(0);
    expect(cloud.receiver.reports(siteId)).toHaveLength(before);

    // The cloud comes back, but holds its answer to the first report it stores.
    cloud.receiver.failNext(0);
    cloud.receiver.holdAnswers(10_000);
    queued.push(await queueReport(api));
    const stored = await until(
      'the first report stored at the cloud',
      () => {
        const reports = cloud!.receiver.reports(siteId);
        return reports.length > before ? reports : undefined;
      },
      30_000,
      20,
    );
    await first.kill9();
    expect(first.child.signalCode).toBe('SIGKILL');
    cloud.receiver.holdAnswers(0);
    expect(stored).toHaveLength(before + 1);
    expect(cloud.receiver.counters().duplicates).toBe(0);

    const second = await startServerProcess(env);
    servers.push(second);
    expect(second.ports).toEqual(first.ports);
    const again = await ApiClient.trusting(
      `https://127.0.0.1:${second.ports.https}`,
      join(serverDir, 'tls', 'server.crt'),
    );
    clients.push(again);
    again.useToken(token);
    const drained = await until('the outbox to drain after the restart', async () => {
      const s = await uplinkStatus(again);
      return s.outbox.count === 0 && s.delivery.lastDelivered !== null ? s : undefined;
    });

    // Every seq the server handed out (the queued ones last) is at the cloud once, in order.
    const last = queued.at(-1)!;
    const every = Array.from({ length: last }, (_, i) => i + 1);
    expect(every.slice(-queued.length)).toEqual(queued);
    const received = cloud.receiver.reports(siteId);
    expect(received.map((r) => r.seq)).toEqual(every);
    const arrival = received.map((r) => Date.parse(r.receivedAt));
    expect(arrival).toEqual([...arrival].sort((a, b) => a - b));
    const counters = cloud.receiver.counters();
    // The report whose answer was lost with the process was sent again and acknowledged as held.
    expect(counters.duplicates).toBeGreaterThanOrEqual(1);
    expect(counters.accepted).toBe(every.length);
    expect(drained.lastError).toBeNull();
    expect(drained.delivery).toMatchObject({
      consecutiveFailures: 0,
      retryAt: null,
      lastDelivered: { seq: last, via: 'direct' },
    });
    expect(drained.alerts).toEqual([]);
    expect(drained.enrollment?.siteId).toBe(siteId);
  }, 120_000);

  const proxySkip = forwardProxySkipReason();

  it.skipIf(proxySkip !== null)(
    'reports arrive every interval through the proxy with the demo fleet',
    async () => {
      const interval = 5;
      const devices = 4;
      data = await makeTempDir('cc-uplink-proxy-');
      cloud = await startCloud(data.dir, interval);
      proxy = await startForwardProxy({ connectPorts: [cloud.port] });
      const serverDir = join(data.dir, 'server');
      const env = serverEnv(serverDir, cloud, {
        CC_UPLINK__PROXY: proxy.url,
        CC_UPLINK__INTERVAL_SECONDS: String(interval),
        CC_DEMO__ENABLED: 'true',
        CC_DEMO__DEVICES: String(devices),
        // The demo would point the uplink at a receiver of its own.
        CC_DEMO__CLOUD: 'false',
      });
      const server = await startServerProcess(env);
      servers.push(server);
      expect(server.output()).toContain(`Demo fleet     ${devices} simulated devices`);
      const { api, token } = await adminApi(server, serverDir);
      clients.push(api);
      const cli = {
        CC_SERVER: `https://127.0.0.1:${server.ports.https}`,
        CC_CA: join(serverDir, 'tls', 'server.crt'),
        CC_TOKEN: token,
        XDG_CONFIG_HOME: join(data.dir, 'xdg'),
      };

      const enroll = await execCli(
        [
          'cloud',
          'enroll',
          '--organization',
          ORG,
          '--enrollment-token',
          ENROLLMENT_TOKEN,
          '--json',
        ],
        cli,
      );
      expect(enroll.code, enroll.stderr).toBe(0);
      const enrolled = JSON.parse(enroll.stdout) as UplinkStatus;
      expect(enrolled).toMatchObject({
        enrolled: true,
        intervalSeconds: interval,
        route: { via: 'proxy', proxy: proxy.url },
      });
      const siteId = enrolled.enrollment!.siteId;

      const periodic = (): UplinkReport[] =>
        cloud!.receiver
          .reports(siteId)
          .map((r) => r.report as UplinkReport)
          .filter((r) => r.kind === 'periodic');
      // Three, so that two of them were sent by the interval timer (the first may be the one sent
      // right after enrolling).
      const reports = await until(
        'three periodic reports',
        () => {
          const list = periodic();
          return list.length >= 3 ? list : undefined;
        },
        6 * interval * 1000,
      );
      const times = reports.slice(0, 3).map((r) => Date.parse(r.generatedAt));
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThan(interval * 1000 - 1000);
        expect(gap).toBeLessThan(2 * interval * 1000);
      }
      expect(gaps.at(-1)).toBeGreaterThanOrEqual(interval * 1000 - 50);

      const last = reports.at(-1)!;
      expect(last.fleet?.devices).toBe(devices);
      expect(last.devices.map((d) => d.kind).sort()).toEqual(
        planFleet(devices, 1)
          .map((d) => d.kind)
          .sort(),
      );

      // Enrollment and every report each went through the proxy on a connection of its own.
      const log = await proxy.log();
      const connects = log.match(new RegExp(`CONNECT 127\\.0\\.0\\.1:${cloud.port}`, 'g')) ?? [];
      expect(connects.length).toBeGreaterThanOrEqual(1 + reports.length);

      const status = await execCli(['cloud', 'status', '--json'], cli);
      expect(status.code, status.stderr).toBe(0);
      const shown = JSON.parse(status.stdout) as UplinkStatus;
      expect(shown.route).toEqual({ via: 'proxy', proxy: proxy.url });
      expect(shown.lastSuccessAt).not.toBeNull();
      expect(shown.lastError).toBeNull();
      expect(shown.delivery.lastDelivered?.via).toBe('proxy');
    },
    90_000,
  );
});
