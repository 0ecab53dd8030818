// Password hashing (scrypt, memory-hard, parameters stored with each hash so they can be raised
// later), constant-time verification, and the password policy.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CcError } from '../domain/index.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
}

/** N=2^15, r=8: 32 MiB and tens of milliseconds per hash (OWASP's scrypt recommendation). */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_BYTES = 16;
export const PASSWORD_MIN_LENGTH = 12;
/** Bounds the work an attacker can ask of the hash function with one request. */
export const PASSWORD_MAX_LENGTH = 1024;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    // Node refuses unless maxmem exceeds 128 * N * r; leave headroom.
    maxmem: 256 * N * params.r,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** Encoded as `scrypt$<logN>$<r>$<p>$<salt b64url>$<hash b64url>`. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [
    'scrypt',
    params.logN,
    params.r,
    params.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

function parseHash(
  encoded: string,
): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [logN, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const valid = (n: number, max: number): boolean => Number.isInteger(n) && n >= 1 && n <= max;
  if (!valid(logN, 20) || !valid(r, 32) || !valid(p, 16)) return undefined;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || key.length !== KEY_LENGTH) return undefined;
  return { params: { logN, r, p }, salt, key };
}

/** True when `password` matches `encoded`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Characters as people count them for length rules: a surrogate pair counts once. */
function codePointLength(text: string): number {
  return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length;
}

/** Throws VALIDATION_FAILED naming the rule a new password breaks. */
export function checkPasswordPolicy(password: string, username: string): void {
  const fail = (message: string): never => {
    throw new CcError('VALIDATION_FAILED', message, { field: 'password' });
  };
  if (codePointLength(password) < PASSWORD_MIN_LENGTH) {
    fail(`password must have at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    fail(`password must have at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  if (new Set(password).size === 1) fail('password must not repeat a single character');
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) {
    fail('password must not equal the user name');
  }
}

/** User names appear in logs, audit records and job owners: a bounded, printable alphabet. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new CcError(
      'VALIDATION_FAILED',
      'username must be 1–64 characters of letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      { field: 'username' },
    );
  }
}
