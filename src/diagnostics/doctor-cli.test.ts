import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/fixtures/forward-proxy.js';
import type { DoctorReport } from './index.js';

const ftp = createServer((socket) => socket.end('220 Stand-in FTP\r\n'));
let ftpPort = 0;

beforeAll(async () => {
  ftp.listen(0, '127.0.0.1');
  await once(ftp, 'listening');
  ftpPort = (ftp.address() as AddressInfo).port;
});

afterAll(async () => {
  ftp.close();
  await once(ftp, 'close');
});

async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '' },
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
      (c) => c.endpoint === `127.0.0.1:${String(closed)}` && c.name === 'tcp',
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
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ENDPOINT\s+PATH\s+CHECK\s+STATUS/);
    expect(result.stdout).toContain(`127.0.0.1:${String(ftpPort)}/ftp: works direct`);
  }, 30_000);
});
