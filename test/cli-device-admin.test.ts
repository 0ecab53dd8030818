// The newcomer's path through the CLI against a real server and a real simulated fleet serving
// Web Services: log in, discover a block, add what was found, list, pause a job and see the device
// report `paused` — and clear errors for bad input.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { silentLogger } from '../src/observability/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { execCli } from './fixtures/server-process.js';
import { makeTempDir, testConfig, testEnv, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'a long enough admin password';
const DEVICE_PASSWORD = 'device-admin-pw';
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

describe('devices and actions from the CLI', { timeout: 120_000 }, () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let fleet: Simulator;
  let env: Record<string, string>;
  let api: ApiClient;

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    execCli(args, { ...env, ...extra }, 90_000);

  beforeAll(async () => {
    data = await makeTempDir();
    const config = testConfig(data.dir, {
      CC_DEVICES__POLL_ACTIVE_MS: '500',
      CC_DEVICES__POLL_IDLE_MS: '1000',
    });
    app = createApp(config, silentLogger());
    started = await app.start();
    fleet = createSimulator({
      devices: [
        { id: 'cli-01', token: '', kind: 'printer' },
        { id: 'cli-02', token: '', kind: 'printer' },
        { id: 'cli-03', token: '', kind: 'processing-station' },
      ],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.1`, port: 0, password: DEVICE_PASSWORD },
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      logger: silentLogger(),
      speed: 60,
      telemetryIntervalMs: 500,
      seed: 11,
    });
    await fleet.start();
    const token = new URL(started.setupUrl!).hash.replace('#token=', '');
    env = {
      ...testEnv(data.dir),
      XDG_CONFIG_HOME: join(data.dir, 'xdg'),
      CC_SERVER: `https://127.0.0.1:${started.ports.https}`,
      CC_CA: started.certificate.certPath,
    };
    api = await ApiClient.trusting(env.CC_SERVER!, started.certificate.certPath);
    expect(
      (await api.post('/api/v1/setup', { token, username: 'admin', password: PASSWORD })).status,
    ).toBe(201);
    expect(
      (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
    ).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await fleet.stop();
    await api.close();
    await app.stop();
    await data.cleanup();
  });

  it('refuses to act before login, saying what to do', async () => {
    const res = await cli(['devices', 'list']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/command-center login/);
  });

  it('logs in and saves a token', async () => {
    const res = await cli(['login', '-u', 'admin'], { CC_PASSWORD: PASSWORD });
    expect(res.code, res.stderr).toBe(0);
    const wrong = await cli(['login', '-u', 'admin'], { CC_PASSWORD: 'wrong password here' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/INVALID_CREDENTIALS|invalid/i);
  });

  it('discovers the block and lists what it found with fingerprints', async () => {
    const ports = new Set(fleet.devices().map((d) => new URL(d.webServicesUrl!).port));
    // The test fleet sits on ephemeral ports: probe those.
    const withPorts = await cli([
      'devices',
      'discover',
      `${BLOCK}.0/29`,
      '--port',
      [...ports].join(','),
      '--json',
    ]);
    expect(withPorts.code, withPorts.stderr).toBe(0);
    const found = (
      JSON.parse(withPorts.stdout) as {
        found: { identity: { id: string }; fingerprint256: string }[];
      }
    ).found;
    expect(found.map((f) => f.identity.id).sort()).toEqual(['cli-01', 'cli-02', 'cli-03']);
    for (const f of found) {
      const device = fleet.devices().find((d) => d.id === f.identity.id)!;
      expect(f.fingerprint256).toBe(device.certificateFingerprint);
    }
    const human = await cli([
      'devices',
      'discover',
      `${BLOCK}.0/29`,
      '--port',
      [...ports].join(','),
    ]);
    expect(human.stdout).toContain('cli-01');
    expect(human.stdout).toMatch(/[0-9A-F]{2}(:[0-9A-F]{2}){5}/);
  });

  it('adds what it found, pinning the fingerprints seen', async () => {
    const ports = [...new Set(fleet.devices().map((d) => new URL(d.webServicesUrl!).port))];
    const res = await cli(
      ['devices', 'discover', `${BLOCK}.0/29`, '--port', ports.join(','), '--add'],
      { CC_DEVICE_PASSWORD: DEVICE_PASSWORD },
    );
    expect(res.code, res.stderr).toBe(0);
    const list = await cli(['devices', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const items = JSON.parse(list.stdout) as { deviceId: string; pinState: string }[];
    expect(
      items
        .filter((r) => r.pinState === 'pinned')
        .map((r) => r.deviceId)
        .sort(),
    ).toEqual(['cli-01', 'cli-02', 'cli-03']);
  });

  it('pauses the job a device is printing and the device reports paused', async () => {
    // Wait until the server sees a job printing on it.
    await expect
      .poll(async () => (await fetchDevice('cli-01'))?.state, { timeout: 30_000, interval: 200 })
      .toBe('printing');
    const res = await cli(['jobs', 'pause', 'cli-01', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const command = JSON.parse(res.stdout) as { status: string; channel: string };
    expect(command).toMatchObject({ status: 'accepted', channel: 'web-services' });
    await expect
      .poll(async () => (await fetchDevice('cli-01'))?.state, { timeout: 5000 })
      .toBe('paused');
    const again = await cli(['jobs', 'pause', 'cli-01']);
    expect(again.code).not.toBe(0);
    expect(again.stdout).toMatch(/pause .* on cli-01 via web-services: rejected — \S/);
    const resumed = await cli(['jobs', 'resume', 'cli-01']);
    expect(resumed.code, resumed.stderr).toBe(0);
  }, 90_000);

  it('issues and revokes a device MQTT token through the server', async () => {
    const issued = await cli(['devices', 'token', 'cli-mqtt-01', '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const body = JSON.parse(issued.stdout) as { token: string; rotated: boolean };
    expect(body.rotated).toBe(false);
    expect(body.token.length).toBeGreaterThanOrEqual(40);
    const revoked = await cli(['devices', 'token', 'cli-mqtt-01', '--revoke']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('revoked');
    expect((await api.get('/api/v1/devices/cli-mqtt-01/mqtt-token')).status).toBe(404);
  });

  it('gives clear errors for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['devices', 'add', 'http://10.0.0.1'], /HTTPS only/],
      [['devices', 'add', `${BLOCK}.1:1`, '--fingerprint', 'zz'], /fingerprint/],
      [['devices', 'discover', '10.0.0.0/8'], /\/16 to \/32/],
      [['devices', 'discover', 'not a host!'], /not an address/],
      [['jobs', 'pause', 'no-such-device'], /no-such-device/],
      [['jobs', 'explode', 'cli-01'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const res = await cli(args, { CC_DEVICE_PASSWORD: DEVICE_PASSWORD });
      expect(res.code, args.join(' ')).not.toBe(0);
      expect(res.stderr, args.join(' ')).toMatch(message);
      expect(res.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  }, 120_000);

  async function fetchDevice(
    id: string,
  ): Promise<{ state: string; currentJob: unknown } | undefined> {
    const res = await api.get(`/api/v1/devices/${id}`);
    return res.status === 200 ? (res.body as { state: string; currentJob: unknown }) : undefined;
  }
});
