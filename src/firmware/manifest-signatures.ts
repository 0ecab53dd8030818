// manifest.sig: Ed25519 signatures over the exact bytes of manifest.json, base64, one per line.
// A one-line file is exactly DESIGN §4.5's format (what `openssl pkeyutl -sign -rawin` makes,
// base64-encoded); more lines carry more vendors' signatures for a k-of-n threshold.
// An Ed25519 signature does not name its key, so each signature is tried against every known key.

import { sign, verify, type KeyObject } from 'node:crypto';
import type { VendorKey } from './vendor-keys.js';

export const SIGNATURE_BYTES = 64;
export const MAX_SIGNATURES = 16;
export const MAX_SIGNATURE_FILE_BYTES = 4 * 1024;

export type SignatureFileResult =
  { ok: true; signatures: Buffer[] } | { ok: false; reason: string };

export function signManifest(manifestBytes: Buffer, privateKey: KeyObject): Buffer {
  return sign(null, manifestBytes, privateKey);
}

export function verifyManifestSignature(
  manifestBytes: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): boolean {
  return signature.length === SIGNATURE_BYTES && verify(null, manifestBytes, publicKey, signature);
}

/** Decodes strict, canonical base64 of exactly one signature, or null. */
export function decodeSignature(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]{86}==$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === SIGNATURE_BYTES && bytes.toString('base64') === text ? bytes : null;
}

/** Parses manifest.sig: 1 to 16 lines of base64, each ending with LF (the last one may not). */
export function parseSignatureFile(bytes: Buffer): SignatureFileResult {
  if (bytes.length > MAX_SIGNATURE_FILE_BYTES) {
    return {
      ok: false,
      reason: `manifest.sig is ${bytes.length} bytes; at most ${MAX_SIGNATURE_FILE_BYTES}`,
    };
  }
  const text = bytes.toString('latin1');
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  if (lines.length === 1 && lines[0] === '') return { ok: false, reason: 'manifest.sig is empty' };
  if (lines.length > MAX_SIGNATURES) {
    return {
      ok: false,
      reason: `manifest.sig holds ${lines.length} lines; at most ${MAX_SIGNATURES}`,
    };
  }
  const signatures: Buffer[] = [];
  for (const [i, line] of lines.entries()) {
    const signature = decodeSignature(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (signature === null) {
      return {
        ok: false,
        reason: `line ${i + 1} of manifest.sig is not the base64 of a 64-byte Ed25519 signature`,
      };
    }
    signatures.push(signature);
  }
  return { ok: true, signatures };
}

export function formatSignatureFile(signatures: readonly Buffer[]): Buffer {
  if (signatures.length === 0 || signatures.length > MAX_SIGNATURES) {
    throw new RangeError(`manifest.sig holds 1 to ${MAX_SIGNATURES} signatures`);
  }
  return Buffer.from(signatures.map((s) => `${s.toString('base64')}\n`).join(''), 'latin1');
}

export interface SignatureMatch {
  /** Index of the signature in manifest.sig. */
  index: number;
  /** The known key it verifies with, or null when it verifies with none of them. */
  key: VendorKey | null;
}

/** Which known key (active or retired) each signature verifies with. */
export function matchSignatures(
  manifestBytes: Buffer,
  signatures: readonly Buffer[],
  keys: readonly VendorKey[],
): SignatureMatch[] {
  return signatures.map((signature, index) => ({
    index,
    key: keys.find((k) => verifyManifestSignature(manifestBytes, signature, k.publicKey)) ?? null,
  }));
}
