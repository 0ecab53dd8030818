// Accounts in a real browser (Debian's Chromium through playwright-core) against the whole server
// in-process with a simulated fleet over real MQTT: an administrator creates two sites, invites an
// operator limited to one of them from the Users page (the link is shown once), the operator
// accepts the invitation in a second browser and sees only that site's devices; the audit log
// shows what happened. Screenshots go to test-artifacts/screenshots/accounts-*.png.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { issueDeviceToken } from '../../src/broker/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createSimulator, planFleet } from '../../src/simulator/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import { ApiClient } from '../fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const FLEET_SIZE = 6;
const browser = browserAvailability();

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(browser.skip)('accounts in Chromium', { timeout: 60_000 }, () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let base: string;
  let api: ApiClient;
  let simulator: ReturnType<typeof createSimulator>;
  const sessions: BrowserSession[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const plan = planFleet(FLEET_SIZE, 3);
  const hallA = plan.slice(0, 3).map((d) => d.id);
  const hallB = plan.slice(3).map((d) => d.id);
  let inviteLink = '';

  async function session(): Promise<BrowserSession> {
    const s = await openBrowser({ width: 1280, height: 900 });
    sessions.push(s);
    return s;
  }

  beforeAll(async () => {
    if (!browser.available) throw new Error(browser.message);
    data = await makeTempDir('cc-e2e-accounts-');
    cleanups.push(() => data.cleanup());
    const config = testConfig(data.dir);
    app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    started = await app.start();
    base = `https://127.0.0.1:${started.ports.https}`;
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    const tokens = new Map<string, string>();
    for (const d of plan) tokens.set(d.id, await issueDeviceToken(store.deviceCredentials, d.id));
    await store.close();
    simulator = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      devices: plan.map((d) => ({ ...d, token: tokens.get(d.id)! })),
      logger: silentLogger(),
      speed: 60,
      telemetryIntervalMs: 500,
      seed: 3,
    });
    cleanups.push(() => simulator.stop());
    await simulator.start();
    api = await ApiClient.trusting(base, started.certificate.certPath);
    cleanups.push(() => api.close());

    // The first admin, two sites and the devices placed in them, through the API.
    const token = new URL(started.setupUrl!).hash.replace('#token=', '');
    expect(
      (await api.request('POST', '/api/v1/setup', { token, username: 'admin', password: PASSWORD }))
        .status,
    ).toBe(201);
    await api.request('POST', '/api/v1/auth/login', { username: 'admin', password: PASSWORD });
    for (const [id, name] of [
      ['hall-a', 'Hall A'],
      ['hall-b', 'Hall B'],
    ]) {
      expect((await api.request('POST', '/api/v1/sites', { id, name })).status).toBe(201);
    }
    await until('every simulated device in the fleet', async () => {
      const res = await api.request('GET', '/api/v1/devices?limit=100');
      return (res.body as { total: number }).total === FLEET_SIZE ? true : undefined;
    });
    for (const [siteId, ids] of [
      ['hall-a', hallA],
      ['hall-b', hallB],
    ] as const) {
      for (const id of ids) {
        const moved = await api.request('PATCH', `/api/v1/devices/${id}`, { siteId });
        expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      }
    }
  }, 90_000);

  afterAll(async () => {
    for (const s of sessions) await s.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('lets the admin invite an operator limited to one site, showing the link once', async () => {
    const s = await session();
    await s.page.goto(`${base}/login`);
    await s.page.getByLabel('User name').fill('admin');
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    await s.page.getByRole('link', { name: 'Users', exact: true }).click();
    await s.page.waitForURL(`${base}/users`);
    const form = s.page.getByRole('form', { name: 'Invite someone' });
    await form.getByLabel('Role').selectOption('operator');
    await form.getByRole('radio', { name: /Only these sites/ }).check();
    await expect.poll(() => form.getByRole('checkbox', { name: /Hall A/ }).isChecked()).toBe(true);
    await form.getByRole('button', { name: 'Create invitation' }).click();
    const link = s.page.getByLabel(/Invitation link — shown only once/);
    await link.waitFor();
    inviteLink = await link.inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${base}/invite#token=[A-Za-z0-9_-]{43}$`));
    await expect
      .poll(() => s.page.getByRole('table', { name: 'Pending invitations' }).textContent())
      .toContain('hall-a');
    await s.screenshot('accounts-01-invite-link');
    expect(s.problems).toEqual([]);
  });

  it('lets the operator accept in a second browser and see only that site’s devices', async () => {
    const s = await session();
    await s.page.goto(inviteLink);
    await expect.poll(() => s.page.url()).not.toContain('token=');
    await s.page.getByLabel('User name').fill('olga');
    await s.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await s.page.getByLabel('Repeat the password').fill(PASSWORD);
    await s.screenshot('accounts-02-accept');
    await s.page.getByRole('button', { name: 'Create account' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    const cards = s.page.locator('.device-card');
    await expect.poll(() => cards.count(), { timeout: 15_000 }).toBe(hallA.length);
    const shown: string[] = [];
    for (const card of await cards.all())
      shown.push((await card.getAttribute('data-device-id')) ?? '');
    expect(shown.sort()).toEqual([...hallA].sort());
    // A device of the other site is not there at all, for the API either.
    const other = await s.page.request.get(`${base}/api/v1/devices/${hallB[0]!}`);
    expect(other.status()).toBe(404);
    await s.screenshot('accounts-03-operator-fleet');
    // Reusing the link fails with a clear message.
    const again = await session();
    await again.page.goto(inviteLink);
    await again.page.getByLabel('User name').fill('olga2');
    await again.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await again.page.getByLabel('Repeat the password').fill(PASSWORD);
    await again.page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => again.page.getByRole('alert').textContent()).toContain('used already');
    expect(s.problems).toEqual([]);
  });

  it('shows the admin the new user and the audit trail', async () => {
    const s = sessions[0]!;
    await s.page.reload();
    const row = s.page.locator('[data-user="olga"]');
    await expect.poll(() => row.textContent()).toContain('hall-a');
    await s.screenshot('accounts-04-users');
    await s.page.getByRole('link', { name: 'Audit log' }).click();
    await s.page.waitForURL(`${base}/audit`);
    await s.page.getByLabel('Action').fill('user.*');
    await s.page.getByLabel('Action').press('Enter');
    await expect
      .poll(() => s.page.locator('[data-action="user.invite.accept"]').count())
      .toBeGreaterThan(0);
    await s.screenshot('accounts-05-audit');
    expect(s.problems).toEqual([]);
  });
});
