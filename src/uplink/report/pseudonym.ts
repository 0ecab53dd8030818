// Pseudonyms for report fields sent without consent: a keyed hash under a key that never leaves the
// site, so the cloud can tell equal values apart from different ones but cannot recover a value,
// not even a guessable one (a user name, a device id) by hashing candidates, without the key.

import { createHmac } from 'node:crypto';
import { CcError } from '../../domain/index.js';
import type { ConsentCategory } from './report-fields.js';

export const PSEUDONYM_PREFIX = 'p:';
/** 128 bits keep accidental collisions out of reach for any fleet while the report stays small. */
const PSEUDONYM_BYTES = 16;
export const MIN_PSEUDONYM_KEY_BYTES = 32;

/** Every pseudonym: the prefix and base64url of 16 bytes (22 characters, no padding). */
export const PSEUDONYM_PATTERN = /^p:[\w-]{22}$/;

export type Pseudonymize = (category: ConsentCategory, value: string) => string;

/**
 * A pseudonymizer for one key; it remembers the values of one report (they repeat). The category
 * is hashed with the value, so equal values correlate within a category (a device id with the
 * trigger's device) but a user named like a device does not give the device's pseudonym.
 */
export function createPseudonymizer(key: Buffer): Pseudonymize {
  if (key.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new CcError(
      'INTERNAL',
      `the uplink pseudonym key must be at least ${MIN_PSEUDONYM_KEY_BYTES} bytes`,
    );
  }
  const seen = new Map<string, string>();
  return (category, value) => {
    // Category names hold no NUL: category, NUL, value is an unambiguous encoding of the pair.
    const input = `${category}\u0000${value}`;
    let pseudonym = seen.get(input);
    if (pseudonym === undefined) {
      const mac = createHmac('sha256', key).update(input, 'utf8').digest();
      pseudonym = PSEUDONYM_PREFIX + mac.subarray(0, PSEUDONYM_BYTES).toString('base64url');
      seen.set(input, pseudonym);
    }
    return pseudonym;
  };
}
