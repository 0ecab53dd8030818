// Device MQTT tokens from the dashboard, in Chromium against the whole server in-process: an
// administrator revokes a device's token, issues a new one (shown once) and a device connects with
// it over real MQTT; rotating from the keyboard drops that connection and the old token is refused
// from then on while the new one works. Screenshots go to test-artifacts/screenshots/.

import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/index.js';
import { issueDeviceToken } from '../../src/broker/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE = 'e2e-token-printer-01';
const browser = browserAvailability();

describe.skipIf(browser.skip)('device MQTT tokens in the dashboard', { timeout: 60_000 }, () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let base: string;
  let s: BrowserSession;
  let provisioned = '';
  let issued = '';
  const clients: MqttClient[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const connect = async (password: string): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.ports.mqtt}`, {
      clientId: DEVICE,
      username: DEVICE,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(client);
    return client;
  };

  const panel = () => s.page.getByRole('region', { name: 'MQTT access' });
  const tokenField = () => panel().getByLabel(/shown only once/);

  beforeAll(async () => {
    if (!browser.available) throw new Error(browser.message);
    data = await makeTempDir('cc-e2e-tokens-');
    cleanups.push(() => data.cleanup());
    const config = testConfig(data.dir);
    // An administrator and a provisioned device, made as the CLI does: in the database, first.
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    await store.migrate();
    await store.users.create({
      id: 'u-ada',
      username: 'ada',
      role: 'admin',
      passwordHash: await hashPassword(PASSWORD),
      createdAt: new Date().toISOString(),
      disabledAt: null,
    });
    provisioned = await issueDeviceToken(store.deviceCredentials, DEVICE);
    await store.close();
    app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    started = await app.start();
    base = `https://127.0.0.1:${started.ports.https}`;
    // The device announces itself, so it is in the fleet and has a page.
    const device = await connect(provisioned);
    await device.publishAsync(
      `cc/v1/devices/${DEVICE}/state`,
      JSON.stringify({
        ts: new Date().toISOString(),
        kind: 'printer',
        model: 'P-500',
        serial: 'SN-E2E-TOKEN',
        name: 'Token test printer',
        firmwareVersion: '1.0.0',
        state: 'idle',
        job: null,
        consumables: [],
        alerts: [],
      }),
      { qos: 1, retain: true },
    );
    s = await openBrowser({ width: 1280, height: 900 });
    cleanups.push(() => s.close());
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('shows an admin the device’s token and revokes it after confirmation', async () => {
    await s.page.goto(`${base}/login`);
    await s.page.getByLabel('User name').fill('ada');
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    await s.page.goto(`${base}/devices/${DEVICE}`);
    await expect
      .poll(() => panel().locator('[data-token-status]').textContent(), { timeout: 10_000 })
      .toMatch(/A token is active since .* the device is connected now/);
    const device = clients[0]!;
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await panel().getByRole('button', { name: 'Revoke…' }).click();
    const confirm = panel().getByRole('group', { name: 'Confirm revocation' });
    expect(await confirm.textContent()).toContain('cannot connect again');
    await s.screenshot('tokens-01-confirm-revoke');
    await confirm.getByRole('button', { name: 'Yes, revoke token' }).click();
    await expect.poll(() => panel().textContent()).toContain('No MQTT token');
    await closed;
    await expect(connect(provisioned)).rejects.toThrow(/Not authorized|Bad username/i);
    expect(s.problems).toEqual([]);
  });

  it('issues a token shown once, with the mosquitto_pub line; the device connects with it', async () => {
    await panel().getByRole('button', { name: 'Issue token' }).click();
    await expect.poll(() => tokenField().count()).toBe(1);
    issued = await tokenField().inputValue();
    expect(issued.length).toBeGreaterThanOrEqual(40);
    expect(await tokenField().getAttribute('readonly')).not.toBeNull();
    // The field has the focus, with the token selected, ready to copy.
    expect(await s.page.evaluate('document.activeElement && document.activeElement.id')).toBe(
      'mqtt-token-value',
    );
    expect(await panel().textContent()).toContain('cannot be shown again');
    await expect
      .poll(() => panel().locator('.token-example').textContent())
      .toBe(
        `mosquitto_pub -V mqttv311 -h 127.0.0.1 -p ${started.ports.mqtt} -i ${DEVICE} ` +
          `-u ${DEVICE} -P '${issued}' -t cc/v1/devices/${DEVICE}/status -m online -q 1 -r`,
      );
    await s.screenshot('tokens-02-issued');
    const device = await connect(issued);
    expect(device.connected).toBe(true);
    expect(s.problems).toEqual([]);
  });

  it('rotates from the keyboard: the connection is closed, the old token refused, the new one works', async () => {
    const device = clients.at(-1)!;
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await panel().getByRole('button', { name: 'Done, hide the token' }).press('Enter');
    expect(await tokenField().count()).toBe(0);
    // The focus is back on the main action, now "Rotate token…".
    await s.page.keyboard.press('Enter');
    const confirm = panel().getByRole('group', { name: 'Confirm rotation' });
    await expect.poll(() => confirm.count()).toBe(1);
    expect(await confirm.textContent()).toContain('the old token stops working at once');
    await expect
      .poll(() => s.page.evaluate('document.activeElement && document.activeElement.textContent'))
      .toBe('Keep the current token');
    await s.page.keyboard.press('Shift+Tab');
    await s.page.keyboard.press('Enter');
    await expect.poll(() => tokenField().count(), { timeout: 10_000 }).toBe(1);
    const rotated = await tokenField().inputValue();
    expect(rotated).not.toBe(issued);
    await closed;
    await expect(connect(issued)).rejects.toThrow(/Not authorized|Bad username/i);
    const fresh = await connect(rotated);
    expect(fresh.connected).toBe(true);
    await s.screenshot('tokens-03-rotated');
    expect(s.problems).toEqual([]);
  });
});
