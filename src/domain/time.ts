// Times cross every contract as RFC 3339 UTC strings; this is the one place that makes them.

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Parses an RFC 3339 string to epoch ms, or returns null when it is not a valid time. */
export function parseIso(value: string): number | null {
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
