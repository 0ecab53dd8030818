// Login rate limiting: failures counted per client address and per user name in a sliding window,
// in memory (bounded number of keys), so guessing is slow for one attacker and for one account.

import { CcError } from '../domain/index.js';

export interface LoginLimiterOptions {
  /** Failures allowed within the window before further attempts are refused. */
  maxFailures: number;
  windowMs: number;
  /** Most keys tracked; the oldest are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimiterOptions = {
  maxFailures: 10,
  windowMs: 15 * 60 * 1000,
  maxKeys: 10_000,
};

export interface LoginLimiter {
  /** Throws RATE_LIMITED (with retryAfterSeconds) when either key is over its limit. */
  check(address: string, username: string, now?: number): void;
  recordFailure(address: string, username: string, now?: number): void;
  /** A success clears the account's failures (not the address's: one address may try many). */
  recordSuccess(username: string): void;
}

export function createLoginLimiter(
  options: LoginLimiterOptions = DEFAULT_LOGIN_LIMITS,
): LoginLimiter {
  const failures = new Map<string, number[]>();

  const keysOf = (address: string, username: string): string[] => [
    `addr:${address}`,
    `user:${username.toLowerCase()}`,
  ];

  function recent(key: string, now: number): number[] {
    const times = (failures.get(key) ?? []).filter((t) => t > now - options.windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  }

  return {
    check(address, username, now = Date.now()) {
      for (const key of keysOf(address, username)) {
        const times = recent(key, now);
        const oldest = times[0];
        if (times.length >= options.maxFailures && oldest !== undefined) {
          const retryAfterSeconds = Math.max(
            1,
            Math.ceil((oldest + options.windowMs - now) / 1000),
          );
          throw new CcError('RATE_LIMITED', 'too many failed logins; try again later', {
            retryAfterSeconds,
          });
        }
      }
    },
    recordFailure(address, username, now = Date.now()) {
      for (const key of keysOf(address, username)) {
        const times = recent(key, now);
        times.push(now);
        // Only the newest maxFailures matter for the decision: memory stays bounded per key.
        if (times.length > options.maxFailures) times.shift();
        failures.delete(key);
        failures.set(key, times);
      }
      while (failures.size > options.maxKeys) {
        const oldestKey = failures.keys().next().value;
        if (oldestKey === undefined) break;
        failures.delete(oldestKey);
      }
    },
    recordSuccess(username) {
      failures.delete(`user:${username.toLowerCase()}`);
    },
  };
}
