// Parsing of numeric command-line options with errors that name the option and its bounds.

import { CcError } from '../domain/index.js';

export function parseIntegerOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new CcError(
      'BAD_REQUEST',
      `${name} must be an integer between ${min} and ${max} (got "${value.slice(0, 40)}")`,
    );
  }
  return n;
}
