// Converts between the RFC 3339 strings of the contracts and the epoch-ms integers stored.

import { CcError, parseIso, toIso } from '../../domain/index.js';

/** RFC 3339 → epoch ms; a string that is not a time is a caller error, named by field. */
export function toMs(value: string, field: string): number {
  const ms = parseIso(value);
  if (ms === null) {
    throw new CcError('VALIDATION_FAILED', `${field} is not an RFC 3339 time`, { field });
  }
  return ms;
}

export function toMsOrNull(value: string | null | undefined, field: string): number | null {
  return value === null || value === undefined ? null : toMs(value, field);
}

/** Drivers return bigint columns as numbers (SQLite) or strings (PostgreSQL). */
export function toNumber(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function fromMs(value: number | string | bigint): string {
  return toIso(toNumber(value));
}

export function fromMsOrNull(value: number | string | bigint | null): string | null {
  return value === null ? null : fromMs(value);
}
