// The Firmware page in a real browser (Debian's Chromium through playwright-core) against the whole
// server in-process, its catalog trusting a vendor key made here, and twelve simulated devices
// serving real Web Services over TLS on loopback addresses of this file's own, added with their
// certificates pinned. A package signed with that key is uploaded through the page's file input
// and enters the catalog; forged variants (a changed image, a changed manifest, another vendor's
// signature) are refused with every check listed, ✓ or ✗, and the failed check's detail. A staged
// rollout started from the page is followed live (canary first, at most three at a time, devices
// seen in flight) until every device runs the new version; a second one, whose canary fails to
// install, pauses at the threshold with the reason shown, asks before aborting, and finishes when
// resumed from the page. An operator sees the catalog and the rollouts with no control to change
// them. Screenshots go to test-artifacts/screenshots/firmware-*.png; with
// CC_UPDATE_DOCS_SCREENSHOT=1 the finished rollout also refreshes docs/screenshots/firmware.png.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/index.js';
import { CHECK_NAMES } from '../../src/firmware/index.js';
import { silentLogger } from '../../src/observability/index.js';
import {
  createFirmwareKit,
  flipImageByte,
  rewriteVersion,
  type FirmwareKit,
} from '../../src/simulator/firmware-test-harness.js';
import { createSimulator, FLASH_WRITE_ERROR, type Simulator } from '../../src/simulator/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE_PASSWORD = 'device-secret-123';
/** A loopback block of this file's own, so parallel test files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;
const VERSION = '5.0.0';
/** Updated whole in the first rollout. */
const HALL_A = Array.from({ length: 8 }, (_, i) => `fwp-a-${String(i + 1).padStart(2, '0')}`);
/** The second rollout; its first device (the canary) fails to install. */
const HALL_B = Array.from({ length: 4 }, (_, i) => `fwp-b-${String(i + 1).padStart(2, '0')}`);
const FAILING = 'fwp-b-01';
const IN_FLIGHT = ['transferring', 'verifying', 'installing'];
const ORDER = ['queued', 'transferring', 'verifying', 'installing', 'done', 'failed'];
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

/** What the page showed of a rollout's devices, recorded on every change of the DOM. */
interface Recording {
  /** Each device's statuses in the order shown, repeats folded. */
  seen: Record<string, string[]>;
  /** Most device rows in flight at once. */
  peak: number;
  /** False once a device of the rest was shown started while the canary was unfinished. */
  canaryFirst: boolean;
  /** The follow modes shown (Live, Finished …), repeats folded. */
  modes: string[];
  /** The "n in progress" legend texts shown, repeats folded. */
  active: string[];
}

/**
 * Records, in the page, every state of the rollout detail's device table as it changes: statuses
 * can move faster than a poll from here could see. Installed once; a second call starts afresh.
 */
const RECORD_SCRIPT = `(() => {
  const w = window;
  w.__fw = { seen: {}, peak: 0, canaryFirst: true, modes: [], active: [] };
  const record = () => {
    const fw = w.__fw;
    let inFlight = 0;
    let canaryOpen = false;
    let restStarted = false;
    for (const tr of document.querySelectorAll('[data-rollout-detail] tr[data-device-id]')) {
      const id = tr.getAttribute('data-device-id');
      const status = tr.getAttribute('data-status');
      const list = fw.seen[id] || (fw.seen[id] = []);
      if (list[list.length - 1] !== status) list.push(status);
      if (${JSON.stringify(IN_FLIGHT)}.includes(status)) inFlight += 1;
      const stage = tr.cells[1] ? tr.cells[1].textContent.trim() : '';
      if (stage === 'Canary' && !['done', 'failed', 'skipped'].includes(status)) canaryOpen = true;
      if (stage === 'Rest' && status !== 'queued') restStarted = true;
    }
    if (canaryOpen && restStarted) fw.canaryFirst = false;
    fw.peak = Math.max(fw.peak, inFlight);
    const mode = document.querySelector('[data-rollout-detail] [data-follow-mode]');
    if (mode) {
      const m = mode.getAttribute('data-follow-mode');
      if (fw.modes[fw.modes.length - 1] !== m) fw.modes.push(m);
    }
    const active = document.querySelector('[data-rollout-detail] [data-count="active"]');
    if (active) {
      const t = active.textContent.trim();
      if (fw.active[fw.active.length - 1] !== t) fw.active.push(t);
    }
  };
  if (!w.__fwObserver) {
    w.__fwObserver = new MutationObserver(record);
    w.__fwObserver.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  }
  record();
})()`;

describe.skipIf(browser.skip)('the Firmware page in Chromium', { timeout: 60_000 }, () => {
  let data: TestDataDir;
  let kit: FirmwareKit;
  let simulator: Simulator;
  let app: App;
  let started: StartedApp;
  let base: string;
  let s: BrowserSession;
  let goodFile = '';
  let packageId = '';
  let models: string[] = [];
  const rollouts: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const uploadForm = () => s.page.getByRole('form', { name: 'Upload a firmware package' });
  const uploadResult = () => s.page.locator('[data-upload-result]');
  const catalogRows = () =>
    s.page.getByRole('table', { name: 'Firmware packages' }).locator('tbody tr');
  const rolloutForm = () => s.page.getByRole('form', { name: 'New rollout' });
  const detail = () => s.page.locator('[data-rollout-detail]');
  const detailState = () => detail().locator('.fw-detail-state [data-state]');
  const deviceRow = (id: string) => detail().locator(`tr[data-device-id="${id}"]`);
  const count = (key: string) => detail().locator(`[data-counts] [data-count="${key}"]`);
  const recording = () => s.page.evaluate<Recording>('window.__fw');
  const text = async (locator: ReturnType<typeof detail>) =>
    ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res =
      method === 'GET'
        ? await s.page.request.get(`${base}${path}`)
        : await s.page.request.post(`${base}${path}`, body === undefined ? {} : { data: body });
    if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const fleetVersion = async (id: string) =>
    (await api<{ firmwareVersion: string }>('GET', `/api/v1/devices/${id}`)).firmwareVersion;
  const simulated = (id: string) => simulator.devices().find((d) => d.id === id)!;

  const logIn = async (username: string) => {
    await s.page.goto(`${base}/login`);
    await s.page.getByLabel('User name').fill(username);
    await s.page.getByLabel('Password').fill(PASSWORD);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${base}/fleet`);
  };

  /** Fills the rollout form for one site's devices and starts it; returns the rollout's id. */
  const startRollout = async (site: string, other: string, threshold: number) => {
    if ((await detail().count()) > 0) {
      await detail().getByRole('button', { name: 'Close details' }).click();
      expect(await detail().count()).toBe(0);
    }
    const form = rolloutForm();
    await form.getByLabel('Package', { exact: true }).selectOption({ value: packageId });
    await form.getByRole('checkbox', { name: other, exact: true }).uncheck();
    await form.getByRole('checkbox', { name: site, exact: true }).check();
    await form.getByLabel('Canary size').fill('1');
    await form.getByLabel('Concurrency').fill('3');
    await form.getByLabel('Failure threshold').fill(String(threshold));
    const size = site === 'hall-a' ? HALL_A.length : HALL_B.length;
    expect(await text(form.locator('[data-fit-counts]'))).toBe(
      `${size} selected: ${size} the package fits.`,
    );
    await s.page.evaluate(RECORD_SCRIPT);
    await form.getByRole('button', { name: 'Start rollout' }).click();
    // The server's answer shows below the form: the rollout started, or why not.
    const result = s.page.locator('[data-rollout-result]');
    await expect.poll(() => text(result), { timeout: 10_000 }).not.toBe('');
    expect(await text(result)).toBe(`Rollout of fusion-fw ${VERSION} started on ${size} devices.`);
    const created = result.locator('[data-created]');
    const id = (await created.getAttribute('data-created')) ?? '';
    expect(id).not.toBe('');
    // The new rollout opens in detail at once.
    await expect.poll(() => detail().getAttribute('data-rollout-detail')).toBe(id);
    rollouts.push(id);
    return id;
  };

  beforeAll(async () => {
    if (!browser.available) throw new Error(browser.message);
    kit = await createFirmwareKit();
    cleanups.push(() => kit.cleanup());
    data = await makeTempDir('cc-e2e-firmware-');
    cleanups.push(() => data.cleanup());
    const keyFile = join(data.dir, 'vendor.pem');
    await writeFile(keyFile, kit.vendor.publicKeyPem);
    const config = testConfig(data.dir, {
      CC_FIRMWARE__TRUSTED_KEYS: keyFile,
      CC_FIRMWARE__ROLLOUT_PUSH_TIMEOUT_SECONDS: '60',
      CC_DEVICES__POLL_ACTIVE_MS: '500',
      CC_DEVICES__POLL_IDLE_MS: '1000',
      CC_DEVICES__REQUEST_TIMEOUT_MS: '3000',
    });
    // An administrator and an operator, made as the CLI does: in the database, first.
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    await store.migrate();
    for (const [id, username, role] of [
      ['u-admin', 'admin', 'admin'],
      ['u-olga', 'olga', 'operator'],
    ] as const) {
      await store.users.create({
        id,
        username,
        role,
        passwordHash: await hashPassword(PASSWORD),
        createdAt: new Date().toISOString(),
        disabledAt: null,
      });
    }
    await store.close();
    app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    started = await app.start();
    base = `https://127.0.0.1:${started.ports.https}`;

    simulator = createSimulator({
      devices: [...HALL_A, ...HALL_B].map((id) => ({ id, token: '', kind: 'printer' as const })),
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: DEVICE_PASSWORD },
      // Long enough for the page to show a device installing; a second and a half each.
      firmware: { vendorKeys: [kit.vendor.key], installMs: 1500, failInstall: [FAILING] },
      logger: silentLogger(),
      seed: 23,
    });
    await simulator.start();
    cleanups.push(() => simulator.stop());
    models = [...new Set(simulator.devices().map((d) => d.model.identity.model))].sort();
    goodFile = await kit.pack({ version: VERSION, models });
    packageId = createHash('sha256')
      .update(await readFile(goodFile))
      .digest('hex');

    s = await openBrowser({ width: 1280, height: 900 });
    cleanups.push(() => s.close());
    await logIn('admin');
    // Two sites, and each device added by its address with its certificate pinned.
    for (const id of ['hall-a', 'hall-b']) {
      await api('POST', '/api/v1/sites', { id, name: id === 'hall-a' ? 'Hall A' : 'Hall B' });
    }
    for (const d of simulator.devices()) {
      await api('POST', '/api/v1/devices', {
        url: d.webServicesUrl!,
        username: 'admin',
        password: DEVICE_PASSWORD,
        fingerprint: d.certificateFingerprint!,
        siteId: HALL_A.includes(d.id) ? 'hall-a' : 'hall-b',
      });
    }
    await until(
      'the whole fleet polled',
      async () => {
        const page = await api<{
          items: { id: string; state: string; lastSeenAt: string | null }[];
        }>('GET', '/api/v1/devices?limit=100');
        const ready = page.items.filter((d) => d.state !== 'offline' && d.lastSeenAt !== null);
        return ready.length === HALL_A.length + HALL_B.length ? true : undefined;
      },
      30_000,
    );
    for (const d of simulator.devices()) expect(d.model.identity.firmwareVersion).toMatch(/^4\./);
  }, 90_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('uploads a signed package through the file input; it enters the catalog, every check passed', async () => {
    await s.page.reload();
    await s.page.getByRole('link', { name: 'Firmware', exact: true }).click();
    await s.page.waitForURL(`${base}/firmware`);
    await expect
      .poll(() => s.page.locator('[data-catalog-empty]').count(), { timeout: 10_000 })
      .toBe(1);
    await uploadForm().getByLabel('Package file (.tar)').setInputFiles(goodFile);
    await uploadForm().getByRole('button', { name: 'Upload', exact: true }).click();
    const admitted = uploadResult().locator('[data-outcome="admitted"]');
    await expect
      .poll(() => admitted.textContent(), { timeout: 15_000 })
      .toContain(`fusion-fw ${VERSION} verified: it is in the catalog`);
    expect(await text(admitted.locator('p').first())).toMatch(
      new RegExp(
        `^fusion-fw ${VERSION} verified: it is in the catalog \\(added .+ by admin\\)\\.$`,
      ),
    );

    // The catalog shows it, as the server stored it: its id is the file's SHA-256.
    await expect.poll(() => catalogRows().count(), { timeout: 10_000 }).toBe(1);
    const row = catalogRows().first();
    expect(await row.getAttribute('data-package-id')).toBe(packageId);
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe(VERSION);
    expect(cells[2]).toBe(models.join(', '));
    expect(cells[4]).toBe(kit.vendor.key.id);
    expect(cells[7]).toBe('Uploaded');
    await row.getByText('Checks at admission').click();
    const checks = row.getByRole('list', { name: `Checks of fusion-fw ${VERSION}` });
    expect(await checks.locator('li[data-check]').count()).toBe(CHECK_NAMES.length);
    expect(await checks.locator('li.fw-check-ok .fw-check-mark').allTextContents()).toEqual(
      CHECK_NAMES.map(() => '✓'),
    );
    expect(await checks.locator('li[data-check="known-key"]').textContent()).toContain(
      kit.vendor.key.id,
    );
    const listed = await api<{ total: number; items: { id: string }[] }>(
      'GET',
      '/api/v1/firmware/packages',
    );
    expect(listed).toMatchObject({ total: 1, items: [{ id: packageId }] });
    await s.screenshot('firmware-01-uploaded');
    expect(s.problems).toEqual([]);
  });

  it('refuses every forged variant, listing every check ✓/✗ with the failed checks’ details', async () => {
    const forgeries: { file: string; code: string; failed: string[]; detail: RegExp }[] = [
      {
        file: await kit.forge(goodFile, flipImageByte),
        code: 'FIRMWARE_IMAGE_MISMATCH',
        failed: ['image-hash'],
        detail: /^: the image's sha256 is [0-9a-f]{64}; the manifest says [0-9a-f]{64}$/,
      },
      {
        file: await kit.forge(goodFile, rewriteVersion(VERSION, '5.9.9')),
        code: 'FIRMWARE_SIGNATURE_INVALID',
        failed: ['signature', 'known-key', 'threshold'],
        detail:
          /^: none of 1 signature verifies with the 1 known key \(.+\): the manifest was changed after signing/,
      },
      {
        file: await kit.pack({ version: '5.0.1', models, signer: 'stranger' }),
        code: 'FIRMWARE_SIGNATURE_INVALID',
        failed: ['signature', 'known-key', 'threshold'],
        detail: /^: none of 1 signature verifies with the 1 known key/,
      },
    ];
    for (const [n, forged] of forgeries.entries()) {
      await uploadForm().getByLabel('Package file (.tar)').setInputFiles(forged.file);
      // Choosing another file clears the previous outcome.
      expect(await uploadResult().textContent()).toBe('');
      await uploadForm().getByRole('button', { name: 'Upload', exact: true }).click();
      const refusal = uploadResult().getByRole('alert');
      await expect
        .poll(() => refusal.textContent(), { timeout: 15_000 })
        .toContain(`Refused (${forged.code})`);
      const list = refusal.getByRole('list', { name: 'Checks of the refused package' });
      const items = await list.locator('li[data-check]').all();
      // Every check the server ran is listed, passed or failed, in its order.
      expect(await Promise.all(items.map((li) => li.getAttribute('data-check')))).toEqual([
        ...CHECK_NAMES,
      ]);
      for (const li of items) {
        const name = (await li.getAttribute('data-check')) ?? '';
        const bad = forged.failed.includes(name);
        expect(await li.locator('.fw-check-mark').textContent(), name).toBe(bad ? '✗' : '✓');
        expect(await li.locator('.fw-check-word').textContent(), name).toBe(
          bad ? 'failed' : 'passed',
        );
      }
      const first = list.locator(`li[data-check="${forged.failed[0]}"] .fw-check-detail`);
      expect(await first.textContent()).toMatch(forged.detail);
      if (n === 0) {
        // The changed image's hash is not the signed one, which is the package the catalog holds.
        const held = await api<{ imageSha256: string }>(
          'GET',
          `/api/v1/firmware/packages/${packageId}`,
        );
        expect(await first.textContent()).toContain(`the manifest says ${held.imageSha256}`);
        await refusal.scrollIntoViewIfNeeded();
        await s.screenshot('firmware-02-refused');
      }
    }
    // Nothing forged entered the catalog, here or on the page.
    expect(await catalogRows().count()).toBe(1);
    expect(
      await api<{ total: number }>('GET', '/api/v1/firmware/packages?limit=100'),
    ).toMatchObject({ total: 1 });
    expect(s.problems).toEqual([]);
  });

  it('starts a staged rollout from the page and follows it live until every device runs the new version', async () => {
    const id = await startRollout('hall-a', 'hall-b', 1);
    // Live while it runs: devices in flight show up on the page, and so does the counts bar.
    await expect
      .poll(() => detail().locator('tr[data-device-id]').count(), { timeout: 10_000 })
      .toBe(HALL_A.length);
    await until(
      'a device in flight on the page',
      async () => {
        const r = await recording();
        return Object.values(r.seen).some((l) => l.some((st) => IN_FLIGHT.includes(st)))
          ? true
          : undefined;
      },
      20_000,
    );
    await detail().scrollIntoViewIfNeeded();
    await s.screenshot('firmware-03-rollout-live');

    await expect
      .poll(() => detailState().getAttribute('data-state'), { timeout: 60_000 })
      .toBe('completed');
    await expect.poll(() => text(count('done')), { timeout: 5000 }).toBe(`${HALL_A.length} done`);
    expect(await text(detailState())).toBe('Completed');
    expect(
      await detail()
        .getByRole('img', { name: /^Devices: / })
        .getAttribute('aria-label'),
    ).toBe(
      `Devices: ${HALL_A.length} done, 0 failed, 0 in progress, 0 queued, 0 skipped, of ${HALL_A.length}`,
    );
    await expect
      .poll(() => detail().locator('[data-follow-mode]').getAttribute('data-follow-mode'))
      .toBe('finished');

    const r = await recording();
    // Every device went through its phases in order on the page and ended done; one at least was
    // seen in flight, never more than the concurrency at once, and the canary went first.
    expect(Object.keys(r.seen).sort()).toEqual(HALL_A);
    for (const [device, statuses] of Object.entries(r.seen)) {
      const ranks = statuses.map((st) => ORDER.indexOf(st));
      expect(ranks, device).toEqual([...ranks].sort((a, b) => a - b));
      expect(statuses.at(-1), device).toBe('done');
    }
    expect(Object.values(r.seen).some((l) => l.includes('installing'))).toBe(true);
    expect(r.peak).toBeGreaterThanOrEqual(1);
    expect(r.peak).toBeLessThanOrEqual(3);
    expect(r.canaryFirst).toBe(true);
    expect(r.modes).toContain('stream');
    expect(r.active.some((t) => !t.startsWith('0 '))).toBe(true);
    expect(await deviceRow(HALL_A[0]!).locator('td').nth(1).textContent()).toBe('Canary');
    for (const device of HALL_A) {
      expect(await deviceRow(device).locator('td').nth(4).textContent()).toMatch(
        new RegExp(`^4\\.\\d+\\.\\d+ → ${VERSION.replace(/\./g, '\\.')}$`),
      );
    }

    // The devices run the new version, and the server's fleet (and the page's) says so.
    for (const device of HALL_A)
      expect(simulated(device).model.identity.firmwareVersion).toBe(VERSION);
    await until('the fleet showing the new version', async () => {
      const versions = await Promise.all(HALL_A.map(fleetVersion));
      return versions.every((v) => v === VERSION) ? true : undefined;
    });
    for (const device of HALL_B) expect(await fleetVersion(device)).not.toBe(VERSION);
    const installed = s.page.getByRole('table', { name: 'Installed firmware per model' });
    await expect
      .poll(
        async () => {
          let n = 0;
          for (const tr of await installed.locator('tbody tr').all()) {
            const cells = await tr.locator('td').allTextContents();
            if (cells[1] === VERSION) n += Number(cells[2]);
          }
          return n;
        },
        { timeout: 10_000 },
      )
      .toBe(HALL_A.length);
    const body = await api<{ state: string; counts: Record<string, number> }>(
      'GET',
      `/api/v1/firmware/rollouts/${id}`,
    );
    expect(body).toMatchObject({ state: 'completed', counts: { done: HALL_A.length, failed: 0 } });
    // The list shows it finished too.
    const listed = s.page
      .getByRole('table', { name: 'Rollouts' })
      .locator(`tr[data-rollout-id="${id}"]`);
    await expect
      .poll(() => listed.locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('completed');

    // The rollouts list and the finished rollout's details, from the list's heading down.
    await s.page.evaluate(
      `window.scrollTo(0, document.getElementById('fw-rollouts').getBoundingClientRect().top + window.scrollY - 72)`,
    );
    const shot = await s.screenshot('firmware-04-rollout-done');
    if (process.env.CC_UPDATE_DOCS_SCREENSHOT === '1') {
      await mkdir('docs/screenshots', { recursive: true });
      await copyFile(shot, 'docs/screenshots/firmware.png');
    }
    expect(s.problems).toEqual([]);
  }, 90_000);

  it('pauses at the failure threshold with the reason, asks before aborting, and resumes from the page', async () => {
    const id = await startRollout('hall-b', 'hall-a', 1);
    const banner = detail().locator('[data-paused-reason]');
    await expect
      .poll(() => text(banner), { timeout: 30_000 })
      .toBe(
        `Paused: failure threshold reached: 1 of ${HALL_B.length} devices failed (threshold 1)`,
      );
    expect(await detailState().getAttribute('data-state')).toBe('paused');
    expect(await deviceRow(FAILING).getAttribute('data-status')).toBe('failed');
    expect(await deviceRow(FAILING).locator('.fw-reason').textContent()).toContain(
      FLASH_WRITE_ERROR,
    );
    for (const device of HALL_B.slice(1)) {
      expect(await deviceRow(device).getAttribute('data-status'), device).toBe('queued');
    }
    expect(await text(count('failed'))).toBe('1 failed');
    expect(await text(count('queued'))).toBe(`${HALL_B.length - 1} queued`);
    const actions = detail().getByRole('group', { name: 'Rollout actions' });
    expect(await actions.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await banner.scrollIntoViewIfNeeded();
    await s.screenshot('firmware-05-paused');

    // Asking is not doing: the confirmation names what an abort would skip, and Cancel keeps it.
    await actions.getByRole('button', { name: 'Abort…' }).click();
    const question = detail().getByRole('group', { name: 'Abort this rollout?' });
    await question.waitFor({ timeout: 5000 });
    expect(await question.textContent()).toContain(
      `the ${HALL_B.length - 1} queued devices are skipped`,
    );
    await s.screenshot('firmware-06-confirm-abort');
    await question.getByRole('button', { name: 'Cancel' }).click();
    expect(await question.count()).toBe(0);
    const paused = await api<{ state: string; devices: { deviceId: string; status: string }[] }>(
      'GET',
      `/api/v1/firmware/rollouts/${id}`,
    );
    expect(paused.state).toBe('paused');
    // No queued device started while paused.
    expect(paused.devices.filter((d) => d.status === 'queued')).toHaveLength(HALL_B.length - 1);

    await actions.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => detail().locator('[data-action-result]').textContent(), { timeout: 10_000 })
      .toContain('Resumed: queued devices go on.');
    expect(await banner.count()).toBe(0);
    await expect
      .poll(() => detailState().getAttribute('data-state'), { timeout: 60_000 })
      .toBe('completed');
    expect(await text(detailState())).toBe('Completed with failures');
    await expect
      .poll(() => text(count('done')), { timeout: 5000 })
      .toBe(`${HALL_B.length - 1} done`);
    expect(await text(count('failed'))).toBe('1 failed');
    const r = await recording();
    for (const device of HALL_B.slice(1)) {
      expect(r.seen[device]?.at(-1), device).toBe('done');
    }
    expect(r.seen[FAILING]?.at(-1)).toBe('failed');
    expect(r.peak).toBeLessThanOrEqual(3);
    for (const device of HALL_B) {
      expect(simulated(device).model.identity.firmwareVersion === VERSION, device).toBe(
        device !== FAILING,
      );
    }
    await until('the fleet showing the new version', async () => {
      const versions = await Promise.all(HALL_B.slice(1).map(fleetVersion));
      return versions.every((v) => v === VERSION) ? true : undefined;
    });
    expect(await fleetVersion(FAILING)).not.toBe(VERSION);
    expect(s.problems).toEqual([]);
  }, 90_000);

  it('shows an operator the catalog and the rollouts, with no control to change them', async () => {
    await s.context.clearCookies();
    await logIn('olga');
    await s.page.getByRole('link', { name: 'Firmware', exact: true }).click();
    await s.page.waitForURL(`${base}/firmware`);
    await expect.poll(() => catalogRows().count(), { timeout: 10_000 }).toBe(1);
    expect(await catalogRows().first().getAttribute('data-package-id')).toBe(packageId);
    const rows = s.page.getByRole('table', { name: 'Rollouts' }).locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    expect(await s.page.locator('[data-permission-needed]').count()).toBe(3);
    expect(await s.page.locator('input[type="file"]').count()).toBe(0);
    expect(await rolloutForm().count()).toBe(0);
    expect(await s.page.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    expect(await s.page.getByRole('button', { name: 'Start rollout' }).count()).toBe(0);
    await rows
      .first()
      .getByRole('button', { name: /^Show rollout / })
      .click();
    await expect
      .poll(() => detail().locator('tr[data-device-id]').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(
      await detail()
        .getByRole('button', { name: /Pause|Resume|Abort/ })
        .count(),
    ).toBe(0);
    // The server refuses what the page does not offer.
    const refused = await s.page.request.post(
      `${base}/api/v1/firmware/rollouts/${rollouts[1]}/abort`,
    );
    expect(refused.status()).toBe(403);
    await s.screenshot('firmware-07-operator');
    expect(s.problems).toEqual([]);
  });
});
