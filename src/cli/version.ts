// The product version, read once from package.json (the one source of truth).

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function productVersion(): string {
  if (cached === undefined) {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(raw) as { version?: unknown };
    cached = typeof parsed.version === 'string' ? parsed.version : '0.0.0';
  }
  return cached;
}
