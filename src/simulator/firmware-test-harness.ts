// Fixtures for firmware update tests: vendor keys made at test time and real package files made
// with the firmware subsystem's own tools (pack, sign), plus the forgeries a device must refuse —
// a changed manifest, a changed image, a cut-off archive — made by editing those files.

import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateVendorKeyPair,
  packPackage,
  parseSigningKey,
  parseVendorKey,
  signPackage,
  type VendorKey,
} from '../firmware/index.js';

export interface TestVendor {
  signingKey: KeyObject;
  publicKeyPem: string;
  /** As a device holds it. */
  key: VendorKey;
}

export interface PackageSpec {
  version: string;
  models: readonly string[];
  releasedAt?: string;
  expiresAt?: string;
  allowDowngrade?: boolean;
  /** Image size in bytes (default 20 000). */
  imageBytes?: number;
  /** Who signs: the trusted vendor (default), another vendor, or nobody. */
  signer?: 'vendor' | 'stranger' | 'none';
}

export interface FirmwareKit {
  dir: string;
  vendor: TestVendor;
  stranger: TestVendor;
  /** A package file, signed as asked. */
  pack(spec: PackageSpec): Promise<string>;
  /** A copy of a package with `edit` applied to its bytes. */
  forge(path: string, edit: (bytes: Buffer) => Buffer): Promise<string>;
  cleanup(): Promise<void>;
}

export function makeTestVendor(): TestVendor {
  const pair = generateVendorKeyPair();
  return {
    signingKey: parseSigningKey(pair.privateKeyPem),
    publicKeyPem: pair.publicKeyPem,
    key: parseVendorKey(pair.publicKeyPem),
  };
}

export async function createFirmwareKit(): Promise<FirmwareKit> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-fw-kit-'));
  const vendor = makeTestVendor();
  const stranger = makeTestVendor();
  let n = 0;
  return {
    dir,
    vendor,
    stranger,
    async pack(spec) {
      n += 1;
      const image = join(dir, `image-${n}.bin`);
      await writeFile(image, randomBytes(spec.imageBytes ?? 20_000));
      const out = join(dir, `package-${n}.tar`);
      const releasedAt = spec.releasedAt ?? new Date(Date.now() - 86_400_000).toISOString();
      await packPackage(
        {
          imagePath: image,
          imageName: 'firmware.bin',
          name: 'fusion-fw',
          version: spec.version,
          models: [...spec.models],
          releasedAt,
          expiresAt: spec.expiresAt ?? new Date(Date.now() + 365 * 86_400_000).toISOString(),
          ...(spec.allowDowngrade === true ? { allowDowngrade: true } : {}),
        },
        out,
      );
      await rm(image);
      const signer = spec.signer ?? 'vendor';
      if (signer !== 'none') {
        // Signed as of its release, so that a package meant to be expired can still be made.
        await signPackage(out, (signer === 'vendor' ? vendor : stranger).signingKey, {
          now: new Date(releasedAt),
        });
      }
      return out;
    },
    async forge(path, edit) {
      n += 1;
      const out = join(dir, `forged-${n}.tar`);
      await writeFile(out, edit(await readFile(path)));
      return out;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Offset of the data of the tar entry named `name` (entries start on 512-byte blocks). */
function entryData(bytes: Buffer, name: string): number {
  const wanted = Buffer.from(`${name}\0`, 'latin1');
  for (let at = 0; at + 512 <= bytes.length; at += 512) {
    if (bytes.subarray(at, at + wanted.length).equals(wanted)) return at + 512;
  }
  throw new Error(`no entry ${name} in the package`);
}

/** One byte of the image changed: the manifest (and its signature) still hold. */
export function flipImageByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const at = entryData(copy, 'firmware.bin') + 100;
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return copy;
}

/** The manifest's version rewritten in place (same length), so the signature no longer holds. */
export function rewriteVersion(from: string, to: string): (bytes: Buffer) => Buffer {
  if (from.length !== to.length) throw new Error('same length only');
  return (bytes) => {
    const copy = Buffer.from(bytes);
    const at = copy.indexOf(`"version": "${from}"`, entryData(copy, 'manifest.json'), 'latin1');
    if (at < 0) throw new Error(`no version ${from} in the manifest`);
    copy.write(`"version": "${to}"`, at, 'latin1');
    return copy;
  };
}

/** The archive cut off inside the image. */
export function truncate(bytes: Buffer): Buffer {
  return Buffer.from(bytes.subarray(0, entryData(bytes, 'firmware.bin') + 1000));
}
