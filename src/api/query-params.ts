// Helpers for query parameters that JSON Schema cannot fully check (times, ranges, name lists).

import { CcError, parseIso } from '../domain/index.js';

/** Parses an RFC 3339 query parameter or throws VALIDATION_FAILED naming it. */
export function timeParam(name: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? parseIso(value) : null;
  if (ms === null) {
    throw new CcError('VALIDATION_FAILED', `querystring/${name} must be an RFC 3339 time`, {
      field: name,
    });
  }
  return ms;
}

/** Normalizes an optional time parameter to an ISO string (undefined when absent). */
export function optionalTime(name: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(timeParam(name, value)).toISOString();
}
