// Vendor keys and the trust policy: Ed25519 key pairs as PEM (PKCS#8 private, SPKI public), the
// key id every message and verdict uses, and which keys a verifier trusts — with rotation (retired
// keys stay known but their signatures no longer count) and an optional k-of-n threshold.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { CcError } from '../domain/index.js';

export interface VendorKey {
  /** First 16 hex digits of the SHA-256 of the key's SPKI DER encoding. */
  id: string;
  publicKey: KeyObject;
  /** A retired key is still recognized, but signatures made with it do not count. */
  retired: boolean;
}

export interface TrustPolicy {
  keys: VendorKey[];
  /** How many distinct active keys must have signed a manifest; 1 unless set. */
  threshold: number;
}

/** A PEM text, or a PEM given inline or by file with its rotation state. */
export type VendorKeySource =
  string | { pem: string; retired?: boolean } | { file: string; retired?: boolean };

const MAX_PEM_BYTES = 8 * 1024;
const PUBLIC_PEM =
  /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\r?\n?$/;

/** The id of a key pair, from its public key (or from the private key's public half). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** A vendor public key from its SPKI PEM text; refuses private keys and non-Ed25519 keys. */
export function parseVendorKey(
  pem: string,
  options: { retired?: boolean; source?: string } = {},
): VendorKey {
  const where = options.source !== undefined ? `${options.source}: ` : '';
  const text = pem.trim() + '\n';
  if (text.length > MAX_PEM_BYTES || !PUBLIC_PEM.test(text)) {
    throw new CcError(
      'BAD_REQUEST',
      `${where}not a public key: expected one "-----BEGIN PUBLIC KEY-----" PEM block (SPKI)`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new CcError(
      'BAD_REQUEST',
      `${where}unreadable public key: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new CcError(
      'BAD_REQUEST',
      `${where}a ${publicKey.asymmetricKeyType ?? 'unknown'} key; vendor keys are Ed25519`,
    );
  }
  return { id: keyIdOf(publicKey), publicKey, retired: options.retired ?? false };
}

/** Loads vendor public keys from PEM texts (plain strings) or files; each key once. */
export async function loadVendorKeys(sources: readonly VendorKeySource[]): Promise<VendorKey[]> {
  const keys: VendorKey[] = [];
  for (const source of sources) {
    if (typeof source === 'string') {
      keys.push(parseVendorKey(source));
    } else if ('pem' in source) {
      keys.push(parseVendorKey(source.pem, { retired: source.retired ?? false }));
    } else {
      const pem = await readFile(source.file, 'utf8');
      keys.push(parseVendorKey(pem, { retired: source.retired ?? false, source: source.file }));
    }
  }
  const ids = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.id)) throw new CcError('BAD_REQUEST', `vendor key ${key.id} is listed twice`);
    ids.add(key.id);
  }
  return keys;
}

/** A trust policy; the threshold must be reachable with the active keys. */
export function createTrustPolicy(keys: readonly VendorKey[], threshold = 1): TrustPolicy {
  const active = keys.filter((k) => !k.retired).length;
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new CcError(
      'BAD_REQUEST',
      `the signature threshold must be a whole number ≥ 1 (got ${threshold})`,
    );
  }
  if (threshold > active) {
    throw new CcError(
      'BAD_REQUEST',
      `a threshold of ${threshold} signatures needs at least ${threshold} active vendor keys; ${active} configured`,
    );
  }
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new CcError('BAD_REQUEST', 'a vendor key is listed twice');
  return { keys: [...keys], threshold };
}

/** A signing key from its PKCS#8 PEM text (unencrypted, as `firmware keygen` and openssl write it). */
export function parseSigningKey(pem: string, source?: string): KeyObject {
  const where = source !== undefined ? `${source}: ` : '';
  if (pem.length > MAX_PEM_BYTES || !pem.includes('PRIVATE KEY-----')) {
    throw new CcError('BAD_REQUEST', `${where}not a private key PEM (PKCS#8 "BEGIN PRIVATE KEY")`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new CcError(
      'BAD_REQUEST',
      `${where}unreadable private key: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CcError(
      'BAD_REQUEST',
      `${where}a ${key.asymmetricKeyType ?? 'unknown'} key; vendor keys are Ed25519`,
    );
  }
  return key;
}

export async function readSigningKey(file: string): Promise<KeyObject> {
  return parseSigningKey(await readFile(file, 'utf8'), file);
}

export interface VendorKeyPair {
  /** PKCS#8 PEM: keep secret. */
  privateKeyPem: string;
  /** SPKI PEM: give to every verifier. */
  publicKeyPem: string;
  keyId: string;
}

export function generateVendorKeyPair(): VendorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes `<prefix>.key` (PKCS#8 PEM, mode 0600) and `<prefix>.pub.pem` (SPKI PEM, 0644).
 * Refuses when either exists: an overwritten vendor key cannot be recovered.
 */
export async function writeVendorKeyPair(
  prefix: string,
): Promise<{ keyPath: string; publicKeyPath: string; keyId: string }> {
  const keyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub.pem`;
  for (const path of [keyPath, publicKeyPath]) {
    if (await exists(path)) {
      throw new CcError(
        'CONFLICT',
        `${path} exists; refusing to overwrite a key (choose another --out)`,
      );
    }
  }
  const pair = generateVendorKeyPair();
  // 'wx' creates the file or fails, so a file that appeared meanwhile is never overwritten; the mode
  // applies at creation, so the private key is never readable by others, even for an instant.
  const keyFile = await open(keyPath, 'wx', 0o600);
  try {
    await keyFile.writeFile(pair.privateKeyPem);
    await keyFile.sync();
  } finally {
    await keyFile.close();
  }
  const pubFile = await open(publicKeyPath, 'wx', 0o644);
  try {
    await pubFile.writeFile(pair.publicKeyPem);
  } finally {
    await pubFile.close();
  }
  return { keyPath, publicKeyPath, keyId: pair.keyId };
}
