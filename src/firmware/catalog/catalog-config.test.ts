import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { makeVendor } from './catalog-test-harness.js';
import { catalogSettingsOf, type CatalogConfig } from './catalog-config.js';

const active = makeVendor();
const second = makeVendor();
const old = makeVendor();
let dir: string;
let files: Record<'active' | 'second' | 'old' | 'private' | 'notPem', string>;

const defaults = (): CatalogConfig => loadConfig({ env: {} }).config.firmware;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-catalog-config-'));
  files = {
    active: join(dir, 'active.pub.pem'),
    second: join(dir, 'second.pub.pem'),
    old: join(dir, 'old.pub.pem'),
    private: join(dir, 'vendor.pem'),
    notPem: join(dir, 'notes.txt'),
  };
  await writeFile(files.active, active.publicPem);
  await writeFile(files.second, second.publicPem);
  await writeFile(files.old, old.publicPem);
  await writeFile(files.private, active.privatePem);
  await writeFile(files.notPem, 'hello');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problem(config: Partial<CatalogConfig>): Promise<string> {
  try {
    await catalogSettingsOf({ ...defaults(), ...config }, dir, {});
  } catch (err) {
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('firmware configuration', () => {
  it('defaults to no key (every package refused), no repository, the vendor host', async () => {
    const config = defaults();
    expect(config).toMatchObject({
      trustedKeys: [],
      retiredKeys: [],
      threshold: 1,
      syncUrl: null,
      allowedHosts: ['h19002.www1.hp.com', 'h19002.www1.hp.com:21'],
    });
    const settings = await catalogSettingsOf(config, dir, {});
    expect(settings.trust).toBeNull();
    expect(settings.dir).toBe(join(dir, 'firmware'));
  });

  it('reads active and retired keys and a k-of-n threshold from files named in the environment', async () => {
    const { config } = loadConfig({
      env: {
        CC_FIRMWARE__TRUSTED_KEYS: `${files.active}, ${files.second}`,
        CC_FIRMWARE__RETIRED_KEYS: files.old,
        CC_FIRMWARE__THRESHOLD: '2',
        CC_FIRMWARE__SYNC_URL: 'ftp://fw:pw@h19002.www1.hp.com/pub/',
      },
    });
    const settings = await catalogSettingsOf(config.firmware, dir, {});
    expect(settings.trust?.threshold).toBe(2);
    expect(settings.trust?.keys.map((k) => [k.id, k.retired])).toEqual([
      [active.id, false],
      [second.id, false],
      [old.id, true],
    ]);
    expect(settings.sync.url).toBe('ftp://fw:pw@h19002.www1.hp.com/pub/');
  });

  it('stops start-up naming the key and the fix for an unusable setting', async () => {
    expect(await problem({ trustedKeys: [join(dir, 'missing.pem')] })).toMatch(
      /^firmware\.trustedKeys: cannot use .*missing\.pem .*fix: point it at a readable vendor public key/,
    );
    expect(await problem({ trustedKeys: [files.private] })).toMatch(
      /firmware\.trustedKeys: cannot use .*not a public key/,
    );
    expect(await problem({ trustedKeys: [files.active], retiredKeys: [files.notPem] })).toMatch(
      /^firmware\.retiredKeys: cannot use/,
    );
    expect(await problem({ trustedKeys: [files.active], threshold: 2 })).toMatch(
      /^firmware\.threshold: .*needs at least 2 active vendor keys; 1 configured/,
    );
    expect(await problem({ trustedKeys: [files.active], retiredKeys: [files.active] })).toMatch(
      /^firmware\.retiredKeys: .* holds key [0-9a-f]{16}, which .* holds already/,
    );
    expect(await problem({ syncUrl: 'http://h19002.www1.hp.com/fw/' })).toMatch(
      /^firmware\.syncUrl: the http scheme is not supported/,
    );
    expect(await problem({ proxy: 'https://proxy.example:3128' })).toMatch(/^firmware\.proxy: /);
    expect(await problem({ caFile: files.notPem })).toMatch(
      /^firmware\.caFile: .*no PEM certificate/,
    );
  });

  it('masks an FTP password in configuration messages', () => {
    const { issues } = (() => {
      try {
        loadConfig({ env: { CC_FIRMWARE__SYNC_URL: 'ftp://fw:hunter2@h/' + 'x'.repeat(3000) } });
        return { issues: [] };
      } catch (err) {
        return { issues: (err as { issues: unknown[] }).issues };
      }
    })();
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});
