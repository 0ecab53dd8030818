// Device MQTT tokens through the API: issue (shown once), rotate (the old token stops at once and
// its connection is closed), status without the secret, revoke — each audited, admins only.

import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { silentLogger } from '../src/observability/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE = 'printer-tok-01';

describe('device MQTT tokens over the API', () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let api: ApiClient;

  const connect = (password: string): Promise<MqttClient> =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${started.ports.mqtt}`, {
      clientId: DEVICE,
      username: DEVICE,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });

  beforeAll(async () => {
    data = await makeTempDir();
    app = createApp(testConfig(data.dir), silentLogger());
    started = await app.start();
    api = await ApiClient.trusting(
      `https://127.0.0.1:${started.ports.https}`,
      started.certificate.certPath,
    );
    const setup = new URL(started.setupUrl!).hash.replace('#token=', '');
    await api.post('/api/v1/setup', { token: setup, username: 'admin', password: PASSWORD });
    await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
  });

  afterAll(async () => {
    await api.close();
    await app.stop();
    await data.cleanup();
  });

  it('issues a token shown once; the device connects with it', async () => {
    const res = await api.post(`/api/v1/devices/${DEVICE}/mqtt-token`);
    expect(res.status, res.text).toBe(201);
    const { token, rotated } = res.body as { token: string; rotated: boolean };
    expect(rotated).toBe(false);
    expect(token.length).toBeGreaterThanOrEqual(40);
    const client = await connect(token);
    const status = await api.get(`/api/v1/devices/${DEVICE}/mqtt-token`);
    expect(status.body).toMatchObject({ deviceId: DEVICE, connected: true });
    expect(status.text).not.toContain(token);
    await client.endAsync();
  });

  it('rotates: the connected device is dropped, the old token refused, the new one works', async () => {
    const first = (await api.post(`/api/v1/devices/${DEVICE}/mqtt-token`)).body as {
      token: string;
    };
    const client = await connect(first.token);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const second = await api.post(`/api/v1/devices/${DEVICE}/mqtt-token`);
    expect((second.body as { rotated: boolean }).rotated).toBe(true);
    await closed;
    client.end(true);
    await expect(connect(first.token)).rejects.toThrow(/Not authorized|Bad username/i);
    const fresh = await connect((second.body as { token: string }).token);
    await fresh.endAsync();
  });

  it('revokes: disconnected and refused from then on; a second revoke is 404', async () => {
    const issued = (await api.post(`/api/v1/devices/${DEVICE}/mqtt-token`)).body as {
      token: string;
    };
    const client = await connect(issued.token);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const res = await api.request('DELETE', `/api/v1/devices/${DEVICE}/mqtt-token`);
    expect(res.status, res.text).toBe(204);
    await closed;
    client.end(true);
    await expect(connect(issued.token)).rejects.toThrow(/Not authorized|Bad username/i);
    expect((await api.request('DELETE', `/api/v1/devices/${DEVICE}/mqtt-token`)).status).toBe(404);
    expect((await api.get(`/api/v1/devices/${DEVICE}/mqtt-token`)).status).toBe(404);
  });

  it('refuses bad ids and records every change in the audit log', async () => {
    const bad = await api.post(`/api/v1/devices/${encodeURIComponent('../x')}/mqtt-token`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: expect.any(String) as string } });
    const audit = await api.get(`/api/v1/audit?target=${DEVICE}`);
    const actions = (audit.body as { items: { action: string; actor: string }[] }).items.map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['device.token.issue', 'device.token.rotate', 'device.token.revoke']),
    );
    expect(audit.text).not.toMatch(/"token":/);
  });
});
