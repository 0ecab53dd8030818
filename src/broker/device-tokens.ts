// Device tokens: issued once at provisioning, kept only as a hash, verified in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CcError, isValidDeviceId, nowIso } from '../domain/index.js';
import type { DeviceCredentialRepository } from '../store/store.js';

const TOKEN_BYTES = 32;
const HASH_PREFIX = 'sha256:';

// A device token is 256 bits from the CSPRNG, not a person's password: nobody can guess it, so
// there is nothing for a slow, salted hash (scrypt, argon2) to protect against, and a fast hash
// keeps every CONNECT cheap. SHA-256 is preimage resistant, so a leaked table yields no token.
function hashToken(token: string): string {
  return HASH_PREFIX + createHash('sha256').update(token, 'utf8').digest('base64url');
}

function assertDeviceId(deviceId: string): void {
  if (!isValidDeviceId(deviceId)) {
    throw new CcError('VALIDATION_FAILED', `invalid device id: ${JSON.stringify(deviceId)}`);
  }
}

/**
 * Creates a new token for the device and stores its hash, replacing any previous token (which stops
 * working at once). The token itself is returned once and never stored.
 */
export async function issueDeviceToken(
  credentials: DeviceCredentialRepository,
  deviceId: string,
): Promise<string> {
  assertDeviceId(deviceId);
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  await credentials.put({ deviceId, tokenHash: hashToken(token), createdAt: nowIso() });
  return token;
}

/** True when `token` is the device's current token; unknown devices and bad input give false. */
export async function verifyDeviceToken(
  credentials: DeviceCredentialRepository,
  deviceId: string,
  token: string,
): Promise<boolean> {
  if (!isValidDeviceId(deviceId) || token.length === 0 || token.length > 256) return false;
  const credential = await credentials.get(deviceId);
  // Hash even when the device is unknown so the time taken does not reveal which ids exist.
  const presented = Buffer.from(hashToken(token), 'utf8');
  const stored = Buffer.from(credential?.tokenHash ?? hashToken(''), 'utf8');
  if (presented.length !== stored.length) return false;
  return timingSafeEqual(presented, stored) && credential !== undefined;
}
