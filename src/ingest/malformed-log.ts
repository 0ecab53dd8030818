// Logs malformed payloads at most once per device per interval, with how many were suppressed in
// between, so a device stuck sending garbage cannot flood the logs (every payload is still counted).

import type { Logger } from '../observability/index.js';

export interface MalformedReport {
  deviceId: string;
  channel: string;
  code: string;
  message: string;
}

export interface MalformedLog {
  report(r: MalformedReport): void;
}

/** Entries idle longer than the interval are forgotten once the map grows past this. */
const PRUNE_ABOVE = 10_000;

export function createMalformedLog(
  logger: Logger,
  intervalMs: number,
  now: () => number = Date.now,
): MalformedLog {
  const byDevice = new Map<string, { loggedAt: number; suppressed: number }>();

  function prune(t: number): void {
    if (byDevice.size <= PRUNE_ABOVE) return;
    for (const [id, s] of byDevice) if (t - s.loggedAt >= intervalMs) byDevice.delete(id);
  }

  return {
    report(r) {
      const t = now();
      const seen = byDevice.get(r.deviceId);
      if (seen !== undefined && t - seen.loggedAt < intervalMs) {
        seen.suppressed++;
        return;
      }
      logger.warn(
        {
          deviceId: r.deviceId,
          channel: r.channel,
          reason: r.code,
          detail: r.message,
          suppressed: seen?.suppressed ?? 0,
          intervalMs,
        },
        'dropped a malformed device payload',
      );
      byDevice.set(r.deviceId, { loggedAt: t, suppressed: 0 });
      prune(t);
    },
  };
}
