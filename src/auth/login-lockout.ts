// Temporary account lockout: after `maxFailures` failed logins for one user name within the window,
// that name is locked for `lockoutMs`, doubling with each lockout in a row (up to a day), whatever
// address the attempts come from; even the right password is refused until the lock ends or an
// admin unlocks it. Names that exist and names that do not are treated alike, so a lockout never
// tells an attacker which accounts exist. State is in memory with a bounded number of names.

import { CcError } from '../domain/index.js';

export interface LockoutOptions {
  maxFailures: number;
  windowMs: number;
  /** The first lockout's length; each further one in a row doubles it. */
  lockoutMs: number;
  /** Longest lockout. */
  maxLockoutMs: number;
  /** Most user names tracked; the least recently failed are forgotten first. */
  maxKeys: number;
}

export const MAX_LOCKOUT_MS = 24 * 60 * 60 * 1000;

interface Entry {
  failures: number[];
  lockedUntil: number;
  /** Lockouts in a row; the next lockout lasts lockoutMs × 2^streak. */
  streak: number;
}

export interface Lock {
  lockedUntil: number;
  /** How many lockouts in a row this one is (1 for the first). */
  streak: number;
}

export interface LoginLockout {
  /** Throws RATE_LIMITED (with retryAfterSeconds) while the name is locked. */
  check(username: string, now?: number): void;
  /** Counts a failure; returns the lock when this failure locked the name. */
  recordFailure(username: string, now?: number): Lock | null;
  recordSuccess(username: string): void;
  /** Ends a lock and forgets the name's failures; false when it was not locked. */
  unlock(username: string, now?: number): boolean;
  /** The end of the current lock, or null. */
  lockedUntil(username: string, now?: number): number | null;
}

const keyOf = (username: string): string => username.toLowerCase();

export function createLoginLockout(options: LockoutOptions): LoginLockout {
  const entries = new Map<string, Entry>();

  function entryOf(username: string, now: number): Entry {
    const key = keyOf(username);
    const entry = entries.get(key) ?? { failures: [], lockedUntil: 0, streak: 0 };
    // A streak is forgiven a day after its last lock ended.
    if (entry.streak > 0 && entry.lockedUntil + MAX_LOCKOUT_MS <= now) entry.streak = 0;
    entry.failures = entry.failures.filter((t) => t > now - options.windowMs);
    // Most recently used last, so the oldest key is the first to go.
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > options.maxKeys) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
    return entry;
  }

  return {
    check(username, now = Date.now()) {
      const entry = entries.get(keyOf(username));
      if (entry && entry.lockedUntil > now) {
        const retryAfterSeconds = Math.max(1, Math.ceil((entry.lockedUntil - now) / 1000));
        throw new CcError(
          'RATE_LIMITED',
          'this account is locked after too many failed logins; try again later or ask an administrator to unlock it',
          { retryAfterSeconds, locked: true },
        );
      }
    },
    recordFailure(username, now = Date.now()) {
      const entry = entryOf(username, now);
      if (entry.lockedUntil > now) return null;
      entry.failures.push(now);
      if (entry.failures.length < options.maxFailures) return null;
      const length = Math.min(options.maxLockoutMs, options.lockoutMs * 2 ** entry.streak);
      entry.streak += 1;
      entry.lockedUntil = now + length;
      entry.failures = [];
      return { lockedUntil: entry.lockedUntil, streak: entry.streak };
    },
    recordSuccess(username) {
      entries.delete(keyOf(username));
    },
    unlock(username, now = Date.now()) {
      const entry = entries.get(keyOf(username));
      const wasLocked = entry !== undefined && entry.lockedUntil > now;
      entries.delete(keyOf(username));
      return wasLocked;
    },
    lockedUntil(username, now = Date.now()) {
      const until = entries.get(keyOf(username))?.lockedUntil ?? 0;
      return until > now ? until : null;
    },
  };
}
