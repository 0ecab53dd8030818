import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTar, streamOf } from './package-test-harness.js';
import {
  readTar,
  TarFormatError,
  unsafeNameReason,
  ustarArchive,
  ustarHeader,
  type TarEntry,
} from './tar-format.js';

async function entriesOf(bytes: Buffer, chunk = 1000): Promise<Array<TarEntry & { data: Buffer }>> {
  const entries: Array<TarEntry & { data: Buffer }> = [];
  await readTar(streamOf(bytes, chunk), {
    maxBytes: 10 * 1024 * 1024,
    onEntry: (entry) => {
      const parts: Buffer[] = [];
      return {
        data: (c) => void parts.push(Buffer.from(c)),
        end: () => void entries.push({ ...entry, data: Buffer.concat(parts) }),
      };
    },
  });
  return entries;
}

/** Rewrites the checksum of the header at `offset` after a test changed the header. */
function fixChecksum(archive: Buffer, offset = 0): Buffer {
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 32 : archive[offset + i]!;
  archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'latin1');
  return archive;
}

async function errorOf(bytes: Buffer): Promise<string> {
  try {
    await entriesOf(bytes);
    return 'no error';
  } catch (err) {
    if (err instanceof TarFormatError) return `${err.kind}: ${err.message}`;
    throw err;
  }
}

describe('ustar writer and reader', () => {
  it('round-trips plain files of any size and chunking (property)', async () => {
    const entry = fc.record({
      name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,99}$/),
      data: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 4 }),
        fc.integer({ min: 1, max: 1500 }),
        async (entries, chunk) => {
          const read = await entriesOf(ustarArchive(entries, 1_700_000_000), chunk);
          expect(read).toEqual(entries.map((e) => ({ ...e, size: e.data.length })));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes a 100-character name without a terminator and reads it back', async () => {
    const name = `a${'b'.repeat(99)}`;
    const [entry] = await entriesOf(ustarArchive([{ name, data: Buffer.from('x') }]));
    expect(entry?.name).toBe(name);
  });

  it('refuses to write a name that is not a plain file name', () => {
    expect(() => ustarHeader('../x', 1, 0)).toThrow(/path traversal/);
    expect(() => ustarHeader('a/b', 1, 0)).toThrow(/only plain file names/);
    expect(() => ustarHeader('x', -1, 0)).toThrow(/cannot be written/);
  });

  it.each([
    ['x', null],
    ['', /empty name/],
    ['/abs', /absolute path/],
    ['a/../b', /path traversal/],
    ['..\\x', /path traversal/],
    ['.hidden', /not a plain file name/],
    ['a b', /not a plain file name/],
  ])('names %j', (name, expected) => {
    const reason = unsafeNameReason(name);
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });

  it('accepts GNU tar’s header magic and refuses its base-256 sizes', async () => {
    const gnu = rawTar([{ name: 'a', data: Buffer.from('x'), magic: 'gnu' }]);
    expect((await entriesOf(gnu))[0]?.name).toBe('a');
    const base256 = rawTar([{ name: 'a', data: Buffer.from('x') }]);
    base256[124] = 0x80;
    expect(await errorOf(fixChecksum(base256))).toMatch(/^format: .* base-256 encoding/);
  });

  it('reports an empty input as empty', async () => {
    expect(await errorOf(Buffer.alloc(0))).toBe('truncated: the package is empty');
  });

  it('refuses a size field that is not octal', async () => {
    const bad = rawTar([{ name: 'a', data: Buffer.from('x') }]);
    bad.write('0000000009\0', 124, 'latin1');
    expect(await errorOf(fixChecksum(bad))).toMatch(
      /^format: .* is not an octal number: "0000000009"/,
    );
    const corrupt = rawTar([{ name: 'a', data: Buffer.from('x') }]);
    corrupt[0] = 'b'.charCodeAt(0);
    expect(await errorOf(corrupt)).toMatch(/^format: a header checksum does not match/);
  });
});

const tar = spawnSync('tar', ['--version'], { encoding: 'utf8' });
const hasTar = tar.status === 0 && /GNU tar/.test(tar.stdout);

describe.skipIf(!hasTar)(
  hasTar
    ? 'interoperates with GNU tar'
    : 'interoperates with GNU tar (skipped: no GNU tar on PATH)',
  () => {
    let dir: string;
    const files = {
      'manifest.json': Buffer.from('{"a":1}\n'),
      'firmware.bin': Buffer.alloc(1025, 7),
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cc-tar-'));
      for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it.each(['ustar', 'gnu', 'posix'])('reads what `tar --format=%s` writes', async (format) => {
      const out = join(dir, `${format}.tar`);
      const res = spawnSync('tar', [
        `--format=${format}`,
        '-cf',
        out,
        '-C',
        dir,
        ...Object.keys(files),
      ]);
      expect(res.status).toBe(0);
      const bytes = await readFile(out);
      if (format === 'posix') {
        // pax archives carry extended headers, which a package refuses.
        expect(await errorOf(bytes)).toMatch(/pax extended header/);
        return;
      }
      const entries = await entriesOf(bytes);
      expect(entries.map((e) => [e.name, e.data])).toEqual(Object.entries(files));
    });

    it('lists and extracts what this writer writes', async () => {
      const out = join(dir, 'ours.tar');
      await writeFile(
        out,
        ustarArchive(Object.entries(files).map(([name, data]) => ({ name, data }))),
      );
      const list = spawnSync('tar', ['-tvf', out], { encoding: 'utf8' });
      expect(list.status).toBe(0);
      expect(list.stderr).toBe('');
      expect(list.stdout).toMatch(/manifest\.json\n.*firmware\.bin\n$/);
      const extract = join(dir, 'x');
      await mkdir(extract);
      expect(spawnSync('tar', ['-xf', out, '-C', extract]).status).toBe(0);
      expect(await readFile(join(extract, 'firmware.bin'))).toEqual(files['firmware.bin']);
    });
  },
);
