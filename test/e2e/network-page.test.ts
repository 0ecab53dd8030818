// The Network diagnostics page in a real browser (Debian's Chromium through playwright-core) against
// the whole server in-process, its network doctor pointed only at stand-ins on loopback — never at
// the default public endpoints: an HTTPS server with a self-signed certificate (untrusted chain), a
// port that was free a moment ago (connection refused) and one that accepts but never answers TLS
// (handshake timeout, which keeps the run going long enough to watch), each also through a local
// tinyproxy. The page runs a check, shows its progress, then the matrix, this server's checks and
// the problems with their causes and fixes as the API reported them; a second run started
// elsewhere is refused next to the button and then followed. Screenshots go to
// test-artifacts/screenshots/network-*.png; with CC_UPDATE_DOCS_SCREENSHOT=1 the finished run also
// refreshes docs/screenshots/network.png.

import { once } from 'node:events';
import { copyFile, mkdir } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/index.js';
import { ensureTlsCertificate } from '../../src/net/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import { browserAvailability, openBrowser, type BrowserSession } from '../fixtures/browser.js';
import {
  forwardProxySkipReason,
  freePort,
  startForwardProxy,
  type ForwardProxy,
} from '../fixtures/forward-proxy.js';
import { makeTempDir, testConfig, type TestDataDir } from '../fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const TIMEOUT_MS = 1500;
const browser = browserAvailability();
const proxySkip = forwardProxySkipReason();

interface ApiCheck {
  subject: string;
  name: string;
  path: string;
  status: string;
  detail: string;
  cause?: string;
  fix?: string;
}

interface ApiRun {
  id: string;
  state: 'running' | 'done';
  startedBy: string;
  proxy: string | null;
  total: number;
  checks: ApiCheck[];
  summary: { workingPaths: Record<string, string[]> } | null;
  exitCode: number | null;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe.skipIf(browser.skip || proxySkip !== null)(
  'the Network diagnostics page in Chromium',
  { timeout: 60_000 },
  () => {
    let data: TestDataDir;
    let standInData: TestDataDir;
    let proxy: ForwardProxy;
    let app: App;
    let started: StartedApp;
    let base: string;
    let s: BrowserSession;
    let selfSigned = '';
    let closed = '';
    let silent = '';
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    const cleanups: (() => Promise<unknown>)[] = [];

    const runButton = () => s.page.getByRole('button', { name: /Run network check|Running…/ });
    const overall = () => s.page.locator('[data-overall]');
    const endpoint = (subject: string) => s.page.locator(`tbody[data-endpoint="${subject}"]`);
    const cell = (subject: string, path: string, column: string) =>
      endpoint(subject).locator(`tr[data-path="${path}"] td[data-check="${column}"] [data-status]`);

    async function latestRun(): Promise<ApiRun> {
      const res = await s.page.request.get(`${base}/api/v1/diagnostics`);
      expect(res.status()).toBe(200);
      const body = (await res.json()) as { run: ApiRun | null };
      if (body.run === null) throw new Error('no run');
      return body.run;
    }

    beforeAll(async () => {
      if (!browser.available) throw new Error(browser.message);
      standInData = await makeTempDir('cc-e2e-network-standins-');
      cleanups.push(() => standInData.cleanup());
      // A certificate made as the server makes its own: self-signed, so nothing trusts it.
      const tls = await ensureTlsCertificate({
        dataDir: standInData.dir,
        hostNames: ['localhost'],
      });
      const https = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
        res.writeHead(204).end();
      });
      servers.push(https);
      const silentServer = createServer(() => undefined);
      servers.push(silentServer);
      const selfSignedPort = await listen(https, sockets);
      const silentPort = await listen(silentServer, sockets);
      const closedPort = await freePort();
      selfSigned = `127.0.0.1:${String(selfSignedPort)}`;
      closed = `127.0.0.1:${String(closedPort)}`;
      silent = `127.0.0.1:${String(silentPort)}`;
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await Promise.all(
          servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
        );
      });
      proxy = await startForwardProxy({ connectPorts: [selfSignedPort, silentPort] });
      cleanups.push(() => proxy.stop());

      data = await makeTempDir('cc-e2e-network-');
      cleanups.push(() => data.cleanup());
      const config = testConfig(data.dir, {
        CC_DOCTOR__ENDPOINTS: [selfSigned, closed, silent].join(','),
        CC_DOCTOR__TIMEOUT_MS: String(TIMEOUT_MS),
        // Nothing leaves loopback: the uplink (the doctor's proxy setting and clock reference)
        // points at the stand-ins too, and no bandwidth download is configured.
        CC_UPLINK__ENDPOINT: `https://${selfSigned}/v1`,
        CC_UPLINK__ALLOWED_HOSTS: selfSigned,
        CC_UPLINK__PROXY: proxy.url,
      });
      expect(config.doctor.endpoints).toEqual([selfSigned, closed, silent]);
      expect(config.doctor.bandwidthUrl).toBeNull();
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
      await store.close();
      app = createApp(config, silentLogger());
      cleanups.push(() => app.stop());
      started = await app.start();
      base = `https://127.0.0.1:${String(started.ports.https)}`;

      s = await openBrowser({ width: 1280, height: 1000 });
      cleanups.push(() => s.close());
      await s.page.goto(`${base}/login`);
      await s.page.getByLabel('User name').fill('admin');
      await s.page.getByLabel('Password').fill(PASSWORD);
      await s.page.getByRole('button', { name: 'Log in' }).click();
      await s.page.waitForURL(`${base}/fleet`);
    }, 60_000);

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }, 60_000);

    it('says that no check has run yet, and lists the ports in use', async () => {
      await s.page.getByRole('link', { name: 'Network diagnostics', exact: true }).click();
      await s.page.waitForURL(`${base}/network`);
      await s.page.locator('[data-no-run]').waitFor({ timeout: 10_000 });
      expect(await runButton().getAttribute('aria-disabled')).toBe('false');
      const ports = s.page.getByRole('region', { name: 'Ports in use' });
      await expect
        .poll(() => ports.textContent())
        .toContain(`https://127.0.0.1:${String(started.ports.https)}`);
      expect(await s.page.getByRole('heading', { name: 'Endpoints' }).count()).toBe(0);
      expect(s.problems).toEqual([]);
    });

    it('runs a check from the keyboard, shows its progress, then the verdict', async () => {
      await runButton().focus();
      await s.page.keyboard.press('Enter');
      // The silent stand-in holds the run for the TLS timeout: long enough to watch it.
      const progress = s.page.locator('[data-progress]');
      await progress.waitFor({ timeout: 5000 });
      expect(await progress.textContent()).toMatch(/^\d+ of \d+ checks done$/);
      expect(await runButton().getAttribute('aria-disabled')).toBe('true');
      expect(await runButton().textContent()).toContain('Running…');
      // The button keeps the focus while it cannot be used.
      expect(await s.page.evaluate('document.activeElement?.textContent ?? ""')).toContain(
        'Running…',
      );
      expect(
        await s.page
          .getByRole('progressbar', { name: 'Checks done' })
          .getAttribute('aria-valuemax'),
      ).toBe('100');
      expect(await s.page.locator('[role="status"][data-overall="running"]').count()).toBe(1);
      await s.screenshot('network-01-running');

      await expect
        .poll(() => overall().getAttribute('data-overall'), { timeout: 30_000 })
        .toBe('failures');
      expect(await progress.count()).toBe(0);
      expect(await runButton().getAttribute('aria-disabled')).toBe('false');
      expect(await overall().textContent()).toMatch(/Failures\s*\d+ ok, \d+ warnings, \d+ failed/);
      expect(await s.page.locator('[data-started]').textContent()).toMatch(/ by admin$/);
      expect(await s.page.locator('[data-proxy]').textContent()).toContain(proxy.url);
      expect(s.problems).toEqual([]);
    });

    it('shows the matrix: the refused port, the untrusted certificate, the silent port', async () => {
      const run = await latestRun();
      expect(run.state).toBe('done');
      const find = (subject: string, name: string, path: string): ApiCheck => {
        const found = run.checks.find(
          (c) => c.subject === subject && c.name === name && c.path === path,
        );
        if (!found) throw new Error(`no ${name} check of ${subject} (${path})`);
        return found;
      };
      // Every failure the server reports is on the page, with its word and its detail.
      for (const c of run.checks) {
        if (c.path === 'local') continue;
        const badge = cell(c.subject, c.path, c.name);
        expect(await badge.getAttribute('data-status')).toBe(c.status);
        expect(await badge.getAttribute('title')).toContain(c.detail);
      }

      const refused = find(closed, 'tcp', 'direct');
      expect(refused.status).toBe('fail');
      expect(refused.detail).toContain('ECONNREFUSED');
      expect(await cell(closed, 'direct', 'tcp').textContent()).toContain('Failed');
      expect(await cell(closed, 'direct', 'tls').textContent()).toContain('Skipped');

      const untrusted = find(selfSigned, 'tls', 'direct');
      expect(untrusted.status).toBe('fail');
      expect(untrusted.detail).toMatch(/not trusted|SELF_SIGNED/);
      expect(await cell(selfSigned, 'direct', 'tls').textContent()).toContain('Failed');
      expect(await cell(selfSigned, 'direct', 'tcp').textContent()).toContain('OK');
      // Through the proxy the tunnel opens, and the certificate is just as untrusted.
      expect(await cell(selfSigned, 'proxy', 'tcp').getAttribute('data-status')).toBe('ok');
      expect(await cell(selfSigned, 'proxy', 'tls').getAttribute('data-status')).toBe('fail');

      expect(find(silent, 'tls', 'direct').status).toBe('fail');
      for (const subject of [selfSigned, closed, silent]) {
        expect(run.summary?.workingPaths[subject]).toEqual([]);
        expect(await endpoint(subject).locator('[data-verdict]').textContent()).toBe(
          'NOT reachable',
        );
        expect(await endpoint(subject).locator('tr').count()).toBe(2);
      }

      // Problems: failures first, each with the cause and fix the server gave.
      const problems = s.page.locator('[data-problem]');
      const failures = run.checks.filter((c) => c.status === 'fail');
      const warnings = run.checks.filter((c) => c.status === 'warn');
      expect(await problems.count()).toBe(failures.length + warnings.length);
      const statuses: (string | null)[] = [];
      for (let i = 0; i < (await problems.count()); i += 1)
        statuses.push(await problems.nth(i).getAttribute('data-problem'));
      expect(statuses).toEqual([...failures.map(() => 'fail'), ...warnings.map(() => 'warn')]);
      for (const c of [refused, untrusted]) {
        expect(c.cause).toBeTruthy();
        expect(c.fix).toBeTruthy();
        const item = problems.filter({ hasText: c.detail });
        expect(await item.locator('[data-cause]').first().textContent()).toBe(c.cause);
        expect(await item.locator('[data-fix]').first().textContent()).toBe(c.fix);
      }
      expect(refused.cause).toMatch(/nothing listens|firewall/);
      expect(untrusted.cause).toMatch(/untrusted|inspect/);

      // This server: its own checks, each with a status.
      const local = s.page.getByRole('table', { name: 'This server' });
      const localChecks = run.checks.filter((c) => c.path === 'local');
      expect(localChecks.length).toBeGreaterThan(0);
      expect(await local.locator('tbody tr').count()).toBe(localChecks.length);
      for (const name of new Set(localChecks.map((c) => c.name))) {
        expect(await local.locator(`tr[data-local="${name}"]`).count()).toBeGreaterThan(0);
      }
      expect(localChecks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['ports', 'disk', 'broker', 'database']),
      );

      await s.page.getByRole('heading', { name: 'Network check' }).scrollIntoViewIfNeeded();
      const shot = await s.screenshot('network');
      if (process.env.CC_UPDATE_DOCS_SCREENSHOT === '1') {
        await mkdir('docs/screenshots', { recursive: true });
        await copyFile(shot, 'docs/screenshots/network.png');
      }
      await s.page.getByRole('heading', { name: 'Problems' }).scrollIntoViewIfNeeded();
      await s.screenshot('network-02-problems');
      expect(s.problems).toEqual([]);
    });

    it('refuses a second run next to the button, then follows the one already going', async () => {
      const res = await s.page.request.post(`${base}/api/v1/diagnostics`, { data: {} });
      expect(res.status()).toBe(202);
      const { run } = (await res.json()) as { run: ApiRun };
      expect(run.state).toBe('running');
      // The page still shows the finished run, so its button is offered.
      await runButton().click();
      const refusal = s.page.locator('[data-start-error]');
      await refusal.waitFor({ timeout: 5000 });
      expect(await refusal.getAttribute('role')).toBe('alert');
      expect(await refusal.textContent()).toMatch(/^Not started: .+/);
      await expect
        .poll(() => overall().getAttribute('data-overall'), { timeout: 5000 })
        .toBe('running');
      expect(await runButton().getAttribute('aria-disabled')).toBe('true');
      await expect
        .poll(() => overall().getAttribute('data-overall'), { timeout: 30_000 })
        .toBe('failures');
      expect((await latestRun()).id).toBe(run.id);
      expect(s.problems).toEqual([]);
    });
  },
);
