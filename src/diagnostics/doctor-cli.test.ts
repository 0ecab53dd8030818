import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/fixtures/forward-proxy.js';
import type { DoctorReport } from './index.js';

const ftp = createServer((socket) => socket.end('220 Stand-in FTP\r\n'));
let ftpPort = 0;
let dataDir = '';

beforeAll(async () => {
  ftp.listen(0, '127.0.0.1');
  await once(ftp, 'listening');
  ftpPort = (ftp.address() as AddressInfo).port;
  dataDir = await mkdtemp(join(tmpdir(), 'cc-doctor-'));
});

afterAll(async () => {
  ftp.close();
  await once(ftp, 'close');
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the CLI with a configuration of its own: a fresh data directory, no proxy, no CC_* keys. */
async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('CC_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: {
      ...clean,
      HTTPS_PROXY: '',
      https_proxy: '',
      HTTP_PROXY: '',
      http_proxy: '',
      CC_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('command-center doctor', () => {
  it('prints a JSON report for the given endpoints and exits 2 when one is unreachable', async () => {
    const closed = await freePort();
    const result = await runCli([
      'doctor',
      '--endpoint',
      `127.0.0.1:${String(ftpPort)}/ftp`,
      '--endpoint',
      `127.0.0.1:${String(closed)}`,
      '--json',
      '--timeout',
      '1000',
      '--proxy',
      'none',
    ]);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.exitCode).toBe(2);
    const banner = report.checks.find((c) => c.name === 'ftp-banner');
    expect(banner?.status).toBe('ok');
    const tcp = report.checks.find(
      (c) => c.subject === `127.0.0.1:${String(closed)}` && c.name === 'tcp',
    );
    expect(tcp?.status).toBe('fail');
    expect(tcp?.cause).toContain('nothing listens');
    expect(result.stderr).toContain('ftp-banner');
  }, 30_000);

  it('exits 0 with a human table when every endpoint works', async () => {
    const result = await runCli([
      'doctor',
      '--endpoint',
      `127.0.0.1:${String(ftpPort)}/ftp`,
      '--proxy',
      'none',
      '--no-local',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ENDPOINT\s+PATH\s+CHECK\s+STATUS/);
    expect(result.stdout).not.toContain('THIS MACHINE');
    expect(result.stdout).toContain(`127.0.0.1:${String(ftpPort)}/ftp: works direct`);
  }, 30_000);

  it('checks the configured endpoints and this machine: port ranges, data directory', async () => {
    const free = await freePort();
    const result = await runCli(['doctor', '--json'], {
      CC_DOCTOR__ENDPOINTS: `127.0.0.1:${String(ftpPort)}/ftp`,
      CC_DOCTOR__TIMEOUT_MS: '1000',
      CC_PORTS__HTTPS: `${String(free)}-${String(free)}`,
      CC_UPLINK__PROXY: 'none',
    });
    const report = JSON.parse(result.stdout) as DoctorReport & { serverRunning: boolean };
    expect(report.serverRunning).toBe(false);
    expect(report.checks.filter((c) => c.path !== 'local').map((c) => c.subject)).toContain(
      `127.0.0.1:${String(ftpPort)}/ftp`,
    );
    const local = report.checks.filter((c) => c.path === 'local');
    expect(local.map((c) => c.name)).toEqual(['ports', 'ports', 'ports', 'ports', 'disk']);
    expect(local[0]).toMatchObject({
      subject: `ports.https ${String(free)}-${String(free)}`,
      status: 'ok',
    });
    expect(local[4]?.subject).toContain('data directory');
    expect(local[4]?.unit).toBe('MB free');
    // The default ports of the other ranges may be held on a shared machine; the run still ends.
    expect([0, 1, 2]).toContain(result.code);
  }, 30_000);

  it('refuses a malformed endpoint in the configuration with the key and the fix', async () => {
    const result = await runCli(['doctor'], { CC_DOCTOR__ENDPOINTS: 'user@evil.example:443' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('doctor.endpoints');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('finishes within its bound when no name resolves', async () => {
    const started = Date.now();
    const result = await runCli([
      'doctor',
      '--endpoint',
      'cc-doctor-test.invalid:443',
      '--endpoint',
      'nothing-here.invalid:21/ftp',
      '--timeout',
      '1000',
      '--no-local',
      '--json',
    ]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as DoctorReport;
    const dns = report.checks.filter((c) => c.name === 'dns');
    expect(dns).toHaveLength(2);
    for (const check of dns) {
      expect(check.status).toBe('fail');
      expect(check.detail).toContain('DNS lookup failed');
      expect(check.cause).toMatch(/DNS server is unreachable/);
    }
  }, 30_000);
});
