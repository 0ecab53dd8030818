// The Cloud page in a real browser (Debian's Chromium through playwright-core) against the whole
// server in-process, its uplink pointed at the reference cloud receiver over real TLS on loopback,
// and one device announcing itself over real MQTT: the page says the site is not enrolled, shows
// the cloud's refusal of a wrong token next to the form, enrolls from the keyboard alone, records
// a consent decision that the next report then honours (the device's name in clear), previews the
// next report with its size, and un-enrolls only after confirmation. Screenshots go to
// test-artifacts/screenshots/cloud-*.png; with CC_UPDATE_DOCS_SCREENSHOT=1 the enrolled page also
// refreshes docs/screenshots/cloud.png.

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/index.js';
import { issueDeviceToken } from '../../src/broker/index.js';
import {
  createCloudReceiver,
  type CloudReceiver,
  type StoredReport,
} from '../../src/cloud-receiver/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const ORG = 'org-e2e-acme';
const ENROLLMENT_TOKEN = 'enroll-e2e-5d8c31f0a7';
const WRONG_TOKEN = 'not-the-enrollment-token';
const DEVICE = 'e2e-cloud-printer-01';
/** Only the `labels` category carries it in clear; without consent it is left out. */
const DEVICE_NAME = 'Hall C marker printer';
const browser = browserAvailability();

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(browser.skip)('the Cloud page in Chromium', { timeout: 60_000 }, () => {
  let data: TestDataDir;
  let cloudData: TestDataDir;
  let receiver: CloudReceiver;
  let app: App;
  let started: StartedApp;
  let base: string;
  let s: BrowserSession;
  let siteId = '';
  const clients: MqttClient[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const status = () => s.page.getByRole('region', { name: 'Status' });
  const health = () => status().locator('[data-health]');
  const enrollForm = () => s.page.getByRole('form', { name: 'Enroll this site' });
  const consentRow = (category: string) => s.page.locator(`tr[data-consent="${category}"]`);
  const activeId = async () =>
    String(await s.page.evaluate("document.activeElement ? document.activeElement.id : ''"));

  /** The report with this seq, once the receiver has decrypted and stored it. */
  const receivedReport = (seq: number): Promise<StoredReport> =>
    until(`report #${seq} at the receiver`, () =>
      receiver.reports(siteId).find((r) => r.seq === seq),
    );

  beforeAll(async () => {
    if (!browser.available) throw new Error(browser.message);
    cloudData = await makeTempDir('cc-e2e-cloud-receiver-');
    cleanups.push(() => cloudData.cleanup());
    receiver = createCloudReceiver({
      dataDir: cloudData.dir,
      host: '127.0.0.1',
      organizationId: ORG,
      enrollmentToken: ENROLLMENT_TOKEN,
      logger: silentLogger(),
    });
    const cloud = await receiver.start();
    cleanups.push(() => receiver.stop());
    const cloudPort = new URL(cloud.url).port;

    data = await makeTempDir('cc-e2e-cloud-');
    cleanups.push(() => data.cleanup());
    const caFile = join(data.dir, 'cloud-ca.pem');
    await writeFile(caFile, cloud.caCertPem);
    const config = testConfig(data.dir, {
      CC_UPLINK__ENDPOINT: cloud.url,
      CC_UPLINK__ALLOWED_HOSTS: `127.0.0.1:${cloudPort}`,
      CC_UPLINK__CA_FILE: caFile,
      CC_UPLINK__PROXY: 'none',
    });
    // An administrator and a provisioned device, made as the CLI does: in the database, first.
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    await store.migrate();
    await store.users.create({
      id: 'u-admin',
      username: 'admin',
      role: 'admin',
      passwordHash: await hashPassword(PASSWORD),
      createdAt: new Date().toISOString(),
      disabledAt: null,
    });
    const deviceToken = await issueDeviceToken(store.deviceCredentials, DEVICE);
    await store.close();
    app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    started = await app.start();
    base = `https://127.0.0.1:${started.ports.https}`;

    // The device announces itself, so the fleet (and so every report) holds its name.
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.ports.mqtt}`, {
      clientId: DEVICE,
      username: DEVICE,
      password: deviceToken,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(device);
    await device.publishAsync(
      `cc/v1/devices/${DEVICE}/state`,
      JSON.stringify({
        ts: new Date().toISOString(),
        kind: 'printer',
        model: 'P-500',
        serial: 'SN-E2E-CLOUD',
        name: DEVICE_NAME,
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
    await s.page.goto(`${base}/login`);
    await s.page.getByLabel('User name').fill('admin');
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${base}/fleet`);
    await until('the device in the fleet', async () => {
      const res = await s.page.request.get(`${base}/api/v1/devices/${DEVICE}`);
      return res.ok() ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('says in words that the site is not enrolled and offers the enrollment form', async () => {
    await s.page.getByRole('link', { name: 'Cloud', exact: true }).click();
    await s.page.waitForURL(`${base}/cloud`);
    await expect.poll(() => health().getAttribute('data-health')).toBe('not-enrolled');
    expect(await health().textContent()).toContain('Not enrolled');
    expect(await status().textContent()).toContain('Nothing leaves this site until it is enrolled');
    expect(await enrollForm().getByLabel('Organization id').count()).toBe(1);
    expect(await enrollForm().getByLabel('Enrollment token').getAttribute('type')).toBe('password');
    expect(await enrollForm().getByRole('button', { name: 'Enroll', exact: true }).count()).toBe(1);
    // Nothing can be sent before enrolling, and the page says why.
    expect(await s.page.getByRole('button', { name: 'Send a report now' }).isDisabled()).toBe(true);
    expect(await s.page.getByText('Sending needs an enrollment.').count()).toBe(1);
    await s.screenshot('cloud-01-not-enrolled');
    expect(s.problems).toEqual([]);
  });

  it('shows the cloud’s refusal of a wrong token next to the form, and empties the token field', async () => {
    await enrollForm().getByLabel('Organization id').fill(ORG);
    await enrollForm().getByLabel('Enrollment token').fill(WRONG_TOKEN);
    await enrollForm().getByRole('button', { name: 'Enroll', exact: true }).click();
    const refusal = enrollForm().getByRole('alert');
    await expect
      .poll(() => refusal.textContent(), { timeout: 10_000 })
      .toContain('the cloud refused the organization id or the enrollment token');
    expect(await refusal.textContent()).toContain('Check the organization id');
    expect(await enrollForm().getByLabel('Enrollment token').inputValue()).toBe('');
    expect(await enrollForm().getByLabel('Organization id').inputValue()).toBe(ORG);
    expect(await health().getAttribute('data-health')).toBe('not-enrolled');
    expect(receiver.sites()).toEqual([]);
    await s.screenshot('cloud-02-refused');
    expect(s.problems).toEqual([]);
  });

  it('enrolls with the keyboard alone and shows the site id the cloud recorded', async () => {
    await s.page.reload();
    await enrollForm().waitFor({ timeout: 10_000 });
    // From the top of the freshly loaded page, Tab reaches the organization field, then the token field.
    let presses = 0;
    while ((await activeId()) !== 'cloud-org') {
      if (presses++ > 60) throw new Error('Tab never reached the organization id field');
      await s.page.keyboard.press('Tab');
    }
    await s.page.keyboard.type(ORG);
    await s.page.keyboard.press('Tab');
    expect(await activeId()).toBe('cloud-token');
    await s.page.keyboard.type(ENROLLMENT_TOKEN);
    await s.page.keyboard.press('Enter');

    await expect.poll(() => health().textContent(), { timeout: 10_000 }).toMatch(/^\s*Enrolled/);
    const sites = await until('the site at the receiver', () => {
      const list = receiver.sites();
      return list.length === 1 ? list : undefined;
    });
    expect(sites[0]).toMatchObject({ organizationId: ORG, status: 'active' });
    siteId = sites[0]!.siteId;
    const text = (await status().textContent()) ?? '';
    expect(text).toContain(siteId);
    expect(text).toContain(ORG);
    expect(await status().locator('dt:text-is("Enrolled") + dd').textContent()).toMatch(
      /by admin$/,
    );
    // The first report goes out at once; the page shows its success on the next status load.
    await expect
      .poll(() => health().getAttribute('data-health'), { timeout: 15_000 })
      .toBe('delivering');
    const lastSuccess = status().locator('dt:text-is("Last success") + dd');
    expect(await lastSuccess.textContent()).not.toContain('never');
    expect(await lastSuccess.locator('time').count()).toBe(1);
    expect(receiver.reports(siteId).length).toBeGreaterThanOrEqual(1);
    // The one-time token is nowhere on the page any more.
    for (const input of await s.page.locator('input').all()) {
      expect(await input.inputValue()).not.toContain(ENROLLMENT_TOKEN);
    }
    expect(await s.page.content()).not.toContain(ENROLLMENT_TOKEN);
    expect(s.problems).toEqual([]);
  });

  it('records a consent decision and sends that category in clear from the next report on', async () => {
    // Without consent, the device's name does not leave the site.
    const before = receiver.reports(siteId);
    expect(before.length).toBeGreaterThan(0);
    for (const r of before) expect(JSON.stringify(r.report)).not.toContain(DEVICE_NAME);
    expect(await consentRow('labels').textContent()).toContain('Not decided yet');

    const share = consentRow('labels').getByRole('switch', { name: 'Share Labels' });
    expect(await share.isChecked()).toBe(false);
    await share.check();
    expect(await s.page.getByText('1 unsaved change.').count()).toBe(1);
    await s.page.getByRole('button', { name: 'Save consent' }).click();
    await expect
      .poll(() => consentRow('labels').locator('td').last().textContent(), { timeout: 10_000 })
      .toMatch(/^Granted by admin, /);
    expect(await share.isChecked()).toBe(true);
    expect(await consentRow('identity').textContent()).toContain('Not decided yet');

    await s.page.getByRole('button', { name: 'Send a report now' }).click();
    const sent = s.page.locator('[data-sent="ok"]');
    await expect.poll(() => sent.count(), { timeout: 10_000 }).toBe(1);
    const seq = Number(/Report #(\d+) queued/.exec((await sent.textContent()) ?? '')?.[1]);
    expect(seq).toBeGreaterThan(0);
    const stored = await receivedReport(seq);
    const json = JSON.stringify(stored.report);
    expect(json).toContain(DEVICE_NAME);
    expect(json).toContain(DEVICE);
    // The page loads the status every 10 s; a reload shows the delivery at once.
    await s.page.reload();
    await expect
      .poll(() => status().locator('dt:text-is("Last success") + dd').textContent(), {
        timeout: 10_000,
      })
      .toContain(`report #${seq}`);
    expect(await consentRow('labels').locator('td').last().textContent()).toMatch(
      /^Granted by admin, /,
    );
    const shot = await s.screenshot('cloud-03-enrolled');
    if (process.env.CC_UPDATE_DOCS_SCREENSHOT === '1') {
      await mkdir('docs/screenshots', { recursive: true });
      await copyFile(shot, 'docs/screenshots/cloud.png');
    }
    expect(s.problems).toEqual([]);
  });

  it('previews the next report as JSON with its size in bytes', async () => {
    await s.page.getByRole('button', { name: 'Preview next report' }).click();
    const pre = s.page.getByLabel('Next report (JSON)');
    await pre.waitFor({ timeout: 10_000 });
    const report = JSON.parse((await pre.textContent()) ?? '') as { v: number; devices: unknown[] };
    expect(report).toMatchObject({ v: 1 });
    expect(JSON.stringify(report)).toContain(DEVICE_NAME);
    const size = (await s.page.locator('[data-preview-size]').textContent()) ?? '';
    const bytes = Number(/Next report: ([\d,]+) bytes/.exec(size)?.[1]?.replace(/,/g, ''));
    // The size is that of the report as sent (compact JSON, before encryption).
    expect(bytes).toBe(Buffer.byteLength(JSON.stringify(report)));
    await pre.scrollIntoViewIfNeeded();
    await s.screenshot('cloud-04-preview');
    expect(s.problems).toEqual([]);
  });

  it('un-enrolls only after confirmation, and the cloud marks the site un-enrolled', async () => {
    await s.page.getByRole('button', { name: 'Un-enroll…' }).click();
    const question = s.page.getByRole('group', { name: /Un-enroll site/ });
    await question.waitFor({ timeout: 5000 });
    expect(await question.textContent()).toContain(siteId);
    // Asking is not doing: the site is still enrolled, here and at the cloud.
    expect(await health().textContent()).toMatch(/^\s*Enrolled/);
    expect(receiver.sites().find((x) => x.siteId === siteId)?.status).toBe('active');
    await s.screenshot('cloud-05-confirm-unenroll');
    await question.getByRole('button', { name: 'Yes, un-enroll' }).click();
    await expect
      .poll(() => health().getAttribute('data-health'), { timeout: 10_000 })
      .toBe('not-enrolled');
    expect(await health().textContent()).toContain('Not enrolled');
    expect(await enrollForm().count()).toBe(1);
    expect(receiver.sites().find((x) => x.siteId === siteId)?.status).toBe('unenrolled');
    expect(await s.page.getByRole('button', { name: 'Send a report now' }).isDisabled()).toBe(true);
    await s.screenshot('cloud-06-unenrolled');
    expect(s.problems).toEqual([]);
  });
});
