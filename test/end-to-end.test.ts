// From a device's MQTT message to an operator's screen: the whole server in-process on loopback,
// a simulated fleet over real MQTT, the API over real TLS, the live stream over a real WebSocket.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createSimulator, planFleet } from '../src/simulator/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

interface DeviceItem {
  id: string;
  state: string;
  lastSeenAt: string | null;
}

const PASSWORD = 'correct horse battery staple';
/** A provisioned device id used by mosquitto_sub (client id = device id, so not a simulated one). */
const LISTENER = 'listener-01';

describe('end to end', () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let api: ApiClient;
  let simulator: ReturnType<typeof createSimulator>;
  const tokens = new Map<string, string>();
  const plan = planFleet(4, 7);

  beforeAll(async () => {
    data = await makeTempDir();
    const config = testConfig(data.dir);
    app = createApp(config, silentLogger());
    started = await app.start();
    // Provision through a second connection to the same database, as the CLI does.
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    for (const device of plan)
      tokens.set(device.id, await issueDeviceToken(store.deviceCredentials, device.id));
    tokens.set(LISTENER, await issueDeviceToken(store.deviceCredentials, LISTENER));
    await store.close();
    simulator = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      devices: plan.map((d) => ({ ...d, token: tokens.get(d.id)! })),
      logger: silentLogger(),
      speed: 60,
      telemetryIntervalMs: 200,
      seed: 7,
    });
    await simulator.start();
    api = await ApiClient.trusting(
      `https://127.0.0.1:${started.ports.https}`,
      started.certificate.certPath,
    );
  });

  afterAll(async () => {
    await simulator.stop();
    await api.close();
    await app.stop();
    await data.cleanup();
  });

  it('requires authentication before setup and creates the first admin from the one-time link', async () => {
    expect((await api.get('/api/v1/devices')).status).toBe(401);
    expect(started.setupUrl).toMatch(/\/setup#token=/);
    const token = new URL(started.setupUrl!).hash.replace('#token=', '');
    const wrong = await api.post('/api/v1/setup', {
      token: 'x'.repeat(43),
      username: 'admin',
      password: PASSWORD,
    });
    expect(wrong.status).toBe(403);
    const ok = await api.post('/api/v1/setup', { token, username: 'admin', password: PASSWORD });
    expect(ok.status).toBeLessThan(300);
    const again = await api.post('/api/v1/setup', {
      token,
      username: 'admin2',
      password: PASSWORD,
    });
    expect(again.status).toBe(409);
    const login = await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
    expect(login.status).toBe(200);
    expect(api.sessionCookie).toMatch(/^cc_session=/);
  });

  it('publishes its ports in /api/v1/info', async () => {
    const info = await api.get('/api/v1/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ ports: started.ports });
  });

  it('shows every simulated device, changing live over the WebSocket stream', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${started.ports.https}/api/v1/stream`, {
      ca: await readFile(started.certificate.certPath, 'utf8'),
      headers: { cookie: api.sessionCookie!, origin: api.base },
    });
    const seen = new Map<string, number>();
    const allUpdatedTwice = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stream saw only ${JSON.stringify([...seen])}`)),
        20_000,
      );
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as { type: string; device?: DeviceItem };
        if (msg.type === 'device' && msg.device) {
          seen.set(msg.device.id, (seen.get(msg.device.id) ?? 0) + 1);
          if (plan.every((d) => (seen.get(d.id) ?? 0) >= 2)) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    });
    await allUpdatedTwice;
    ws.close();

    const first = await api.get('/api/v1/devices?limit=100');
    expect(first.status).toBe(200);
    const items = (first.body as { items: DeviceItem[]; total: number }).items;
    expect(items.map((d) => d.id).sort()).toEqual(plan.map((d) => d.id).sort());
    for (const item of items) expect(item.lastSeenAt).not.toBeNull();

    const one = await api.get(`/api/v1/devices/${plan[0]!.id}`);
    expect(one.status).toBe(200);
    const missing = await api.get('/api/v1/devices/no-such-device');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'DEVICE_NOT_FOUND' } });
  });

  it('serves down-sampled metric series of a device', async () => {
    const id = plan[0]!.id;
    const res = await api.get(`/api/v1/devices/${id}/metrics?step=1`);
    expect(res.status).toBe(200);
    const series = (res.body as { series: Array<{ name: string; points: unknown[] }> }).series;
    expect(series.length).toBeGreaterThan(0);
    expect(series.some((s) => s.points.length > 0)).toBe(true);
  });

  it('lets mosquitto_sub in with a provisioned token and refuses it without one', async () => {
    const id = LISTENER;
    const run = async (args: string[]): Promise<{ code: number | null; out: string }> => {
      const child = spawn('mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(started.ports.mqtt),
        '-V',
        'mqttv311',
        ...args,
      ]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, out };
    };
    // Subscribes to its own commands and times out waiting (-W): that is a successful login.
    const ok = await run([
      '-i',
      id,
      '-u',
      id,
      '-P',
      tokens.get(id)!,
      '-t',
      `cc/v1/devices/${id}/commands`,
      '-W',
      '1',
    ]);
    expect(ok.out).not.toMatch(/refused|not authori/i);
    const refused = await run(['-i', 'intruder', '-t', '#', '-W', '2']);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/refused|not authori/i);
  });

  it('redirects plain HTTP to HTTPS and serves health and the certificate there', async () => {
    const health = await fetch(`http://127.0.0.1:${started.ports.http}/healthz`);
    expect(health.status).toBe(200);
    const redirect = await fetch(`http://127.0.0.1:${started.ports.http}/api/v1/devices`, {
      redirect: 'manual',
    });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe(
      `https://127.0.0.1:${started.ports.https}/api/v1/devices`,
    );
    const ca = await fetch(`http://127.0.0.1:${started.ports.http}/ca.crt`);
    expect(await ca.text()).toContain('BEGIN CERTIFICATE');
  });
});
