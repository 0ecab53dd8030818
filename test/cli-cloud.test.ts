// `command-center cloud …` as an admin types it, against a real server process and the reference
// cloud receiver: status, enrollment (no token, a wrong one, the right one), consent, preview, send
// and un-enrollment, with clear refusals and a help text for every subcommand.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudReceiver, type CloudReceiver } from '../src/cloud-receiver/index.js';
import { buildProgram } from '../src/cli/program.js';
import { CONSENT_CATEGORIES, type UplinkReport } from '../src/uplink/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { execCli, startServerProcess, type ServerProcess } from './fixtures/server-process.js';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';

const ORG = 'org-cli-test';
const ENROLLMENT_TOKEN = 'enroll-cli-5be02f';
const PASSWORD = 'a long enough admin password';
const STACK_TRACE = /at .*\.(ts|js):\d+/;
const SUBCOMMANDS = ['status', 'enroll', 'unenroll', 'consent', 'preview', 'send'];

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the cloud commands of the CLI', { timeout: 90_000 }, () => {
  let data: TestDataDir;
  let receiver: CloudReceiver;
  let server: ServerProcess | undefined;
  let api: ApiClient | undefined;
  let cliEnv: Record<string, string>;
  let siteId: string;

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    execCli(['cloud', ...args], { ...cliEnv, ...extra }, 60_000);

  beforeAll(async () => {
    data = await makeTempDir('cc-cli-cloud-');
    receiver = createCloudReceiver({
      dataDir: join(data.dir, 'cloud'),
      organizationId: ORG,
      enrollmentToken: ENROLLMENT_TOKEN,
    });
    const info = await receiver.start();
    const caFile = join(data.dir, 'cloud-ca.pem');
    await writeFile(caFile, info.caCertPem);
    const serverDir = join(data.dir, 'server');
    server = await startServerProcess({
      ...testEnv(serverDir),
      CC_UPLINK__ENDPOINT: info.url,
      CC_UPLINK__ALLOWED_HOSTS: `127.0.0.1:${new URL(info.url).port}`,
      CC_UPLINK__CA_FILE: caFile,
      CC_UPLINK__PROXY: 'none',
    });
    const base = `https://127.0.0.1:${server.ports.https}`;
    const certPath = join(serverDir, 'tls', 'server.crt');
    api = await ApiClient.trusting(base, certPath);
    const setupToken = new URL(server.setupUrl!).hash.replace('#token=', '');
    const setup = await api.post('/api/v1/setup', {
      token: setupToken,
      username: 'admin',
      password: PASSWORD,
    });
    expect(setup.status, setup.text).toBe(201);
    const login = await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    const created = await api.post('/api/v1/tokens', { name: 'cli-cloud-test' });
    expect(created.status, created.text).toBe(201);
    cliEnv = {
      CC_SERVER: base,
      CC_CA: certPath,
      CC_TOKEN: (created.body as { token: string }).token,
      XDG_CONFIG_HOME: join(data.dir, 'xdg'),
      CC_ENROLLMENT_TOKEN: '',
    };
  }, 90_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      await server.kill9();
    }
    await api?.close();
    await receiver.stop();
    await data.cleanup();
  });

  it('says the server is not enrolled before enrollment, and how to enroll', async () => {
    const res = await cli(['status']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/not enrolled \(nothing is sent\)/);
    expect(res.stdout).toContain('command-center cloud enroll --organization');
  });

  it('refuses to enroll without a token, saying where to give it', async () => {
    const res = await cli(['enroll', '--organization', ORG]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--enrollment-token or \$CC_ENROLLMENT_TOKEN/);
    expect(res.stderr).not.toMatch(STACK_TRACE);
    expect(receiver.counters().enrollRequests).toBe(0);
  });

  it('prints the cloud’s refusal of a wrong enrollment token', async () => {
    const res = await cli([
      'enroll',
      '--organization',
      ORG,
      '--enrollment-token',
      'not-the-right-token',
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/CLOUD_ENROLLMENT_REFUSED: the cloud refused/);
    expect(res.stderr).not.toContain('not-the-right-token');
    expect(res.stderr).not.toMatch(STACK_TRACE);
    expect(receiver.sites()).toEqual([]);
  });

  it('enrolls with the right token and prints the site', async () => {
    const res = await cli([
      'enroll',
      '--organization',
      ORG,
      '--enrollment-token',
      ENROLLMENT_TOKEN,
    ]);
    expect(res.code, res.stderr).toBe(0);
    const sites = receiver.sites();
    expect(sites).toHaveLength(1);
    siteId = sites[0]!.siteId;
    expect(res.stdout).toContain(`enrolled as site ${siteId} of organization ${ORG}`);
    expect(res.stdout).toMatch(/route\s+direct/);
    expect(res.stdout).not.toMatch(/secret/i);
  });

  it('grants consent for a category and shows it afterwards', async () => {
    const grant = await cli(['consent', '--grant', 'identity']);
    expect(grant.code, grant.stderr).toBe(0);
    const shown = await cli(['consent']);
    expect(shown.code, shown.stderr).toBe(0);
    const rows = shown.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^category\s+shared\s+since\s+by\s+what$/);
    expect(rows.find((r) => r.startsWith('identity '))).toMatch(/^identity\s+yes\s+\S+Z\s+admin/);
    for (const category of CONSENT_CATEGORIES.filter((c) => c !== 'identity')) {
      expect(rows.find((r) => r.startsWith(`${category} `))).toMatch(
        new RegExp(`^${category}\\s+no\\s+-\\s+-`),
      );
    }
  });

  it('refuses an unknown consent category, naming the valid ones', async () => {
    const res = await cli(['consent', '--grant', 'bogus']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('bogus');
    for (const category of CONSENT_CATEGORIES) expect(res.stderr).toContain(category);
    expect(res.stderr).not.toMatch(STACK_TRACE);
  });

  it('previews the next report as JSON on stdout', async () => {
    const res = await cli(['preview']);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as UplinkReport;
    expect(report).toMatchObject({ v: 1, kind: 'periodic', devices: [] });
    expect(res.stderr).toMatch(/^\d+ bytes of JSON before encryption$/m);
  });

  it('queues a report and prints its seq; the cloud receives it', async () => {
    const res = await cli(['send']);
    expect(res.code, res.stderr).toBe(0);
    const match = /^queued report (\d+) \(\d+ bytes sealed\)$/m.exec(res.stdout);
    expect(match, res.stdout).not.toBeNull();
    const seq = Number(match![1]);
    const stored = await until('the report at the cloud', () =>
      receiver.reports(siteId).find((r) => r.seq === seq),
    );
    expect(stored.report).toMatchObject({ kind: 'periodic', seq, siteId });
  });

  it('un-enrolls only with --yes', async () => {
    const refused = await cli(['unenroll']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
    expect(receiver.sites()[0]).toMatchObject({ siteId, status: 'active' });

    const res = await cli(['unenroll', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/not enrolled \(nothing is sent\)/);
    expect(receiver.sites()[0]).toMatchObject({ siteId, status: 'unenrolled' });
  });

  it('has help for the command and every subcommand', async () => {
    const res = await cli(['--help']);
    expect(res.code, res.stderr).toBe(0);
    for (const name of SUBCOMMANDS) expect(res.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));

    const cloud = buildProgram().commands.find((c) => c.name() === 'cloud');
    expect(cloud?.commands.map((c: Command) => c.name()).sort()).toEqual([...SUBCOMMANDS].sort());
    for (const sub of cloud!.commands) {
      const help = sub.helpInformation();
      expect(help, sub.name()).toContain(`Usage: command-center cloud ${sub.name()}`);
      // Help wraps long lines: compare with runs of white space folded.
      expect(help.replace(/\s+/g, ' '), sub.name()).toContain(
        sub.description().replace(/\s+/g, ' '),
      );
      expect(help, sub.name()).toContain('--server <url>');
      expect(help, sub.name()).toContain('-h, --help');
    }
  });
});
