// Reconnect delays: exponential from half a second up to 30 s, with jitter so that every client
// of a restarted server does not come back in the same instant.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

/** Delay before reconnect attempt `attempt` (0 = first); `random` in [0, 1). */
export function reconnectDelay(attempt: number, random: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * (0.5 + random / 2));
}
