// The command-line interface as users run it: help on every command, clear errors for bad input.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCli } from './fixtures/server-process.js';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';

describe('command-center CLI', { timeout: 120_000 }, () => {
  let data: TestDataDir;
  let env: Record<string, string>;

  beforeAll(async () => {
    data = await makeTempDir();
    env = testEnv(data.dir);
  });
  afterAll(async () => {
    await data.cleanup();
  });

  it.each([
    [[]],
    [['start']],
    [['config']],
    [['config', 'check']],
    [['devices']],
    [['devices', 'provision']],
    [['simulate']],
    [['status']],
    [['watch']],
    [['login']],
    [['jobs', 'pause']],
    [['devices', 'discover']],
    [['devices', 'token']],
  ])('prints help for %j', async (args) => {
    const res = await execCli([...args, '--help'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Usage: command-center/);
  });

  it('simulate refuses a bad id prefix and a Web Services fleet without a password', async () => {
    const prefix = await execCli(
      [
        'simulate',
        '--channels',
        'web-services',
        '--ws-password',
        'long enough',
        '--id-prefix',
        'bad prefix!',
      ],
      env,
    );
    expect(prefix.code).not.toBe(0);
    expect(prefix.stderr).toMatch(/--id-prefix is 1–24 letters/);
    const password = await execCli(['simulate', '--channels', 'web-services'], {
      ...env,
      CC_SIM_WS_PASSWORD: '',
    });
    expect(password.code).not.toBe(0);
    expect(password.stderr).toMatch(/password/i);
  });

  it('prints its version', async () => {
    const res = await execCli(['--version'], env);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with a hint', async () => {
    const res = await execCli(['frobnicate'], env);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown command/);
  });

  it('config check reports every bad key with its value and a fix, exit code 2', async () => {
    const file = join(data.dir, 'bad.yaml');
    await writeFile(file, 'ports:\n  https: 70000-70010\ningest:\n  batchDelayMs: -5\nlogg: {}\n');
    const res = await execCli(['config', 'check', file], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('ports.https');
    expect(res.stderr).toContain('ingest.batchDelayMs');
    expect(res.stderr).toContain('logg');
  });

  it('config check accepts a good file', async () => {
    const file = join(data.dir, 'good.yaml');
    await writeFile(file, 'log:\n  level: debug\ndemo:\n  enabled: true\n  devices: 3\n');
    const res = await execCli(['config', 'check', file], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it('config check names a malformed file and where it breaks', async () => {
    const file = join(data.dir, 'broken.yaml');
    await writeFile(file, 'log:\n  level: [debug\n');
    const res = await execCli(['config', 'check', file], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('broken.yaml');
    expect(res.stderr).toMatch(/line \d+/);
  });

  it('devices provision prints a token once and refuses a hostile id', async () => {
    const ok = await execCli(['devices', 'provision', 'printer-07', '--json'], env);
    expect(ok.code).toBe(0);
    const parsed = JSON.parse(ok.stdout) as { deviceId: string; token: string };
    expect(parsed.deviceId).toBe('printer-07');
    expect(parsed.token.length).toBeGreaterThanOrEqual(40);
    for (const id of ['../etc/passwd', 'a/b', '#', 'x'.repeat(65), "'; DROP TABLE devices; --"]) {
      const bad = await execCli(['devices', 'provision', id], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/invalid device id/);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('simulate refuses bad options with a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['simulate', '--broker', 'http://x', '--provision'], /mqtt:\/\//],
      [
        ['simulate', '--broker', 'mqtt://127.0.0.1:1', '--devices', 'many', '--provision'],
        /--devices/,
      ],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--speed', '-1', '--provision'], /--speed/],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1'], /--credentials|--provision/],
    ];
    for (const [args, message] of cases) {
      const res = await execCli(args, env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(message);
    }
  });

  it('start stops with a clear error when the configuration is invalid', async () => {
    const res = await execCli(['start'], { ...env, CC_INGEST__BATCH_MAX_SIZE: 'lots' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('ingest.batchMaxSize');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
