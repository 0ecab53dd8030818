// Per-token rate limit of the API Proxy: a token bucket per key holding up to `perMinute` calls and
// refilled continuously, so a client may burst and then settles at `perMinute`. Memory is bounded:
// full buckets carry no information and are the first dropped when there are too many keys.

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Spends one call of `key`'s budget, or says how long until there is one. */
  take(key: string): RateDecision;
  /** What `take` would say, without spending anything. */
  check(key: string): RateDecision;
  /** Keys currently tracked (for tests). */
  size(): number;
}

export interface RateLimiterOptions {
  perMinute: number;
  /** Most keys kept; default 10 000. */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const capacity = Math.max(1, options.perMinute);
  const perMs = capacity / 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();

  function refill(bucket: Bucket, t: number): void {
    bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
  }

  function refusal(bucket: Bucket): RateDecision {
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
    };
  }

  function prune(t: number): void {
    for (const [key, bucket] of buckets) {
      refill(bucket, t);
      if (bucket.tokens >= capacity) buckets.delete(key);
    }
    // Still too many: the least recently used go (Map order is insertion order; take() re-inserts).
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  }

  return {
    take(key) {
      const t = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) prune(t);
        bucket = { tokens: capacity, at: t };
      } else {
        buckets.delete(key);
        refill(bucket, t);
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return refusal(bucket);
    },
    check(key) {
      const bucket = buckets.get(key);
      if (bucket === undefined) return { ok: true };
      refill(bucket, now());
      return bucket.tokens >= 1 ? { ok: true } : refusal(bucket);
    },
    size: () => buckets.size,
  };
}
