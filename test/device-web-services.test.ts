// The second data path: the whole server in-process, a simulated fleet serving its own HTTPS Web
// Services on its own loopback addresses (and some devices speaking MQTT too), discovery, adding
// with certificate pinning (first use, mismatch, re-approval), polling merged with MQTT, remote
// actions over both channels with their audit records, and a device that goes away and comes back.

import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE_PASSWORD = 'device-secret-123';

interface DeviceItem {
  id: string;
  name: string;
  siteId: string | null;
  state: string;
  address: string | null;
  currentJob: { id: string; state: string } | null;
  openAlerts: { id: string; code: string }[];
}

interface Registration {
  deviceId: string;
  pinState: string;
  fingerprint256: string | null;
  presentedFingerprint256: string | null;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
  );
}

/** A loopback block of this test file's own, so parallel files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

describe('device Web Services', () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let api: ApiClient;
  let wsFleet: Simulator;
  let bothFleet: Simulator;

  beforeAll(async () => {
    data = await makeTempDir();
    const config = testConfig(data.dir, {
      CC_DEVICES__POLL_ACTIVE_MS: '500',
      CC_DEVICES__POLL_IDLE_MS: '1000',
      CC_DEVICES__OFFLINE_AFTER_MS: '2500',
      CC_DEVICES__REQUEST_TIMEOUT_MS: '2000',
      CC_DEVICES__BACKOFF_MAX_MS: '1000',
      CC_DEVICES__COMMAND_TIMEOUT_MS: '5000',
    });
    app = createApp(config, silentLogger());
    started = await app.start();
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    const mqttToken = await issueDeviceToken(store.deviceCredentials, 'both-01');
    const mqttOnlyToken = await issueDeviceToken(store.deviceCredentials, 'mqtt-01');
    await store.close();

    wsFleet = createSimulator({
      devices: [
        { id: 'ws-01', token: '', kind: 'printer' },
        { id: 'ws-02', token: '', kind: 'printer' },
      ],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: DEVICE_PASSWORD },
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      logger: silentLogger(),
      speed: 300,
      telemetryIntervalMs: 200,
      seed: 3,
    });
    bothFleet = createSimulator({
      devices: [
        { id: 'both-01', token: mqttToken, kind: 'printer' },
        { id: 'mqtt-01', token: mqttOnlyToken, kind: 'printer' },
      ],
      channels: 'both',
      webServices: { firstAddress: `${BLOCK}.21`, port: 0, password: DEVICE_PASSWORD },
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      logger: silentLogger(),
      speed: 300,
      telemetryIntervalMs: 200,
      seed: 5,
    });
    await wsFleet.start();
    await bothFleet.start();

    api = await ApiClient.trusting(
      `https://127.0.0.1:${started.ports.https}`,
      started.certificate.certPath,
    );
    const token = new URL(started.setupUrl!).hash.replace('#token=', '');
    await api.post('/api/v1/setup', { token, username: 'admin', password: PASSWORD });
    expect(
      (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
    ).toBe(200);
    // Devices are put only in sites that exist.
    for (const id of ['hall-a', 'hall-b']) {
      expect((await api.post('/api/v1/sites', { id, name: id })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await wsFleet.stop();
    await bothFleet.stop();
    await api.close();
    await app.stop();
    await data.cleanup();
  });

  const device = (id: string) =>
    wsFleet
      .devices()
      .concat(bothFleet.devices())
      .find((d) => d.id === id)!;

  async function view(id: string): Promise<DeviceItem | undefined> {
    const res = await api.get(`/api/v1/devices/${id}`);
    return res.status === 200 ? (res.body as DeviceItem) : undefined;
  }

  it('discovers the simulated devices and lists what they are', async () => {
    const targets = ['ws-01', 'ws-02', 'both-01'].map(
      (id) => new URL(device(id).webServicesUrl!).host,
    );
    const res = await api.post('/api/v1/devices/discover', {
      targets: [...targets, `${BLOCK}.250:1`],
    });
    expect(res.status).toBe(200);
    const body = res.body as {
      found: { identity: { id: string }; fingerprint256: string; registered: boolean }[];
      failures: Record<string, number>;
    };
    expect(body.found.map((f) => f.identity.id).sort()).toEqual(['both-01', 'ws-01', 'ws-02']);
    expect(body.found.find((f) => f.identity.id === 'ws-01')?.fingerprint256).toBe(
      device('ws-01').certificateFingerprint,
    );
    expect(body.failures.DEVICE_UNREACHABLE).toBe(1);
  });

  it('adds a device pending until an admin confirms the fingerprint, then polls it', async () => {
    const ws1 = device('ws-01');
    const added = await api.post('/api/v1/devices', {
      url: ws1.webServicesUrl,
      username: 'admin',
      password: DEVICE_PASSWORD,
      name: 'Left printer',
      siteId: 'hall-a',
    });
    expect(added.status).toBe(201);
    const reg = (added.body as { registration: Registration }).registration;
    expect(reg).toMatchObject({ deviceId: 'ws-01', pinState: 'pending', fingerprint256: null });
    expect(reg.presentedFingerprint256).toBe(ws1.certificateFingerprint);
    // Not polled before approval.
    await new Promise((r) => setTimeout(r, 700));
    expect(await view('ws-01')).toBeUndefined();

    const wrong = await api.post('/api/v1/devices/ws-01/approve', { fingerprint: 'AB'.repeat(32) });
    expect(wrong.status).toBe(409);
    const ok = await api.post('/api/v1/devices/ws-01/approve', {
      fingerprint: ws1.certificateFingerprint!.toLowerCase(),
    });
    expect(ok.status).toBe(200);
    const seen = await until('ws-01 in the fleet', () => view('ws-01'));
    expect(seen).toMatchObject({
      name: 'Left printer',
      siteId: 'hall-a',
      address: ws1.webServicesUrl,
    });
    const again = await api.post('/api/v1/devices', {
      url: ws1.webServicesUrl,
      username: 'admin',
      password: DEVICE_PASSWORD,
    });
    expect(again.status).toBe(409);
  });

  it('refuses to add with a fingerprint that does not match, and adds at once with the right one', async () => {
    const ws2 = device('ws-02');
    const bad = await api.post('/api/v1/devices', {
      url: ws2.webServicesUrl,
      username: 'admin',
      password: DEVICE_PASSWORD,
      fingerprint: '00'.repeat(32),
    });
    expect(bad.status).toBe(409);
    const good = await api.post('/api/v1/devices', {
      url: ws2.webServicesUrl,
      username: 'admin',
      password: DEVICE_PASSWORD,
      fingerprint: ws2.certificateFingerprint,
    });
    expect(good.status).toBe(201);
    expect((good.body as { registration: Registration }).registration.pinState).toBe('pinned');
    await until('ws-02 in the fleet', () => view('ws-02'));
  });

  it('merges Web Services and MQTT about one device without duplicating jobs', async () => {
    const both = device('both-01');
    const res = await api.post('/api/v1/devices', {
      url: both.webServicesUrl,
      username: 'admin',
      password: DEVICE_PASSWORD,
      fingerprint: both.certificateFingerprint,
    });
    expect(res.status).toBe(201);
    // Both channels report the same jobs (MQTT events, Web Services jobs?since=) and the same
    // device snapshot; the server must hold each job once, however often it hears of it.
    await until(
      'jobs of both-01',
      async () => {
        const jobs = await api.get('/api/v1/jobs?deviceId=both-01&limit=500');
        const items = (jobs.body as { items: { id: string }[] }).items;
        return items.length >= 1 ? items : undefined;
      },
      30_000,
    );
    // Let a few polls and MQTT messages about the same jobs arrive.
    await new Promise((r) => setTimeout(r, 1500));
    const jobs = (await api.get('/api/v1/jobs?deviceId=both-01&limit=500')).body as {
      items: { id: string }[];
    };
    const ids = jobs.items.map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('pauses a job over Web Services and over MQTT, with results and audit records', async () => {
    const stream = new WebSocket(`wss://127.0.0.1:${started.ports.https}/api/v1/stream`, {
      ca: await readFile(started.certificate.certPath, 'utf8'),
      headers: { cookie: api.sessionCookie!, origin: api.base },
    });
    const streamed: { id: string; status: string }[] = [];
    stream.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString()) as {
        type: string;
        command?: { id: string; status: string };
      };
      if (msg.type === 'command' && msg.command) streamed.push(msg.command);
    });
    await once(stream, 'open');
    for (const id of ['ws-02', 'mqtt-01']) {
      const printing = await until(
        `${id} printing`,
        async () => {
          const v = await view(id);
          return v?.currentJob?.state === 'printing' ? v : undefined;
        },
        30_000,
      );
      const res = await api.post(`/api/v1/jobs/${printing.currentJob!.id}/pause`);
      expect(res.status).toBe(200);
      const command = res.body as { status: string; channel: string; message: string | null };
      expect(command.channel).toBe(id === 'mqtt-01' ? 'mqtt' : 'web-services');
      expect(command.status, command.message ?? '').toBe('accepted');
      // Operators watching the live stream see the outcome.
      const commandId = (res.body as { id: string }).id;
      await until(
        `command ${commandId} on the stream`,
        () =>
          Promise.resolve(
            streamed.some((c) => c.id === commandId && c.status === 'accepted') ? true : undefined,
          ),
        5000,
      );
      await until(
        `${id} paused`,
        async () => ((await view(id))?.state === 'paused' ? true : undefined),
        5000,
      );
      // Pausing again is refused by the device, with its reason.
      const again = await api.post(`/api/v1/jobs/${printing.currentJob!.id}/pause`);
      expect((again.body as { status: string }).status).toBe('rejected');
    }
    stream.close();
    const audit = await api.get('/api/v1/audit?action=job.pause');
    const entries = (audit.body as { items: { outcome: string; actor: string }[] }).items;
    expect(entries.filter((e) => e.outcome === 'ok')).toHaveLength(2);
    expect(entries.every((e) => e.actor === 'admin')).toBe(true);
    const commands = await api.get('/api/v1/commands?limit=10');
    expect((commands.body as { total: number }).total).toBeGreaterThanOrEqual(4);
  });

  it('stops polling a device whose certificate changed, raises an alert, and resumes once re-approved', async () => {
    const ws1 = device('ws-01');
    const before = ws1.certificateFingerprint;
    await ws1.rotateCertificate();
    const after = ws1.certificateFingerprint;
    expect(after).not.toBe(before);
    const reg = await until('mismatch', async () => {
      const r = (await api.get('/api/v1/devices/ws-01/registration')).body as Registration;
      return r.pinState === 'mismatch' ? r : undefined;
    });
    expect(reg).toMatchObject({ fingerprint256: before, presentedFingerprint256: after });
    const alerted = await until('certificate alert', async () => {
      const v = await view('ws-01');
      return v?.openAlerts.some((a) => a.code === 'CERTIFICATE_CHANGED') ? v : undefined;
    });
    expect(alerted.openAlerts.length).toBeGreaterThan(0);
    const ok = await api.post('/api/v1/devices/ws-01/approve', { fingerprint: after });
    expect(ok.status).toBe(200);
    await until('alert cleared', async () => {
      const v = await view('ws-01');
      return v && !v.openAlerts.some((a) => a.code === 'CERTIFICATE_CHANGED') ? true : undefined;
    });
  });

  it('shows a device offline when it goes away and back when it returns', async () => {
    const ws2 = device('ws-02');
    await ws2.stopWebServices();
    await until('ws-02 offline', async () =>
      (await view('ws-02'))?.state === 'offline' ? true : undefined,
    );
    await ws2.startWebServices();
    await until('ws-02 back', async () => {
      const s = (await view('ws-02'))?.state;
      return s !== undefined && s !== 'offline' ? true : undefined;
    });
  });

  it('renames, moves and removes a device', async () => {
    const patched = await api.request('PATCH', '/api/v1/devices/ws-02', {
      name: 'Right printer',
      siteId: 'hall-b',
    });
    expect(patched.status).toBe(200);
    await until('renamed', async () =>
      (await view('ws-02'))?.name === 'Right printer' ? true : undefined,
    );
    expect((await view('ws-02'))?.siteId).toBe('hall-b');
    const removed = await api.request('DELETE', '/api/v1/devices/ws-02');
    expect(removed.status).toBe(204);
    expect(await view('ws-02')).toBeUndefined();
    expect((await api.get('/api/v1/devices/ws-02/registration')).status).toBe(404);
    // Removal stays removed: no poll brings it back.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await view('ws-02')).toBeUndefined();
  });
});
