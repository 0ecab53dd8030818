// Making packages: `pack` writes an unsigned package (manifest.json + image); `sign` rewrites it
// with one more signature line in manifest.sig, so several vendors can sign one manifest for a
// threshold. Entry order is manifest.json, manifest.sig, image, so a device reads the signed
// manifest before the image. Files are written to a temporary file and moved into place, never
// half-written; the image is streamed, hashed again while copied, and never held in memory.

import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CcError } from '../domain/index.js';
import {
  MANIFEST_FILE,
  MAX_IMAGE_BYTES,
  SIGNATURE_FILE,
  serializeManifest,
  validateManifest,
  type FirmwareManifest,
} from './manifest.js';
import {
  formatSignatureFile,
  MAX_SIGNATURES,
  parseSignatureFile,
  signManifest,
  verifyManifestSignature,
} from './manifest-signatures.js';
import { inspectPackage, type PackageContents } from './package-reader.js';
import { END_OF_ARCHIVE_BYTES, ustarHeader, ustarPadding, unsafeNameReason } from './tar-format.js';
import { judgePackage, type CheckName } from './verify-package.js';
import { keyIdOf } from './vendor-keys.js';

export interface PackInput {
  imagePath: string;
  name: string;
  version: string;
  models: string[];
  /** Default: now. */
  releasedAt?: Date | string;
  expiresAt: Date | string;
  allowDowngrade?: boolean;
  /** The image's name inside the package; default: the image file's base name. */
  imageName?: string;
}

export interface WriteOptions {
  /** Replace an existing output file (default: refuse). */
  overwrite?: boolean;
  /** Bytes processed so far of `total` (the image is read twice when packing). */
  onProgress?: (bytes: number, total: number) => void;
}

export interface PackResult {
  path: string;
  manifest: FirmwareManifest;
  manifestBytes: Buffer;
}

export interface SignOptions extends WriteOptions {
  /** Write the signed package here instead of replacing the input. */
  out?: string;
  /** For the expiry check; default: now. */
  now?: Date;
}

export interface SignResult {
  path: string;
  keyId: string;
  /** False when the key had signed this manifest already (nothing was changed). */
  added: boolean;
  /** Signatures in manifest.sig afterwards. */
  signatures: number;
  manifest: FirmwareManifest;
}

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** An RFC 3339 UTC time in whole seconds (any fraction is dropped). */
function timeOf(value: Date | string, what: string): string {
  const ms = (typeof value === 'string' ? new Date(value) : value).getTime();
  if (Number.isNaN(ms)) {
    throw new CcError('BAD_REQUEST', `${what} is not a valid time: ${String(value)}`);
  }
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await file.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

interface PackageParts {
  manifestBytes: Buffer;
  signatureBytes: Buffer | null;
  imageName: string;
  imageSize: number;
  imageSha256: string;
  mtimeSeconds: number;
  /** Streams the image into `write`, returning its SHA-256 as read this time. */
  copyImage(write: (chunk: Buffer) => Promise<void>): Promise<string>;
}

/** Writes a package to a temporary file beside `outPath`, then moves it into place. */
async function writePackage(
  outPath: string,
  parts: PackageParts,
  overwrite: boolean,
): Promise<void> {
  if (!overwrite && (await exists(outPath))) {
    throw new CcError('CONFLICT', `${outPath} exists; refusing to overwrite it`);
  }
  const temp = join(
    dirname(outPath),
    `.${basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const file = await open(temp, 'wx', 0o644);
  let closed = false;
  try {
    const head = [
      ustarHeader(MANIFEST_FILE, parts.manifestBytes.length, parts.mtimeSeconds),
      parts.manifestBytes,
      ustarPadding(parts.manifestBytes.length),
    ];
    if (parts.signatureBytes !== null) {
      head.push(
        ustarHeader(SIGNATURE_FILE, parts.signatureBytes.length, parts.mtimeSeconds),
        parts.signatureBytes,
        ustarPadding(parts.signatureBytes.length),
      );
    }
    head.push(ustarHeader(parts.imageName, parts.imageSize, parts.mtimeSeconds));
    await writeAll(file, Buffer.concat(head));
    let copied = 0;
    const sha256 = await parts.copyImage(async (chunk) => {
      copied += chunk.length;
      await writeAll(file, chunk);
    });
    if (copied !== parts.imageSize || sha256 !== parts.imageSha256) {
      throw new CcError(
        'CONFLICT',
        'the image changed while the package was being written; try again',
      );
    }
    await writeAll(
      file,
      Buffer.concat([ustarPadding(parts.imageSize), Buffer.alloc(END_OF_ARCHIVE_BYTES)]),
    );
    await file.sync();
    await file.close();
    closed = true;
    if (overwrite) {
      await rename(temp, outPath);
    } else {
      // link() fails if the name appeared meanwhile: never replace a file we were told to keep.
      await link(temp, outPath);
      await rm(temp, { force: true });
    }
  } catch (err) {
    if (!closed) await file.close();
    await rm(temp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CcError('CONFLICT', `${outPath} exists; refusing to overwrite it`);
    }
    throw err;
  }
}

/** Hashes (and optionally forwards) a file's bytes as a stream. */
async function streamFile(
  file: FileHandle,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of file.createReadStream({
    start: 0,
    autoClose: false,
    highWaterMark: 256 * 1024,
  })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
    await onChunk(bytes);
  }
  return { size, sha256: hash.digest('hex') };
}

/** Writes an unsigned package: manifest.json and the image. Sign it next with signPackage. */
export async function packPackage(
  input: PackInput,
  outPath: string,
  options: WriteOptions = {},
): Promise<PackResult> {
  const imageName = input.imageName ?? basename(input.imagePath);
  const unsafe = unsafeNameReason(imageName);
  if (unsafe !== null || imageName === MANIFEST_FILE || imageName === SIGNATURE_FILE) {
    throw new CcError(
      'BAD_REQUEST',
      `the image name ${JSON.stringify(imageName)} cannot be used in a package: give a plain name ` +
        'of letters, digits, ".", "_", "-" (e.g. firmware.bin)',
    );
  }
  const image = await open(input.imagePath, 'r');
  try {
    const info = await image.stat();
    if (!info.isFile())
      throw new CcError('BAD_REQUEST', `${input.imagePath} is not a regular file`);
    if (info.size < 1 || info.size > MAX_IMAGE_BYTES) {
      throw new CcError(
        'BAD_REQUEST',
        `the image must be 1 byte to 8 GiB (it is ${info.size} bytes)`,
      );
    }
    const total = info.size * 2;
    let done = 0;
    const progress = (chunk: Buffer): void => {
      done += chunk.length;
      options.onProgress?.(done, total);
    };
    const first = await streamFile(image, progress);
    const candidate = {
      name: input.name,
      models: input.models,
      version: input.version,
      size: first.size,
      sha256: first.sha256,
      image: imageName,
      releasedAt: timeOf(input.releasedAt ?? new Date(), 'releasedAt'),
      expiresAt: timeOf(input.expiresAt, 'expiresAt'),
      ...(input.allowDowngrade === true ? { allowDowngrade: true } : {}),
    };
    const checked = validateManifest(candidate);
    if (!checked.ok)
      throw new CcError('BAD_REQUEST', `cannot make the manifest: ${checked.reason}`);
    const manifestBytes = serializeManifest(checked.manifest);
    await writePackage(
      outPath,
      {
        manifestBytes,
        signatureBytes: null,
        imageName,
        imageSize: first.size,
        imageSha256: first.sha256,
        mtimeSeconds: Date.parse(checked.manifest.releasedAt) / 1000,
        copyImage: async (write) =>
          (
            await streamFile(image, async (chunk) => {
              progress(chunk);
              await write(chunk);
            })
          ).sha256,
      },
      options.overwrite ?? false,
    );
    return { path: outPath, manifest: checked.manifest, manifestBytes };
  } finally {
    await image.close();
  }
}

const CONSISTENT: readonly CheckName[] = [
  'package-format',
  'manifest-schema',
  'image-size',
  'image-hash',
];

/** Reads a package that must be complete and consistent (and unexpired, to be signed). */
async function readComplete(
  path: string,
  options: SignOptions,
  blocking: readonly CheckName[],
): Promise<{
  contents: PackageContents;
  manifest: FirmwareManifest;
  manifestBytes: Buffer;
  signatures: Buffer[];
  total: number;
}> {
  const total = (await stat(path)).size * 2;
  const contents = await inspectPackage(path, {
    maxBytes: NO_LIMIT,
    onProgress: (bytes) => options.onProgress?.(bytes, total),
  });
  const verdict = judgePackage(
    contents,
    { keys: [], threshold: 1 },
    { now: options.now ?? new Date(), maxBytes: NO_LIMIT },
  );
  const failed = verdict.checks.find((c) => !c.ok && blocking.includes(c.name));
  if (failed || verdict.manifest === null || contents.manifestBytes === null) {
    throw new CcError(
      'VALIDATION_FAILED',
      `cannot use ${path}: ${failed?.name ?? 'package'}: ${failed?.detail ?? 'unreadable'}`,
    );
  }
  let signatures: Buffer[] = [];
  if (contents.signatureBytes !== null) {
    const parsed = parseSignatureFile(contents.signatureBytes);
    if (!parsed.ok) throw new CcError('VALIDATION_FAILED', `${path}: ${parsed.reason}`);
    signatures = parsed.signatures;
  }
  return {
    contents,
    manifest: verdict.manifest,
    manifestBytes: contents.manifestBytes,
    signatures,
    total,
  };
}

async function addSignature(
  path: string,
  make: (manifestBytes: Buffer) => { signature: Buffer; publicKey: KeyObject },
  options: SignOptions,
): Promise<SignResult> {
  const read = await readComplete(path, options, [...CONSISTENT, 'expiry']);
  const { signature, publicKey } = make(read.manifestBytes);
  const keyId = keyIdOf(publicKey);
  if (!verifyManifestSignature(read.manifestBytes, signature, publicKey)) {
    throw new CcError(
      'VALIDATION_FAILED',
      `the signature does not verify with key ${keyId} over the manifest.json of ${path}`,
    );
  }
  const out = options.out ?? path;
  const inPlace = resolve(out) === resolve(path);
  const result = { path: out, keyId, manifest: read.manifest };
  const already = read.signatures.some((s) =>
    verifyManifestSignature(read.manifestBytes, s, publicKey),
  );
  if (already && inPlace) return { ...result, added: false, signatures: read.signatures.length };
  const signatures = already ? read.signatures : [...read.signatures, signature];
  if (signatures.length > MAX_SIGNATURES) {
    throw new CcError('VALIDATION_FAILED', `${path} holds ${MAX_SIGNATURES} signatures already`);
  }
  const image = read.contents.image;
  if (image === null) throw new CcError('VALIDATION_FAILED', `cannot sign ${path}: no image`);
  let done = read.total / 2;
  await writePackage(
    out,
    {
      manifestBytes: read.manifestBytes,
      signatureBytes: formatSignatureFile(signatures),
      imageName: image.name,
      imageSize: image.size,
      imageSha256: image.sha256,
      mtimeSeconds: Date.parse(read.manifest.releasedAt) / 1000,
      copyImage: async (write) => {
        const again = await inspectPackage(path, {
          maxBytes: NO_LIMIT,
          onProgress: (bytes) => options.onProgress?.(done + bytes, read.total),
          onImageData: write,
        });
        done = read.total;
        if (again.manifestBytes === null || !again.manifestBytes.equals(read.manifestBytes)) {
          throw new CcError('CONFLICT', `${path} changed while it was being signed; try again`);
        }
        return again.image?.sha256 ?? '';
      },
    },
    inPlace || (options.overwrite ?? false),
  );
  return { ...result, added: !already, signatures: signatures.length };
}

/** Signs the package's manifest with a vendor's private key and adds the signature (in place). */
export async function signPackage(
  path: string,
  privateKey: KeyObject,
  options: SignOptions = {},
): Promise<SignResult> {
  return addSignature(
    path,
    (manifestBytes) => ({
      signature: signManifest(manifestBytes, privateKey),
      publicKey: createPublicKey(privateKey),
    }),
    options,
  );
}

/**
 * Adds a signature made elsewhere (openssl, an HSM) over the package's manifest.json; it must
 * verify with `publicKey` before it is added.
 */
export async function addPackageSignature(
  path: string,
  signature: Buffer,
  publicKey: KeyObject,
  options: SignOptions = {},
): Promise<SignResult> {
  return addSignature(path, () => ({ signature, publicKey }), options);
}

/** The exact bytes of a package's manifest.json (what is signed), checked to be well-formed. */
export async function readPackageManifest(
  path: string,
): Promise<{ manifest: FirmwareManifest; manifestBytes: Buffer }> {
  const read = await readComplete(path, {}, CONSISTENT);
  return { manifest: read.manifest, manifestBytes: read.manifestBytes };
}
