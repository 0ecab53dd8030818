// Keys and signatures interoperate with the openssl CLI both ways (DESIGN §4.5): a manifest signed
// with `openssl pkeyutl -sign -rawin` is accepted, and one signed here verifies with
// `openssl pkeyutl -verify -rawin` after extracting the package with the system's tar.

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW } from './package-test-harness.js';
import {
  addPackageSignature,
  packPackage,
  readPackageManifest,
  signPackage,
} from './package-writer.js';
import {
  createTrustPolicy,
  loadVendorKeys,
  readSigningKey,
  writeVendorKeyPair,
} from './vendor-keys.js';
import { verifyPackage } from './verify-package.js';

const version = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const hasOpenssl = version.status === 0 && spawnSync('tar', ['--version']).status === 0;
const title = hasOpenssl
  ? `interoperates with the openssl CLI (${version.stdout.trim()})`
  : 'interoperates with the openssl CLI (skipped: no openssl or tar on PATH)';

function run(command: string, args: string[]): string {
  const res = spawnSync(command, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

describe.skipIf(!hasOpenssl)(title, () => {
  let dir: string;
  let imagePath: string;
  const context = { now: NOW, maxBytes: 10 * 1024 * 1024, model: 'Fusion P5' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-openssl-'));
    imagePath = join(dir, 'firmware.bin');
    await writeFile(imagePath, randomBytes(50_000));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function pack(name: string): Promise<string> {
    const out = join(dir, `${name}.tar`);
    await packPackage(
      {
        imagePath,
        name: 'fusion-fw',
        version: '4.3.0',
        models: ['Fusion P5'],
        releasedAt: '2026-05-01T00:00:00Z',
        expiresAt: '2027-05-01T00:00:00Z',
      },
      out,
    );
    return out;
  }

  it('accepts a manifest signed with openssl pkeyutl and keys made by openssl genpkey', async () => {
    const key = join(dir, 'ossl.key');
    const pub = join(dir, 'ossl.pub.pem');
    run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    run('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
    const pkg = await pack('by-openssl');
    const manifestPath = join(dir, 'manifest.json');
    await writeFile(manifestPath, (await readPackageManifest(pkg)).manifestBytes);
    const sigPath = join(dir, 'sig.bin');
    run('openssl', [
      'pkeyutl',
      '-sign',
      '-inkey',
      key,
      '-rawin',
      '-in',
      manifestPath,
      '-out',
      sigPath,
    ]);

    const [vendorKey] = await loadVendorKeys([{ file: pub }]);
    const added = await addPackageSignature(pkg, await readFile(sigPath), vendorKey!.publicKey, {
      now: NOW,
    });
    expect(added.keyId).toBe(vendorKey!.id);
    const verdict = await verifyPackage(pkg, createTrustPolicy([vendorKey!]), context);
    expect(verdict.ok).toBe(true);
    // openssl signs the same bytes with the same key identically (Ed25519 is deterministic).
    expect(await signPackage(pkg, await readSigningKey(key), { now: NOW })).toMatchObject({
      added: false,
    });
  });

  it('makes keys and signatures that openssl reads and verifies', async () => {
    const prefix = join(dir, 'ours');
    const { keyPath, publicKeyPath, keyId } = await writeVendorKeyPair(prefix);
    expect(run('openssl', ['pkey', '-in', keyPath, '-pubout'])).toBe(
      await readFile(publicKeyPath, 'utf8'),
    );
    const der = spawnSync('openssl', [
      'pkey',
      '-pubin',
      '-in',
      publicKeyPath,
      '-outform',
      'DER',
    ]).stdout;
    expect(createHash('sha256').update(der).digest('hex').slice(0, 16)).toBe(keyId);

    const pkg = await pack('by-us');
    await signPackage(pkg, await readSigningKey(keyPath), { now: NOW });
    const extracted = join(dir, 'extracted');
    await mkdir(extracted);
    run('tar', ['-xf', pkg, '-C', extracted]);
    const sigBin = join(dir, 'ours.sig.bin');
    const sigText = await readFile(join(extracted, 'manifest.sig'), 'utf8');
    expect(sigText).toMatch(/^[A-Za-z0-9+/]{86}==\n$/);
    await writeFile(sigBin, Buffer.from(sigText, 'base64'));
    const manifest = join(extracted, 'manifest.json');
    const ok = run('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      publicKeyPath,
      '-rawin',
      '-in',
      manifest,
      '-sigfile',
      sigBin,
    ]);
    expect(ok).toMatch(/Signature Verified Successfully/);
    const sha = createHash('sha256')
      .update(await readFile(join(extracted, 'firmware.bin')))
      .digest('hex');
    expect(JSON.parse(await readFile(manifest, 'utf8'))).toMatchObject({ sha256: sha });

    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('4.3.0', '9.3.0'));
    const forged = spawnSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        publicKeyPath,
        '-rawin',
        '-in',
        manifest,
        '-sigfile',
        sigBin,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(forged.status).not.toBe(0);
  });

  it('verifies a package assembled by hand with tar --format=ustar', async () => {
    const prefix = join(dir, 'hand');
    const { keyPath, publicKeyPath } = await writeVendorKeyPair(prefix);
    const pkg = await pack('hand-src');
    const parts = join(dir, 'parts');
    await mkdir(parts);
    run('tar', ['-xf', pkg, '-C', parts]);
    run('openssl', [
      'pkeyutl',
      '-sign',
      '-inkey',
      keyPath,
      '-rawin',
      '-in',
      join(parts, 'manifest.json'),
      '-out',
      join(dir, 'hand.sig.bin'),
    ]);
    await writeFile(
      join(parts, 'manifest.sig'),
      `${(await readFile(join(dir, 'hand.sig.bin'))).toString('base64')}\n`,
    );
    const hand = join(dir, 'hand.tar');
    run('tar', [
      '--format=ustar',
      '-cf',
      hand,
      '-C',
      parts,
      'manifest.json',
      'manifest.sig',
      'firmware.bin',
    ]);
    const verdict = await verifyPackage(
      hand,
      createTrustPolicy(await loadVendorKeys([{ file: publicKeyPath }])),
      context,
    );
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
