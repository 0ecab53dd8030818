// The `storage` configuration keys: their defaults, and malformed values refused by
// `command-center config check` with the key, the value and a fix.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCli } from '../../test/fixtures/server-process.js';
import { checkConfig, loadConfig } from '../config/index.js';

describe('storage configuration', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-storage-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps 100 MB free and checks every 10 s by default', () => {
    expect(loadConfig({ env: {} }).config.storage).toEqual({
      minFreeMb: 100,
      checkIntervalSeconds: 10,
    });
  });

  it('takes both keys from a file and from the environment', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'storage:\n  minFreeMb: 2048\n');
    const check = checkConfig(file, { CC_STORAGE__CHECK_INTERVAL_SECONDS: '30' });
    expect(check.ok).toBe(true);
    expect(check.config?.storage).toEqual({ minFreeMb: 2048, checkIntervalSeconds: 30 });
  });

  it.each([
    ['storage.minFreeMb', 'storage:\n  minFreeMb: 0\n', /between 1 and 1048576 MB/],
    ['storage.minFreeMb', 'storage:\n  minFreeMb: -100\n', /between 1 and 1048576 MB/],
    ['storage.minFreeMb', 'storage:\n  minFreeMb: 2000000\n', /between 1 and 1048576 MB/],
    ['storage.minFreeMb', 'storage:\n  minFreeMb: 1.5\n', /integer/],
    ['storage.minFreeMb', 'storage:\n  minFreeMb: "100MB"\n', /integer/],
    [
      'storage.checkIntervalSeconds',
      'storage:\n  checkIntervalSeconds: 0\n',
      /between 1 and 3600 s/,
    ],
    [
      'storage.checkIntervalSeconds',
      'storage:\n  checkIntervalSeconds: 86400\n',
      /between 1 and 3600/,
    ],
    ['storage.checkIntervalSeconds', 'storage:\n  checkIntervalSeconds: often\n', /integer/],
    ['storage', 'storage: full\n', /mapping/],
  ])('refuses %s in %j', async (key, text, message) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    const check = checkConfig(file, {});
    expect(check.ok).toBe(false);
    const issue = check.issues.find((i) => i.key === key);
    expect(issue, JSON.stringify(check.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
    expect(issue!.fix.length).toBeGreaterThan(5);
  });

  it('refuses a malformed value from the environment, naming the variable', () => {
    const check = checkConfig(undefined, { CC_STORAGE__MIN_FREE_MB: 'lots' });
    expect(check.ok).toBe(false);
    expect(check.issues).toEqual([
      expect.objectContaining({ key: 'storage.minFreeMb', source: 'env CC_STORAGE__MIN_FREE_MB' }),
    ]);
  });

  it('makes `command-center config check` exit 2 naming each bad key', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'storage:\n  minFreeMb: 0\n  checkIntervalSeconds: -1\n');
    const res = await execCli(['config', 'check', file], { CC_DATA_DIR: join(dir, 'data') });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('storage.minFreeMb');
    expect(res.stderr).toContain('storage.checkIntervalSeconds');
    expect(res.stderr).toMatch(/fix:/);
  });
});
