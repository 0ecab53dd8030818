import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTrustPolicy } from './vendor-keys.js';
import { serializeManifest } from './manifest.js';
import { formatSignatureFile, signManifest } from './manifest-signatures.js';
import { inspectPackage } from './package-reader.js';
import {
  makeVendor,
  manifestFor,
  NOW,
  packageBytes,
  rawTar,
  signedManifest,
  streamOf,
  type PackageSpec,
  type RawEntry,
} from './package-test-harness.js';
import { ustarHeader, ustarPadding } from './tar-format.js';
import {
  CHECK_NAMES,
  firmwareErrorOf,
  verifyPackage,
  type CheckName,
  type Verdict,
  type VerifyContext,
} from './verify-package.js';

const vendor = makeVendor();
const second = makeVendor();
const third = makeVendor();
const stranger = makeVendor();
const old = makeVendor();
const IMAGE = randomBytes(70_000);
const TRUST = createTrustPolicy([vendor.key(), old.key(true)]);
const CONTEXT: VerifyContext = { now: NOW, maxBytes: 1024 * 1024 };

function spec(overrides: Partial<PackageSpec> = {}): PackageSpec {
  return { image: IMAGE, manifest: manifestFor(IMAGE), signers: [vendor.privateKey], ...overrides };
}

async function verifyBytes(
  bytes: Buffer,
  context: Partial<VerifyContext> = {},
  trust = TRUST,
): Promise<Verdict> {
  return verifyPackage(streamOf(bytes, 7000), trust, { ...CONTEXT, ...context });
}

function failed(verdict: Verdict): CheckName[] {
  return verdict.checks.filter((c) => !c.ok).map((c) => c.name);
}

function detail(verdict: Verdict, name: CheckName): string {
  return verdict.checks.find((c) => c.name === name)?.detail ?? '';
}

describe('verifyPackage accepts', () => {
  it('a package signed by a trusted key, reporting every check in order', async () => {
    const verdict = await verifyBytes(packageBytes(spec()), {
      model: 'Fusion P5',
      installedVersion: '4.2.9',
    });
    expect(verdict.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(failed(verdict)).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.signers).toEqual([vendor.id]);
    expect(verdict.manifest).toMatchObject({ name: 'fusion-fw', version: '4.3.0' });
    expect(detail(verdict, 'version')).toMatch(/4\.3\.0 is newer than the installed 4\.2\.9/);
    expect(firmwareErrorOf(verdict)).toBeNull();
  });

  it('from a file path as from a stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-fw-'));
    try {
      const file = join(dir, 'p.tar');
      await writeFile(file, packageBytes(spec()));
      const seen: Array<[number, number | null]> = [];
      const verdict = await verifyPackage(file, TRUST, {
        ...CONTEXT,
        onProgress: (b, t) => seen.push([b, t]),
      });
      expect(verdict.ok).toBe(true);
      expect(seen.at(-1)?.[0]).toBe(seen.at(-1)?.[1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('any single-byte chunking of the stream', async () => {
    const bytes = packageBytes(
      spec({ image: IMAGE.subarray(0, 3000), manifest: manifestFor(IMAGE.subarray(0, 3000)) }),
    );
    const verdict = await verifyPackage(streamOf(bytes, 1), TRUST, CONTEXT);
    expect(verdict.ok).toBe(true);
  });

  it('an archive padded with zero blocks after its end, as GNU tar writes it', async () => {
    const bytes = Buffer.concat([packageBytes(spec()), Buffer.alloc(10 * 512)]);
    expect((await verifyBytes(bytes)).ok).toBe(true);
  });

  it('signatures by keys not known here beside a trusted one', async () => {
    const verdict = await verifyBytes(
      packageBytes(spec({ signers: [stranger.privateKey, vendor.privateKey] })),
    );
    expect(verdict.ok).toBe(true);
    expect(detail(verdict, 'signature')).toMatch(
      /1 of 2 signatures verifies.*ignored: 1 that verifies with no known key/,
    );
  });
});

describe('verifyPackage refuses, naming the check', () => {
  const flip = (buf: Buffer, at: number): Buffer => {
    const copy = Buffer.from(buf);
    copy[at] = copy[at]! ^ 0x01;
    return copy;
  };

  it('a tampered image (same size): image-hash', async () => {
    const bytes = packageBytes(spec({ image: flip(IMAGE, 12_345) }));
    const verdict = await verifyBytes(bytes);
    expect(failed(verdict)).toEqual(['image-hash']);
    expect(detail(verdict, 'image-hash')).toMatch(
      /the image's sha256 is [0-9a-f]{64}; the manifest says/,
    );
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_IMAGE_MISMATCH');
  });

  it('an image with a byte more: image-size and image-hash', async () => {
    const longer = Buffer.concat([IMAGE, Buffer.from([0])]);
    const verdict = await verifyBytes(packageBytes(spec({ image: longer })));
    expect(failed(verdict)).toEqual(['image-size', 'image-hash']);
    expect(detail(verdict, 'image-size')).toBe(
      `the image is ${IMAGE.length + 1} bytes; the manifest says ${IMAGE.length}`,
    );
  });

  it('a tampered manifest (version raised after signing): signature', async () => {
    const { manifestBytes, signatureBytes } = signedManifest(spec());
    const tampered = Buffer.from(manifestBytes.toString().replace('"4.3.0"', '"9.3.0"'));
    const verdict = await verifyBytes(
      packageBytes(spec({ manifestBytes: tampered, signatureBytes: signatureBytes! })),
      {
        installedVersion: '5.0.0',
      },
    );
    expect(failed(verdict)).toEqual(['signature', 'known-key', 'threshold']);
    expect(detail(verdict, 'signature')).toMatch(
      /none of 1 signature verifies.*changed after signing/,
    );
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_SIGNATURE_INVALID');
    expect(firmwareErrorOf(verdict)?.status).toBe(422);
  });

  it('a signature by an unknown key: signature and known-key', async () => {
    const verdict = await verifyBytes(packageBytes(spec({ signers: [stranger.privateKey] })));
    expect(failed(verdict)).toEqual(['signature', 'known-key', 'threshold']);
    expect(detail(verdict, 'signature')).toMatch(/signed by a key that is not trusted here/);
    expect(detail(verdict, 'signature')).toContain(vendor.id);
    expect(detail(verdict, 'known-key')).toBe('no signature verifies with a trusted key');
  });

  it('a signature by a retired key only: known-key', async () => {
    const verdict = await verifyBytes(packageBytes(spec({ signers: [old.privateKey] })));
    expect(failed(verdict)).toEqual(['known-key', 'threshold']);
    expect(detail(verdict, 'signature')).toContain(`${old.id} retired`);
    expect(detail(verdict, 'known-key')).toMatch(
      /only retired key .* signatures by retired keys do not count/,
    );
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_KEY_UNTRUSTED');
  });

  it('a package without manifest.sig: signature (missing)', async () => {
    const verdict = await verifyBytes(packageBytes(spec({ signers: [] })));
    expect(failed(verdict)).toEqual(['signature', 'known-key', 'threshold']);
    expect(detail(verdict, 'signature')).toMatch(/^missing: .*unsigned/);
    expect(detail(verdict, 'package-format')).toMatch(/no manifest\.sig/);
  });

  it.each<[string, Buffer]>([
    ['empty', Buffer.alloc(0)],
    ['not base64', Buffer.from('not a signature\n')],
    ['32 bytes', Buffer.from(`${randomBytes(32).toString('base64')}\n`)],
    [
      'a blank line between',
      Buffer.from(`${signManifest(Buffer.from('x'), vendor.privateKey).toString('base64')}\n\nx\n`),
    ],
    ['17 lines', Buffer.from(`${randomBytes(64).toString('base64')}\n`.repeat(17))],
  ])('a malformed manifest.sig (%s): signature', async (_name, sig) => {
    const verdict = await verifyBytes(packageBytes(spec({ signatureBytes: sig })));
    expect(failed(verdict)).toContain('signature');
    expect(detail(verdict, 'signature')).toMatch(/^malformed: /);
  });

  it('a manifest that breaks the schema: manifest-schema, then whatever needs the manifest', async () => {
    const bad = Buffer.from(JSON.stringify({ ...manifestFor(IMAGE), extra: 1 }));
    const verdict = await verifyBytes(packageBytes(spec({ manifestBytes: bad })));
    expect(failed(verdict)).toEqual([
      'manifest-schema',
      'image-size',
      'image-hash',
      'model',
      'expiry',
      'version',
    ]);
    expect(detail(verdict, 'manifest-schema')).toBe('unexpected field "extra"');
    expect(detail(verdict, 'model')).toBe('not checked: no valid manifest');
    expect(verdict.signers).toEqual([vendor.id]);
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_MANIFEST_INVALID');
  });

  it('the wrong device model: model', async () => {
    const verdict = await verifyBytes(packageBytes(spec()), { model: 'Fusion P3' });
    expect(failed(verdict)).toEqual(['model']);
    expect(detail(verdict, 'model')).toBe(
      'the package is for Fusion P5, Fusion P5 Pro, not for "Fusion P3"',
    );
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_MODEL_MISMATCH');
    expect(firmwareErrorOf(verdict)?.status).toBe(409);
  });

  it('an expired manifest, at and after its expiry: expiry', async () => {
    const bytes = packageBytes(spec());
    for (const now of [new Date('2027-05-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z')]) {
      const verdict = await verifyBytes(bytes, { now });
      expect(failed(verdict)).toEqual(['expiry']);
      expect(detail(verdict, 'expiry')).toMatch(/^the manifest expired at 2027-05-01T00:00:00Z/);
    }
    const justBefore = await verifyBytes(bytes, { now: new Date('2027-04-30T23:59:59Z') });
    expect(justBefore.ok).toBe(true);
  });

  it.each([
    [
      'an older version (replayed old package)',
      '4.4.0',
      /older than the installed 4\.4\.0: refused as a rollback/,
    ],
    ['the same version', '4.3.0', /the same as the installed 4\.3\.0/],
    ['the same version with other build metadata', '4.3.0+build.7', /the same as/],
  ])('%s: version', async (_name, installed, reason) => {
    const verdict = await verifyBytes(packageBytes(spec()), { installedVersion: installed });
    expect(failed(verdict)).toEqual(['version']);
    expect(detail(verdict, 'version')).toMatch(reason);
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_ROLLBACK');
  });

  it('a pre-release over its release: version', async () => {
    const image = IMAGE;
    const verdict = await verifyBytes(
      packageBytes(spec({ manifest: manifestFor(image, { version: '4.3.0-rc.2' }) })),
      { installedVersion: '4.3.0' },
    );
    expect(failed(verdict)).toEqual(['version']);
  });

  it('accepts a downgrade only when the signed manifest allows it', async () => {
    const downgrade = spec({
      manifest: manifestFor(IMAGE, { version: '4.1.0', allowDowngrade: true }),
    });
    const allowed = await verifyBytes(packageBytes(downgrade), { installedVersion: '4.3.0' });
    expect(allowed.ok).toBe(true);
    expect(detail(allowed, 'version')).toMatch(
      /older than the installed 4\.3\.0; the signed manifest allows a downgrade/,
    );
    // The same manifest with allowDowngrade added after signing: the signature no longer holds.
    const unsigned = signedManifest(spec({ manifest: manifestFor(IMAGE, { version: '4.1.0' }) }));
    const forged = packageBytes(
      spec({
        manifestBytes: serializeManifest(
          manifestFor(IMAGE, { version: '4.1.0', allowDowngrade: true }),
        ),
        signatureBytes: unsigned.signatureBytes!,
      }),
    );
    const refused = await verifyBytes(forged, { installedVersion: '4.3.0' });
    expect(refused.ok).toBe(false);
    expect(failed(refused)).toContain('signature');
  });

  it('a truncated package, wherever it is cut: package-format', async () => {
    const bytes = packageBytes(spec());
    const cuts = [
      0,
      100,
      512,
      700,
      1536,
      2048 + 30_000,
      bytes.length - 1024 - 10,
      bytes.length - 1024,
      bytes.length - 512,
      bytes.length - 1,
    ];
    for (const cut of cuts) {
      const verdict = await verifyBytes(bytes.subarray(0, cut));
      expect(failed(verdict)[0], `cut at ${cut}`).toBe('package-format');
      expect(detail(verdict, 'package-format'), `cut at ${cut}`).toMatch(
        /truncated|empty|multiple of 512/,
      );
      expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_PACKAGE_INVALID');
    }
  });

  const manifestEntry = (): RawEntry => ({
    name: 'manifest.json',
    data: signedManifest(spec()).manifestBytes,
  });
  const sigEntry = (): RawEntry => ({
    name: 'manifest.sig',
    data: signedManifest(spec()).signatureBytes!,
  });
  const imageEntry = (): RawEntry => ({ name: 'firmware.bin', data: IMAGE });
  const hostile: Array<[string, RawEntry[], RegExp]> = [
    [
      'a "../" path',
      [manifestEntry(), sigEntry(), { name: '../firmware.bin', data: IMAGE }],
      /"\.\.\/firmware\.bin" has a "\.\." component \(path traversal\)/,
    ],
    [
      'an absolute path',
      [manifestEntry(), sigEntry(), { name: '/etc/x', data: IMAGE }],
      /"\/etc\/x" has an absolute path/,
    ],
    [
      'a traversal in the ustar prefix',
      [manifestEntry(), { name: 'x', prefix: '..', data: IMAGE }],
      /"\.\.\/x" has a "\.\." component/,
    ],
    [
      'a sub-directory path',
      [manifestEntry(), { name: 'fw/firmware.bin', data: IMAGE }],
      /is a path; only plain file names/,
    ],
    [
      'a "./" path',
      [{ name: './manifest.json', data: Buffer.from('{}') }],
      /"\.\/manifest\.json" is a path/,
    ],
    [
      'a symbolic link',
      [manifestEntry(), sigEntry(), { name: 'firmware.bin', type: '2', linkname: '/dev/sda' }],
      /"firmware\.bin" is a symbolic link to "\/dev\/sda"; a package holds only regular files/,
    ],
    [
      'a hard link',
      [manifestEntry(), { name: 'firmware.bin', type: '1', linkname: 'manifest.json' }],
      /is a hard link/,
    ],
    ['a directory', [{ name: 'dir', type: '5' }, manifestEntry()], /"dir" is a directory/],
    ['a character device', [manifestEntry(), { name: 'tty', type: '3' }], /a character device/],
    ['a FIFO', [manifestEntry(), { name: 'pipe', type: '6' }], /a FIFO/],
    [
      'a pax header',
      [
        { name: 'PaxHeader', type: 'x', data: Buffer.from('30 path=../../etc/passwd\n') },
        manifestEntry(),
      ],
      /a pax extended header/,
    ],
    [
      'a GNU long name',
      [{ name: '././@LongLink', type: 'L', data: Buffer.from('../x\0') }, manifestEntry()],
      /a GNU long-name header/,
    ],
    [
      'a duplicate manifest',
      [manifestEntry(), sigEntry(), manifestEntry(), imageEntry()],
      /"manifest\.json" appears twice/,
    ],
    [
      'a duplicate image',
      [manifestEntry(), sigEntry(), imageEntry(), imageEntry()],
      /"firmware\.bin" appears twice/,
    ],
    [
      'an extra entry',
      [manifestEntry(), sigEntry(), imageEntry(), { name: 'README', data: Buffer.from('hi') }],
      /extra entry "README"/,
    ],
    [
      'a bad header checksum',
      [manifestEntry(), sigEntry(), { ...imageEntry(), corruptChecksum: true }],
      /checksum does not match/,
    ],
    ['an old v7 header', [{ ...manifestEntry(), magic: 'v7' }], /not a ustar header/],
    [
      'non-zero padding',
      [manifestEntry(), { ...sigEntry(), paddingByte: 0x41 }, imageEntry()],
      /non-zero bytes in the padding after entry "manifest\.sig"/,
    ],
    [
      'a control character in a name',
      [{ name: 'a\nb', data: Buffer.from('x') }],
      /not a plain file name/,
    ],
    [
      'an oversized manifest',
      [{ name: 'manifest.json', data: Buffer.alloc(20_000, 0x20) }],
      /manifest\.json is 20000 bytes; at most 16384/,
    ],
  ];

  it.each(hostile)('an archive with %s: package-format', async (_name, entries, reason) => {
    const verdict = await verifyBytes(rawTar(entries));
    expect(failed(verdict)[0]).toBe('package-format');
    expect(detail(verdict, 'package-format')).toMatch(reason);
    expect(verdict.ok).toBe(false);
  });

  it.each<[string, (b: Buffer) => Buffer, RegExp]>([
    [
      'data after the end marker',
      (b) => Buffer.concat([b, Buffer.from('appended')]),
      /data after the end-of-archive marker/,
    ],
    [
      'a zero block followed by data',
      (b) => Buffer.concat([b.subarray(0, b.length - 512), Buffer.alloc(512, 1)]),
      /a lone zero block/,
    ],
    ['no end marker', (b) => b.subarray(0, b.length - 1024), /without its end-of-archive marker/],
    [
      'one end block only',
      (b) => b.subarray(0, b.length - 512),
      /after one of its two zero end blocks/,
    ],
    [
      'a length not a multiple of 512',
      (b) => Buffer.concat([b, Buffer.alloc(100)]),
      /not a multiple of 512/,
    ],
    [
      'an image whose name differs from the manifest',
      () => packageBytes(spec({ imageName: 'other.bin' })),
      /the image entry is "other\.bin" but the manifest names "firmware\.bin"/,
    ],
    ['no image', () => rawTar([manifestEntry(), sigEntry()]), /no image file/],
    ['no manifest', () => rawTar([sigEntry(), imageEntry()]), /no manifest\.json/],
  ])('%s: package-format', async (_name, mutate, reason) => {
    const verdict = await verifyBytes(mutate(packageBytes(spec())));
    expect(failed(verdict)[0]).toBe('package-format');
    expect(detail(verdict, 'package-format')).toMatch(reason);
  });
});

describe('size limits and memory', () => {
  it('refuses a file over maxBytes without reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-fw-'));
    try {
      const file = join(dir, 'big.tar');
      const bytes = packageBytes(spec());
      await writeFile(file, bytes);
      let progress = 0;
      const verdict = await verifyPackage(file, TRUST, {
        ...CONTEXT,
        maxBytes: bytes.length - 1,
        onProgress: () => (progress += 1),
      });
      expect(failed(verdict)[0]).toBe('package-format');
      expect(detail(verdict, 'package-format')).toMatch(/larger than the limit of/);
      expect(progress).toBe(0);
      expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_TOO_LARGE');
      expect(firmwareErrorOf(verdict)?.status).toBe(413);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops reading an endless stream at maxBytes', async () => {
    let pulled = 0;
    const chunk = Buffer.alloc(64 * 1024);
    const endless = Readable.from(
      (function* () {
        yield Buffer.concat([ustarHeader('firmware.bin', 2 ** 32, 0)]);
        for (;;) {
          pulled += chunk.length;
          yield chunk;
        }
      })(),
    );
    const verdict = await verifyPackage(endless, TRUST, { ...CONTEXT, maxBytes: 1024 * 1024 });
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_TOO_LARGE');
    expect(detail(verdict, 'package-format')).toMatch(/declares 4294967296 bytes/);
    // Readable.from reads a few chunks ahead; nothing near the declared 4 GiB is pulled.
    expect(pulled).toBeLessThan(4 * 1024 * 1024);
  });

  it('stops reading a stream that grows past maxBytes', async () => {
    const bytes = packageBytes(spec());
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += 1000) {
          pulled += 1000;
          yield bytes.subarray(i, i + 1000);
        }
      })(),
    );
    const verdict = await verifyPackage(source, TRUST, { ...CONTEXT, maxBytes: 20_000 });
    expect(firmwareErrorOf(verdict)?.code).toBe('FIRMWARE_TOO_LARGE');
    expect(pulled).toBeLessThan(40_000);
  });

  it(
    'verifies a 200 MB image streamed through with bounded memory',
    { timeout: 60_000 },
    async () => {
      const size = 200 * 1024 * 1024;
      const block = randomBytes(1024 * 1024);
      const { createHash } = await import('node:crypto');
      const hash = createHash('sha256');
      for (let i = 0; i < size / block.length; i += 1) hash.update(block);
      const manifest = manifestFor(Buffer.alloc(0), { size, sha256: hash.digest('hex') });
      const manifestBytes = serializeManifest(manifest);
      const sig = formatSignatureFile([signManifest(manifestBytes, vendor.privateKey)]);
      const head = Buffer.concat([
        ustarHeader('manifest.json', manifestBytes.length, 0),
        manifestBytes,
        ustarPadding(manifestBytes.length),
        ustarHeader('manifest.sig', sig.length, 0),
        sig,
        ustarPadding(sig.length),
        ustarHeader('firmware.bin', size, 0),
      ]);
      const source = Readable.from(
        (function* () {
          yield head;
          for (let i = 0; i < size / block.length; i += 1) yield block;
          yield Buffer.alloc(1024);
        })(),
      );
      const usage = (): number => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      const before = usage();
      let peak = before;
      const verdict = await verifyPackage(source, TRUST, {
        ...CONTEXT,
        maxBytes: 300 * 1024 * 1024,
        onProgress: () => (peak = Math.max(peak, usage())),
      });
      expect(failed(verdict)).toEqual([]);
      expect(verdict.ok).toBe(true);
      // 200 MB went through; buffering even a fifth of it would show here.
      expect(peak - before).toBeLessThan(16 * 1024 * 1024);
    },
  );
});

describe('thresholds', () => {
  const trust = createTrustPolicy([vendor.key(), second.key(), third.key(), old.key(true)], 2);

  it('2 of 3: refuses one signature, accepts two', async () => {
    const one = await verifyBytes(packageBytes(spec({ signers: [vendor.privateKey] })), {}, trust);
    expect(failed(one)).toEqual(['threshold']);
    expect(detail(one, 'threshold')).toBe('1 of 2 required signatures from distinct active keys');
    expect(firmwareErrorOf(one)?.code).toBe('FIRMWARE_THRESHOLD_NOT_MET');
    const two = await verifyBytes(
      packageBytes(spec({ signers: [vendor.privateKey, third.privateKey] })),
      {},
      trust,
    );
    expect(two.ok).toBe(true);
    expect(two.signers).toEqual([vendor.id, third.id]);
  });

  it('counts a key once however often it signed, and never a retired key', async () => {
    const twice = await verifyBytes(
      packageBytes(spec({ signers: [second.privateKey, second.privateKey] })),
      {},
      trust,
    );
    expect(failed(twice)).toEqual(['threshold']);
    const withRetired = await verifyBytes(
      packageBytes(spec({ signers: [second.privateKey, old.privateKey] })),
      {},
      trust,
    );
    expect(failed(withRetired)).toEqual(['threshold']);
    expect(detail(withRetired, 'known-key')).toMatch(
      /retired key .* also signed but signatures by retired keys do not count/,
    );
  });

  it('says when a hand-made policy can never be met', async () => {
    const verdict = await verifyBytes(
      packageBytes(spec()),
      {},
      { keys: [vendor.key()], threshold: 2 },
    );
    expect(detail(verdict, 'threshold')).toMatch(/cannot be met: only 1 active key configured/);
  });

  it('refuses everything with no keys configured', async () => {
    const verdict = await verifyBytes(packageBytes(spec()), {}, { keys: [], threshold: 1 });
    expect(detail(verdict, 'signature')).toMatch(/no vendor keys are configured/);
  });
});

describe('hostile input (properties)', () => {
  const small = IMAGE.subarray(0, 1500);
  const good = packageBytes(spec({ image: small, manifest: manifestFor(small) }));

  it('any single changed byte is refused, or changes nothing that is signed or installed', async () => {
    const reference = await inspectPackage(streamOf(good), { maxBytes: CONTEXT.maxBytes });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bytes = Buffer.from(good);
          bytes[at] = bytes[at]! ^ xor;
          const verdict = await verifyBytes(bytes);
          if (!verdict.ok) return;
          const contents = await inspectPackage(streamOf(bytes), { maxBytes: CONTEXT.maxBytes });
          expect(contents.manifestBytes).toEqual(reference.manifestBytes);
          expect(contents.signatureBytes).toEqual(reference.signatureBytes);
          expect(contents.image).toEqual(reference.image);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes or cuts, and never accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)),
          fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.subarray(0, n)),
          fc
            .tuple(
              fc.integer({ min: 0, max: good.length }),
              fc.uint8Array({ minLength: 1, maxLength: 600 }),
            )
            .map(([n, a]) => Buffer.concat([good.subarray(0, n), Buffer.from(a)])),
        ),
        async (bytes) => {
          const verdict = await verifyBytes(bytes);
          expect(verdict.ok).toBe(false);
          expect(verdict.checks).toHaveLength(CHECK_NAMES.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('verifyPackage context', () => {
  it.each<[string, Partial<VerifyContext>]>([
    ['a zero maxBytes', { maxBytes: 0 }],
    ['an installed version that is not semver', { installedVersion: 'v4.2' }],
    ['an invalid now', { now: new Date(Number.NaN) }],
  ])('throws on %s', async (_name, context) => {
    await expect(verifyBytes(packageBytes(spec()), context)).rejects.toThrow(
      /maxBytes|semantic version|not a valid time/,
    );
  });

  it('throws for a path that cannot be read', async () => {
    await expect(verifyPackage('/nonexistent/p.tar', TRUST, CONTEXT)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
