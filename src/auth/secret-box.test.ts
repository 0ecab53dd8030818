import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretBox, loadSecretKey } from './secret-box.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-secret-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('secret box', () => {
  it('creates a 0600 key once and reuses it', async () => {
    const file = join(dir, 'keys', 'secret.key');
    const key = await loadSecretKey(file);
    expect(key).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await loadSecretKey(file)).equals(key)).toBe(true);
  });

  it('refuses a key file of the wrong size', async () => {
    const file = join(dir, 'secret.key');
    await writeFile(file, 'short');
    await expect(loadSecretKey(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('seals without the clear text and opens only with the same key and context', async () => {
    const box = createSecretBox(await loadSecretKey(join(dir, 'secret.key')));
    const sealed = box.seal('admin:hunter2', 'device-credential:p1');
    expect(sealed).not.toContain('hunter2');
    expect(box.seal('admin:hunter2', 'device-credential:p1')).not.toBe(sealed);
    expect(box.open(sealed, 'device-credential:p1')).toBe('admin:hunter2');
    expect(() => box.open(sealed, 'device-credential:p2')).toThrow(/does not open/);
    const other = createSecretBox(Buffer.alloc(32, 7));
    expect(() => other.open(sealed, 'device-credential:p1')).toThrow(/does not open/);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => box.open(tampered, 'device-credential:p1')).toThrow();
    expect(() => box.open('garbage', 'x')).toThrow(/unknown format/);
  });
});
