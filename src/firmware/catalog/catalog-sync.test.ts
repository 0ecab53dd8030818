// Catalog sync against real local repositories: an HTTPS server with its own CA (index.json) and an
// FTP server (directory listing), each with a good and a bad package; the allow-list, credentials
// that never show, downloads that are cut or too large, and a repository that never answers.

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFtpServer, type TestFtpServer } from '../../../test/fixtures/ftp-server.js';
import {
  createTestPki,
  startSilentServer,
  startTestServer,
  type TestPki,
  type TestServer,
} from '../../uplink/sender/sender-test-harness.js';
import {
  makeVendor,
  signedPackage,
  startCatalog,
  trustOf,
  type CatalogFixture,
} from './catalog-test-harness.js';
import type { SyncSettings } from './catalog-types.js';
import { maskUrl, parseSyncUrl } from './sync-url.js';
import { parseRepositoryIndex } from './repository-index.js';

const vendor = makeVendor();
const stranger = makeVendor();
const ADMIN = { name: 'admin', source: '127.0.0.1' };
const FTP_USER = 'fwsync';
const FTP_PASSWORD = 'ftp test password';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const good = signedPackage([vendor], { image: randomBytes(30_000) });
const unknownKey = signedPackage([stranger]);

let pki: TestPki;
let fixture: CatalogFixture | undefined;
const servers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  pki = await createTestPki();
});

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  for (const server of servers.splice(0)) await server.close();
});

afterAll(() => undefined);

async function catalogWith(
  sync: Partial<SyncSettings>,
  maxPackageBytes?: number,
): Promise<CatalogFixture> {
  fixture = await startCatalog({
    trust: trustOf([vendor]),
    ...(maxPackageBytes !== undefined ? { maxPackageBytes } : {}),
    sync,
  });
  return fixture;
}

async function httpsRepository(files: Record<string, Buffer>, index: unknown): Promise<TestServer> {
  const server = await startTestServer(pki.localhost, (req, res) => {
    const name = req.url.replace(/^\/fw\//, '');
    if (req.url === '/fw/index.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(index));
      return;
    }
    const bytes = files[name];
    if (bytes === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': bytes.length });
    res.end(bytes);
  });
  servers.push(server);
  return server;
}

async function ftpRepository(
  files: Record<string, Buffer>,
  cut?: Map<string, number>,
): Promise<TestFtpServer> {
  const server = await startFtpServer({
    dir: '/pub/firmware/',
    files: new Map(Object.entries(files)),
    user: FTP_USER,
    password: FTP_PASSWORD,
    ...(cut ? { cut } : {}),
  });
  servers.push(server);
  return server;
}

function ftpUrl(port: number): string {
  return `ftp://${FTP_USER}:${encodeURIComponent(FTP_PASSWORD)}@127.0.0.1:${port}/pub/firmware/`;
}

describe('catalog sync over HTTPS', () => {
  it('admits the good package, reports the bad one, and fetches only what is new next time', async () => {
    const repo = await httpsRepository(
      { 'fusion-fw-4.3.0.tar': good, 'fusion-fw-4.4.0.tar': unknownKey },
      {
        packages: [
          { file: 'fusion-fw-4.3.0.tar', sha256: sha256(good), size: good.length },
          { file: 'fusion-fw-4.4.0.tar', vendorNote: 'ignored' },
        ],
      },
    );
    const { catalog, audit } = await catalogWith({
      url: `https://localhost:${repo.port}/fw`,
      allowedHosts: [`localhost:${repo.port}`],
      ca: pki.ca.cert,
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary).toMatchObject({
      ok: true,
      error: null,
      url: `https://localhost:${repo.port}/fw/`,
      trigger: 'manual',
      listed: 2,
      new: 2,
      admitted: [{ file: 'fusion-fw-4.3.0.tar', id: sha256(good), version: '4.3.0' }],
      postponed: [],
    });
    expect(summary.refused).toHaveLength(1);
    expect(summary.refused[0]).toMatchObject({
      file: 'fusion-fw-4.4.0.tar',
      code: 'FIRMWARE_SIGNATURE_INVALID',
    });
    expect(summary.refused[0]?.checks.map((c) => c.name)).toContain('signature');
    const pkg = await catalog.get(sha256(good));
    expect(pkg.source).toBe(`https://localhost:${repo.port}/fw/fusion-fw-4.3.0.tar`);
    expect(pkg.addedBy).toBe('admin');

    const again = await catalog.sync(ADMIN);
    expect(again).toMatchObject({ ok: true, listed: 2, new: 1, admitted: [] });
    const fetched = repo.requests.filter((r) => r.url === '/fw/fusion-fw-4.3.0.tar');
    expect(fetched).toHaveLength(1);
    expect((await audit('firmware.sync')).map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(catalog.syncStatus()).toMatchObject({ configured: true, running: false, last: again });
  });

  it('refuses a repository whose certificate is not trusted, naming TLS', async () => {
    const repo = await httpsRepository({}, { packages: [] });
    const { catalog } = await catalogWith({
      url: `https://localhost:${repo.port}/fw/`,
      allowedHosts: [`localhost:${repo.port}`],
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(/TLS handshake with localhost:\d+ failed/);
  });

  it('reports an index that is not in the documented format', async () => {
    const repo = await httpsRepository({}, { packages: [{ file: '../../etc/passwd' }] });
    const { catalog } = await catalogWith({
      url: `https://localhost:${repo.port}/fw/`,
      allowedHosts: [`localhost:${repo.port}`],
      ca: pki.ca.cert,
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary).toMatchObject({ ok: false, listed: 0 });
    expect(summary.error).toMatch(/packages\[0\]\.file must be a plain file name/);
  });

  it('follows a redirect that stays on the allow-list, and refuses one that leaves it', async () => {
    const mirror = await httpsRepository(
      { 'fusion-fw-4.3.0.tar': good },
      { packages: [{ file: 'fusion-fw-4.3.0.tar' }] },
    );
    const front = await startTestServer(pki.localhost, (req, res) => {
      res.writeHead(302, { location: `https://localhost:${mirror.port}${req.url}` });
      res.end();
    });
    servers.push(front);
    const allowed = await catalogWith({
      url: `https://localhost:${front.port}/fw/`,
      allowedHosts: [`localhost:${front.port}`, `localhost:${mirror.port}`],
      ca: pki.ca.cert,
    });
    expect(await allowed.catalog.sync(ADMIN)).toMatchObject({
      ok: true,
      admitted: [{ file: 'fusion-fw-4.3.0.tar' }],
    });
    await allowed.close();
    fixture = undefined;

    const refused = await catalogWith({
      url: `https://localhost:${front.port}/fw/`,
      allowedHosts: [`localhost:${front.port}`],
      ca: pki.ca.cert,
    });
    const summary = await refused.catalog.sync(ADMIN);
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(
      /redirect from localhost:\d+ refused: localhost:\d+ is not on firmware\.allowedHosts/,
    );
  });

  it('gives up on a repository that never answers, within the download time limit', async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const { catalog } = await catalogWith({
      url: `https://localhost:${silent.port}/fw/`,
      allowedHosts: [`localhost:${silent.port}`],
      ca: pki.ca.cert,
      downloadTimeoutMs: 300,
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(/did not finish in time/);
  });
});

describe('catalog sync over FTP', () => {
  it('admits the good package, reports the bad and the cut one, and never shows the password', async () => {
    const ftp = await ftpRepository(
      {
        'fusion-fw-4.3.0.tar': good,
        'fusion-fw-4.4.0.tar': unknownKey,
        'fusion-fw-4.5.0.tar': signedPackage([vendor]),
        'readme.txt': Buffer.from('not a package'),
      },
      new Map([['fusion-fw-4.5.0.tar', 5000]]),
    );
    const { catalog, audit } = await catalogWith({
      url: ftpUrl(ftp.port),
      allowedHosts: [`127.0.0.1:${ftp.port}`],
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary).toMatchObject({
      ok: true,
      url: `ftp://${FTP_USER}:***@127.0.0.1:${ftp.port}/pub/firmware/`,
      listed: 3,
      new: 3,
      admitted: [{ file: 'fusion-fw-4.3.0.tar', id: sha256(good) }],
    });
    const refused = Object.fromEntries(summary.refused.map((r) => [r.file, r]));
    expect(refused['fusion-fw-4.4.0.tar']).toMatchObject({ code: 'FIRMWARE_SIGNATURE_INVALID' });
    expect(refused['fusion-fw-4.5.0.tar']).toMatchObject({ code: 'DOWNLOAD_FAILED' });
    expect(refused['fusion-fw-4.5.0.tar']?.reason).toMatch(/426/);
    expect(ftp.commands.filter((c) => c.startsWith('PASS'))).not.toHaveLength(0);
    expect(ftp.commands.some((c) => c.startsWith('USER fwsync'))).toBe(true);

    const pkg = await catalog.get(sha256(good));
    expect(pkg.source).toBe(`ftp://127.0.0.1:${ftp.port}/pub/firmware/fusion-fw-4.3.0.tar`);
    const everything = JSON.stringify([
      summary,
      await audit('firmware.sync'),
      await audit('firmware.upload'),
    ]);
    expect(everything).not.toContain(FTP_PASSWORD);
    expect(everything).not.toContain(encodeURIComponent(FTP_PASSWORD));

    const again = await catalog.sync(ADMIN);
    expect(again).toMatchObject({ ok: true, listed: 3, new: 2, admitted: [] });
    expect(ftp.retrieved.filter((f) => f === 'fusion-fw-4.3.0.tar')).toHaveLength(1);
  });

  it('refuses a package the listing shows over the size limit without fetching it', async () => {
    const big = signedPackage([vendor], { image: randomBytes(200_000) });
    const ftp = await ftpRepository({ 'big-1.0.0.tar': big });
    const { catalog } = await catalogWith(
      { url: ftpUrl(ftp.port), allowedHosts: [`127.0.0.1:${ftp.port}`] },
      64 * 1024,
    );
    const summary = await catalog.sync(ADMIN);
    expect(summary.refused).toMatchObject([{ file: 'big-1.0.0.tar', code: 'FIRMWARE_TOO_LARGE' }]);
    expect(ftp.retrieved).toEqual([]);
  });

  it('reports a wrong FTP password as a failed listing', async () => {
    const ftp = await ftpRepository({ 'fusion-fw-4.3.0.tar': good });
    const { catalog } = await catalogWith({
      url: `ftp://${FTP_USER}:wrong@127.0.0.1:${ftp.port}/pub/firmware/`,
      allowedHosts: [`127.0.0.1:${ftp.port}`],
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(/530/);
    expect(summary.error).not.toContain('wrong');
  });
});

describe('catalog sync rules', () => {
  it('syncs on its own every syncIntervalMinutes, as the system user', async () => {
    const ftp = await ftpRepository({ 'fusion-fw-4.3.0.tar': good });
    const { catalog, audit } = await catalogWith({
      url: ftpUrl(ftp.port),
      allowedHosts: [`127.0.0.1:${ftp.port}`],
      intervalMinutes: 60,
      firstSyncDelayMs: 10,
    });
    const deadline = Date.now() + 10_000;
    // The next run is scheduled once this one is over.
    while (catalog.syncStatus().last === null || catalog.syncStatus().nextAt === null) {
      if (Date.now() > deadline) throw new Error('no periodic sync within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const status = catalog.syncStatus();
    expect(status.last).toMatchObject({
      trigger: 'periodic',
      ok: true,
      admitted: [{ id: sha256(good) }],
    });
    expect(Date.parse(status.nextAt ?? '') - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(await audit('firmware.sync')).toMatchObject([{ actor: 'system', outcome: 'ok' }]);
    expect((await catalog.get(sha256(good))).addedBy).toBe('system');
  });

  it('connects to nothing off the allow-list', async () => {
    const ftp = await ftpRepository({ 'fusion-fw-4.3.0.tar': good });
    const { catalog, audit } = await catalogWith({
      url: ftpUrl(ftp.port),
      allowedHosts: ['h19002.www1.hp.com', 'h19002.www1.hp.com:21'],
    });
    const summary = await catalog.sync(ADMIN);
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(
      /127\.0\.0\.1:\d+ is not on firmware\.allowedHosts; nothing was connected/,
    );
    expect(ftp.commands).toEqual([]);
    expect(await audit('firmware.sync')).toMatchObject([{ outcome: 'failed' }]);
  });

  it('answers CONFLICT when no repository is configured', async () => {
    const { catalog } = await catalogWith({ url: null });
    await expect(catalog.sync(ADMIN)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(catalog.syncStatus()).toMatchObject({ configured: false, url: null });
  });

  it('takes https:// and ftp:// directory URLs only, never https with credentials', () => {
    expect(parseSyncUrl('https://h19002.www1.hp.com/fw')).toMatchObject({
      protocol: 'https',
      port: 443,
      base: 'https://h19002.www1.hp.com/fw/',
    });
    expect(parseSyncUrl('ftp://u:p%40ss@h19002.www1.hp.com/pub/')).toMatchObject({
      protocol: 'ftp',
      port: 21,
      shown: 'ftp://u:***@h19002.www1.hp.com/pub/',
      base: 'ftp://h19002.www1.hp.com/pub/',
    });
    for (const bad of [
      'http://x/fw/',
      'https://u:p@x/fw/',
      'https://x/fw/?a=1',
      'file:///etc',
      'nope',
    ]) {
      expect(() => parseSyncUrl(bad), bad).toThrow(/firmware\.syncUrl/);
    }
    expect(maskUrl(new URL('ftp://anonymous@host/'))).toBe('ftp://anonymous@host/');
  });

  it('reads the documented index format and refuses anything else, saying where', () => {
    const sha = 'a'.repeat(64);
    expect(
      parseRepositoryIndex(
        Buffer.from(JSON.stringify({ packages: [{ file: 'a-1.0.0.tar', sha256: sha, size: 10 }] })),
      ),
    ).toEqual({ ok: true, packages: [{ file: 'a-1.0.0.tar', sha256: sha, size: 10 }] });
    const cases: Array<[unknown, RegExp]> = [
      [{}, /"packages" array/],
      [{ packages: [{ file: 'sub/a.tar' }] }, /packages\[0\]\.file/],
      [{ packages: [{ file: 'a.zip' }] }, /packages\[0\]\.file/],
      [{ packages: [{ file: 'a.tar', sha256: 'ABC' }] }, /sha256/],
      [{ packages: [{ file: 'a.tar', size: -1 }] }, /size/],
      [{ packages: [{ file: 'a.tar' }, { file: 'a.tar' }] }, /listed twice/],
    ];
    for (const [index, reason] of cases) {
      const parsed = parseRepositoryIndex(Buffer.from(JSON.stringify(index)));
      expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
    }
    expect(parseRepositoryIndex(Buffer.from('{'))).toMatchObject({ ok: false });
  });
});
