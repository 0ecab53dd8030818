// Encoding shared by the firmware catalog and rollout tables: JSON text columns read back
// defensively, and counts checked before they are written.

import { CcError } from '../../domain/index.js';

/** A JSON array of strings as written by the firmware repositories; anything else reads as empty. */
export function parseStrings(text: string): string[] {
  try {
    return stringsOf(JSON.parse(text));
  } catch {
    // Written by the repositories as JSON; an unreadable value lists nothing rather than failing reads.
    return [];
  }
}

/** The strings of a parsed JSON value that should be a list of strings. */
export function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
}

/** Counts and sizes are whole and non-negative; anything else is a caller error, named by field. */
export function checkCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CcError('VALIDATION_FAILED', `${field} must be a non-negative integer`, { field });
  }
  return value;
}
