import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { signManifest } from './manifest-signatures.js';
import { makeVendor, NOW, sha256Hex } from './package-test-harness.js';
import {
  addPackageSignature,
  packPackage,
  readPackageManifest,
  signPackage,
  type PackInput,
} from './package-writer.js';
import { inspectPackage } from './package-reader.js';
import { createTrustPolicy } from './vendor-keys.js';
import { verifyPackage } from './verify-package.js';

describe('packPackage and signPackage', () => {
  let dir: string;
  let imagePath: string;
  const image = randomBytes(300_000);
  const vendor = makeVendor();
  const other = makeVendor();
  const trust = createTrustPolicy([vendor.key(), other.key()]);
  const context = { now: NOW, maxBytes: 10 * 1024 * 1024 };

  const input = (overrides: Partial<PackInput> = {}): PackInput => ({
    imagePath,
    name: 'fusion-fw',
    version: '4.3.0',
    models: ['Fusion P5'],
    releasedAt: '2026-05-01T10:00:00.750Z',
    expiresAt: new Date('2027-05-01T00:00:00Z'),
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-pack-'));
    imagePath = join(dir, 'firmware.bin');
    await writeFile(imagePath, image);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('packs, signs and verifies: the round trip', async () => {
    const out = join(dir, 'round.tar');
    const progress: number[] = [];
    const packed = await packPackage(input(), out, { onProgress: (done) => progress.push(done) });
    expect(packed.manifest).toEqual({
      name: 'fusion-fw',
      models: ['Fusion P5'],
      version: '4.3.0',
      size: image.length,
      sha256: sha256Hex(image),
      image: 'firmware.bin',
      releasedAt: '2026-05-01T10:00:00Z',
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expect(progress.at(-1)).toBe(2 * image.length);
    const unsigned = await verifyPackage(out, trust, context);
    expect(unsigned.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'signature',
      'known-key',
      'threshold',
    ]);

    const signed = await signPackage(out, vendor.privateKey, { now: NOW });
    expect(signed).toMatchObject({ path: out, keyId: vendor.id, added: true, signatures: 1 });
    const verdict = await verifyPackage(out, trust, {
      ...context,
      model: 'Fusion P5',
      installedVersion: '4.2.0',
    });
    expect(verdict.ok).toBe(true);
    expect(verdict.signers).toEqual([vendor.id]);

    const contents = await inspectPackage(out, { maxBytes: context.maxBytes });
    expect(contents.entries).toEqual(['manifest.json', 'manifest.sig', 'firmware.bin']);
    expect(contents.manifestBytes).toEqual(packed.manifestBytes);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the same bytes for the same input (reproducible packages)', async () => {
    await packPackage(input(), join(dir, 'r1.tar'));
    await packPackage(input(), join(dir, 'r2.tar'));
    expect(await readFile(join(dir, 'r1.tar'))).toEqual(await readFile(join(dir, 'r2.tar')));
  });

  it('adds one line per key, keeps earlier ones, and does not sign twice with one key', async () => {
    const out = join(dir, 'multi.tar');
    await packPackage(input(), out);
    await signPackage(out, vendor.privateKey, { now: NOW });
    const second = await signPackage(out, other.privateKey, { now: NOW });
    expect(second).toMatchObject({ added: true, signatures: 2 });
    const again = await signPackage(out, vendor.privateKey, { now: NOW });
    expect(again).toMatchObject({ added: false, signatures: 2 });
    const verdict = await verifyPackage(
      out,
      createTrustPolicy([vendor.key(), other.key()], 2),
      context,
    );
    expect(verdict.ok).toBe(true);
    const sig =
      (await inspectPackage(out, { maxBytes: context.maxBytes })).signatureBytes?.toString() ?? '';
    expect(sig.split('\n')).toHaveLength(3);
  });

  it('adds an external signature only if it verifies with the given key', async () => {
    const out = join(dir, 'external.tar');
    const { manifestBytes } = await packPackage(input(), out);
    expect((await readPackageManifest(out)).manifestBytes).toEqual(manifestBytes);
    const wrong = signManifest(Buffer.concat([manifestBytes, Buffer.from(' ')]), vendor.privateKey);
    await expect(addPackageSignature(out, wrong, vendor.publicKey, { now: NOW })).rejects.toThrow(
      /does not verify with key/,
    );
    await expect(
      addPackageSignature(out, signManifest(manifestBytes, vendor.privateKey), other.publicKey, {
        now: NOW,
      }),
    ).rejects.toThrow(/does not verify/);
    const added = await addPackageSignature(
      out,
      signManifest(manifestBytes, vendor.privateKey),
      vendor.publicKey,
      {
        now: NOW,
      },
    );
    expect(added).toMatchObject({ added: true, keyId: vendor.id });
    expect((await verifyPackage(out, trust, context)).ok).toBe(true);
  });

  it('writes the signed package elsewhere with out, leaving the input as it was', async () => {
    const out = join(dir, 'in.tar');
    await packPackage(input(), out);
    const before = await readFile(out);
    const signedPath = join(dir, 'signed.tar');
    await signPackage(out, vendor.privateKey, { now: NOW, out: signedPath });
    expect(await readFile(out)).toEqual(before);
    expect((await verifyPackage(signedPath, trust, context)).ok).toBe(true);
    await expect(
      signPackage(out, other.privateKey, { now: NOW, out: signedPath }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('refuses to sign a package whose image does not match its manifest, or that has expired', async () => {
    const out = join(dir, 'tampered.tar');
    await packPackage(input(), out);
    const bytes = await readFile(out);
    bytes[2048 + 100] = bytes[2048 + 100]! ^ 1;
    await writeFile(out, bytes);
    await expect(signPackage(out, vendor.privateKey, { now: NOW })).rejects.toThrow(
      /image-hash: the image's sha256/,
    );
    const old = join(dir, 'old.tar');
    await packPackage(input(), old);
    await expect(
      signPackage(old, vendor.privateKey, { now: new Date('2028-01-01T00:00:00Z') }),
    ).rejects.toThrow(/expiry: the manifest expired/);
  });

  it.each<[string, Partial<PackInput>, RegExp]>([
    ['a bad version', { version: '4.3' }, /"version"/],
    ['no models', { models: [] }, /"models"/],
    ['an expiry before the release', { expiresAt: '2026-01-01T00:00:00Z' }, /later than/],
    ['an invalid time', { expiresAt: 'soon' }, /not a valid time/],
    ['an unsafe image name', { imageName: '../fw.bin' }, /cannot be used in a package/],
    [
      'an image named like the manifest',
      { imageName: 'manifest.json' },
      /cannot be used in a package/,
    ],
  ])('refuses to pack with %s', async (_name, overrides, expected) => {
    await expect(packPackage(input(overrides), join(dir, 'bad.tar'))).rejects.toThrow(expected);
  });

  it('refuses an empty image, and an existing output unless told to overwrite', async () => {
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, '');
    await expect(packPackage(input({ imagePath: empty }), join(dir, 'e.tar'))).rejects.toThrow(
      /1 byte to 8 GiB/,
    );
    const out = join(dir, 'exists.tar');
    await packPackage(input(), out);
    await expect(packPackage(input({ version: '4.4.0' }), out)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await packPackage(input({ version: '4.4.0' }), out, { overwrite: true });
    const { manifestBytes } = await readPackageManifest(out);
    const parsed = parseManifest(manifestBytes);
    expect(parsed.ok && parsed.manifest.version).toBe('4.4.0');
  });
});
