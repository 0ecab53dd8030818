// Fixtures for firmware tests: vendor keys made at test time, packages assembled in memory, and a
// raw tar writer — independent of tar-format.ts — that also writes what a real package never holds
// (links, paths, bad checksums, bad padding), to forge hostile packages.

import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { serializeManifest, type FirmwareManifest } from './manifest.js';
import { formatSignatureFile, signManifest } from './manifest-signatures.js';
import { keyIdOf, type VendorKey } from './vendor-keys.js';

export const NOW = new Date('2026-06-01T00:00:00Z');

export interface TestVendor {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
  /** As a verifier holds it. */
  key(retired?: boolean): VendorKey;
}

export function makeVendor(): TestVendor {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const id = keyIdOf(publicKey);
  return {
    id,
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    key: (retired = false) => ({ id, publicKey, retired }),
  };
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function manifestFor(
  image: Buffer,
  overrides: Partial<FirmwareManifest> = {},
): FirmwareManifest {
  return {
    name: 'fusion-fw',
    models: ['Fusion P5', 'Fusion P5 Pro'],
    version: '4.3.0',
    size: image.length,
    sha256: sha256Hex(image),
    image: 'firmware.bin',
    releasedAt: '2026-05-01T00:00:00Z',
    expiresAt: '2027-05-01T00:00:00Z',
    ...overrides,
  };
}

export interface RawEntry {
  name: string;
  data?: Buffer;
  /** Type flag, '0' by default. */
  type?: string;
  linkname?: string;
  prefix?: string;
  /** The size written in the header, when it must differ from the data's length. */
  declaredSize?: number;
  magic?: 'posix' | 'gnu' | 'v7';
  corruptChecksum?: boolean;
  /** Byte written into the padding after the data. */
  paddingByte?: number;
}

function put(block: Buffer, offset: number, length: number, text: string): void {
  block.write(text.slice(0, length), offset, length, 'latin1');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

export function rawHeader(entry: RawEntry): Buffer {
  const block = Buffer.alloc(512);
  const size = entry.declaredSize ?? entry.data?.length ?? 0;
  put(block, 0, 100, entry.name);
  put(block, 100, 8, octal(0o644, 8));
  put(block, 108, 8, octal(1000, 8));
  put(block, 116, 8, octal(1000, 8));
  put(block, 124, 12, octal(size, 12));
  put(block, 136, 12, octal(1_780_000_000, 12));
  put(block, 156, 1, entry.type ?? '0');
  put(block, 157, 100, entry.linkname ?? '');
  const magic = entry.magic ?? 'posix';
  if (magic === 'posix') put(block, 257, 8, 'ustar\u000000');
  if (magic === 'gnu') put(block, 257, 8, 'ustar  \u0000');
  put(block, 345, 155, entry.prefix ?? '');
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  if (entry.corruptChecksum) sum += 1;
  put(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

export function rawTar(entries: readonly RawEntry[], options: { endBlocks?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    parts.push(rawHeader(entry), data);
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(Buffer.alloc(pad, entry.paddingByte ?? 0));
  }
  parts.push(Buffer.alloc(512 * (options.endBlocks ?? 2)));
  return Buffer.concat(parts);
}

export interface PackageSpec {
  image: Buffer;
  manifest?: FirmwareManifest;
  /** Exact manifest.json bytes (default: the canonical bytes of `manifest`). */
  manifestBytes?: Buffer;
  /** Keys that sign the manifest bytes; none leaves manifest.sig out. */
  signers?: readonly KeyObject[];
  /** Exact manifest.sig bytes, instead of signing. */
  signatureBytes?: Buffer;
  imageName?: string;
  /** Entries appended after the image. */
  extra?: readonly RawEntry[];
}

export function signedManifest(spec: PackageSpec): {
  manifestBytes: Buffer;
  signatureBytes: Buffer | null;
} {
  const manifestBytes =
    spec.manifestBytes ?? serializeManifest(spec.manifest ?? manifestFor(spec.image));
  const signers = spec.signers ?? [];
  const signatureBytes =
    spec.signatureBytes ??
    (signers.length > 0
      ? formatSignatureFile(signers.map((k) => signManifest(manifestBytes, k)))
      : null);
  return { manifestBytes, signatureBytes };
}

/** A package as bytes, laid out as packPackage + signPackage write it. */
export function packageBytes(spec: PackageSpec): Buffer {
  const { manifestBytes, signatureBytes } = signedManifest(spec);
  const entries: RawEntry[] = [{ name: 'manifest.json', data: manifestBytes }];
  if (signatureBytes !== null) entries.push({ name: 'manifest.sig', data: signatureBytes });
  entries.push({ name: spec.imageName ?? 'firmware.bin', data: spec.image }, ...(spec.extra ?? []));
  return rawTar(entries);
}

/** A stream of `bytes` in chunks of `chunkSize`. */
export function streamOf(bytes: Buffer, chunkSize = 4096): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}
