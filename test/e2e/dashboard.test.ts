// The dashboard in a real browser (Debian's Chromium through playwright-core) against the whole
// server in-process with a simulated fleet over real MQTT: first-admin setup from the one-time
// link, login and logout, live updates without reload, acknowledging an alert, pausing a job as an
// operator, session expiry, and the wall display for a dashboard account. Every test saves a
// screenshot under test-artifacts/screenshots/.

import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/index.js';
import { issueDeviceToken } from '../../src/broker/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createSimulator, planFleet } from '../../src/simulator/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import { ApiClient } from '../fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const FLEET_SIZE = 12;
/** A scripted device (not simulated) that raises an alert, for the acknowledge test. */
const ALARM_DEVICE = 'e2e-alarm-01';
const browser = browserAvailability();

interface DeviceItem {
  id: string;
  kind: string;
  state: string;
  currentJob: { id: string; state: string } | null;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(browser.skip)('dashboard in Chromium', { timeout: 60_000 }, () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let base: string;
  let api: ApiClient;
  let simulator: ReturnType<typeof createSimulator>;
  let alarm: mqtt.MqttClient | undefined;
  let alarmToken = '';
  const sessions: BrowserSession[] = [];
  /** Stops what beforeAll started, in reverse order, however far it got. */
  const cleanups: (() => Promise<unknown>)[] = [];
  const plan = planFleet(FLEET_SIZE, 7);

  async function session(width = 1280, height = 800): Promise<BrowserSession> {
    const s = await openBrowser({ width, height });
    sessions.push(s);
    return s;
  }

  /** An operator and a wall account, created once the first admin exists (as an admin would). */
  async function addUsers(): Promise<void> {
    const store = await createSqliteStore({
      file: join(data.dir, testConfig(data.dir).store.sqliteFile),
      logger: silentLogger(),
    });
    for (const [username, role] of [
      ['olga', 'operator'],
      ['wall', 'dashboard'],
    ] as const) {
      await store.users.create({
        id: `u-${username}`,
        username,
        role,
        passwordHash: await hashPassword(PASSWORD),
        createdAt: new Date().toISOString(),
        disabledAt: null,
      });
    }
    await store.close();
  }

  async function login(s: BrowserSession, username: string): Promise<void> {
    await s.page.goto(`${base}/login`);
    await s.page.getByLabel('User name').fill(username);
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
  }

  beforeAll(async () => {
    if (!browser.available) throw new Error(browser.message);
    data = await makeTempDir('cc-e2e-');
    cleanups.push(() => data.cleanup());
    const config = testConfig(data.dir);
    app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    started = await app.start();
    base = `https://127.0.0.1:${started.ports.https}`;
    // Device tokens, issued as the CLI does: through a second connection to the database.
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    const tokens = new Map<string, string>();
    for (const d of [...plan, { id: ALARM_DEVICE }]) {
      tokens.set(d.id, await issueDeviceToken(store.deviceCredentials, d.id));
    }
    await store.close();
    simulator = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      devices: plan.map((d) => ({ ...d, token: tokens.get(d.id)! })),
      logger: silentLogger(),
      speed: 60,
      telemetryIntervalMs: 500,
      seed: 7,
    });
    cleanups.push(() => simulator.stop());
    await simulator.start();
    api = await ApiClient.trusting(base, started.certificate.certPath);
    cleanups.push(() => api.close());
    alarmToken = tokens.get(ALARM_DEVICE)!;
  }, 60_000);

  afterAll(async () => {
    for (const s of sessions) await s.close();
    if (alarm) await alarm.endAsync();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('creates the first administrator from the one-time setup link and shows the live fleet', async () => {
    const s = await session();
    expect(started.setupUrl).toMatch(/\/setup#token=/);
    await s.page.goto(started.setupUrl!.replace(/^https:\/\/[^/]+/, base));
    // The token leaves the address bar at once.
    await expect.poll(() => s.page.url()).not.toContain('token=');
    await s.page.getByLabel('User name').fill('admin');
    await s.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await s.page.getByLabel('Repeat the password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Create administrator' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    const cards = s.page.locator('.device-card');
    await expect.poll(() => cards.count(), { timeout: 15_000 }).toBe(FLEET_SIZE);
    await expect
      .poll(() => s.page.locator('[data-connection="live"]').count(), { timeout: 10_000 })
      .toBe(1);
    // Give the printers a moment to start their first jobs, so the picture shows a working site.
    await until('printing devices', async () =>
      (await s.page.locator('.device-card [data-state="printing"]').count()) >= 3
        ? true
        : undefined,
    );
    const shot = await s.screenshot('01-fleet');
    if (process.env.CC_UPDATE_DOCS_SCREENSHOT === '1') {
      await mkdir('docs/screenshots', { recursive: true });
      await copyFile(shot, 'docs/screenshots/fleet.png');
    }
    expect(s.problems).toEqual([]);
    await addUsers();
  });

  it('logs out, refuses a wrong password and logs in again', async () => {
    const s = sessions[0]!;
    await s.page.getByRole('button', { name: 'Log out' }).click();
    await s.page.waitForURL(`${base}/login`);
    await expect.poll(() => s.page.getByText('You are logged out.').count()).toBe(1);
    await s.page.getByLabel('User name').fill('admin');
    await s.page.getByLabel('Password').fill('not the password at all');
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => s.page.getByRole('alert').textContent()).toContain('Wrong user name');
    await s.screenshot('02-login-refused');
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    await expect.poll(() => s.page.locator('.device-card').count()).toBe(FLEET_SIZE);
  });

  it('shows a simulator state change within 2 s, without reloading the page', async () => {
    const s = sessions[0]!;
    const target = simulator.devices().find((d) => d.kind === 'cooling-unit')!;
    const badge = s.page.locator(`.device-card[data-device-id="${target.id}"] [data-state]`);
    await expect.poll(() => badge.getAttribute('data-state')).not.toBe('offline');
    await s.page.evaluate('window.notReloaded = true');
    const t0 = Date.now();
    await target.stop();
    await badge.and(s.page.locator('[data-state="offline"]')).waitFor({ timeout: 2000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await s.page.evaluate('window.notReloaded')).toBe(true);
    await s.screenshot('03-live-offline');
    expect(s.problems).toEqual([]);
  });

  it('lets an operator acknowledge an alert on the device page', async () => {
    alarm = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.ports.mqtt}`, {
      clientId: ALARM_DEVICE,
      username: ALARM_DEVICE,
      password: alarmToken,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const ts = new Date().toISOString();
    await alarm.publishAsync(
      `cc/v1/devices/${ALARM_DEVICE}/state`,
      JSON.stringify({
        ts,
        kind: 'cooling-unit',
        model: 'C-100',
        serial: 'SN-E2E',
        name: 'Cooling test rig',
        firmwareVersion: '1.0.0',
        state: 'error',
        job: null,
        consumables: [{ slot: 'coolant', type: 'coolant', level: 9, status: 'low' }],
        alerts: [
          {
            id: 'al-e2e-1',
            code: 'PUMP_FAULT',
            severity: 'critical',
            message: 'Coolant pump stalled',
            raisedAt: ts,
          },
        ],
      }),
      { qos: 1, retain: true },
    );
    const s = await session();
    await login(s, 'olga');
    await s.page.waitForURL(`${base}/fleet`);
    await s.page.goto(`${base}/devices/${ALARM_DEVICE}`);
    const item = s.page.locator('[data-alert-id="al-e2e-1"]');
    await item.getByRole('button', { name: /Acknowledge/ }).click();
    await expect
      .poll(() => item.textContent(), { timeout: 5000 })
      .toContain('Acknowledged by olga');
    await s.screenshot('04-alert-acknowledged');
    expect(s.problems).toEqual([]);
  });

  it('lets an operator pause a running job and shows it paused', async () => {
    const s = sessions[sessions.length - 1]!;
    const printing = await until('a printing job', async () => {
      const res = await s.page.request.get(`${base}/api/v1/devices?kind=printer&state=printing`);
      const items = ((await res.json()) as { items: DeviceItem[] }).items;
      return items.find((d) => d.currentJob?.state === 'printing');
    });
    await s.page.goto(`${base}/devices/${printing.id}`);
    await expect
      .poll(() => s.page.locator('.chart canvas').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await s.page.getByRole('button', { name: 'Pause job' }).click();
    await expect
      .poll(() => s.page.locator('.notices').textContent(), { timeout: 10_000 })
      .toContain('accepted');
    await expect
      .poll(() => s.page.getByRole('button', { name: 'Resume job' }).count(), { timeout: 5000 })
      .toBe(1);
    await s.screenshot('05-job-paused');
    expect(s.problems).toEqual([]);
  });

  it('sends the user back to the login page with a message when the session ends', async () => {
    const s = sessions[sessions.length - 1]!;
    await s.context.clearCookies();
    await s.page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await s.page.waitForURL(/\/login\?next=/);
    await expect
      .poll(() => s.page.getByRole('status').first().textContent())
      .toContain('session has ended');
    await s.screenshot('06-session-ended');
  });

  it('shows the wall display, full screen and without controls, to a dashboard account', async () => {
    const s = await session(1920, 1080);
    await login(s, 'wall');
    await s.page.waitForURL(`${base}/wall`);
    const tiles = s.page.locator('.wall-tile');
    // 13 devices at 12 per screen: two pages, rotated; the first holds the device in error.
    await expect.poll(() => tiles.count(), { timeout: 10_000 }).toBe(12);
    expect(await s.page.locator('.wall-head').textContent()).toContain('page 1 of 2');
    expect(await tiles.first().getAttribute('data-device-id')).toBe(ALARM_DEVICE);
    expect(await s.page.locator('.wall button, .wall a, .wall input, .wall select').count()).toBe(
      0,
    );
    expect(await s.page.locator('nav').count()).toBe(0);
    const nameSize = Number(
      await s.page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.wall-tile .tile-name')).fontSize)",
      ),
    );
    expect(nameSize).toBeGreaterThanOrEqual(28);
    await s.screenshot('07-wall');
    expect(s.problems).toEqual([]);
  });

  it('fits a tablet at 768 px without sideways scrolling', async () => {
    const s = await session(768, 1024);
    await login(s, 'olga');
    await s.page.waitForURL(`${base}/fleet`);
    await expect.poll(() => s.page.locator('.device-card').count()).toBeGreaterThan(0);
    const overflow = Number(
      await s.page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      ),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await s.screenshot('08-fleet-tablet');
  });
});
