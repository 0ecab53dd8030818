// Account lockout: by user name from any address, growing, lifted by success or an admin, bounded.

import { describe, expect, it } from 'vitest';
import { CcError } from '../domain/index.js';
import { createLoginLockout } from './login-lockout.js';

const options = {
  maxFailures: 3,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 24 * 3_600_000,
  maxKeys: 100,
};

function retryAfter(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CcError && err.code === 'RATE_LIMITED') {
      return err.details?.retryAfterSeconds as number;
    }
    throw err;
  }
}

describe('login lockout', () => {
  it('locks a name after N failures in the window, whatever the case, then lets it try again', () => {
    const l = createLoginLockout(options);
    expect(l.recordFailure('Olga', 0)).toBeNull();
    expect(l.recordFailure('olga', 1)).toBeNull();
    expect(l.recordFailure('OLGA', 2)).toEqual({ lockedUntil: 60_002, streak: 1 });
    expect(retryAfter(() => l.check('olga', 1000))).toBe(60);
    expect(l.lockedUntil('olga', 1000)).toBe(60_002);
    expect(retryAfter(() => l.check('olga', 60_002))).toBeUndefined();
    expect(retryAfter(() => l.check('someone', 1000))).toBeUndefined();
  });

  it('forgets failures older than the window', () => {
    const l = createLoginLockout(options);
    l.recordFailure('a', 0);
    l.recordFailure('a', 1);
    expect(l.recordFailure('a', 60_001)).toBeNull();
  });

  it('doubles each lockout in a row, up to the maximum, and forgives after a success', () => {
    const l = createLoginLockout({ ...options, maxLockoutMs: 150_000 });
    let t = 0;
    const lockOnce = () => {
      let lock = null;
      for (let i = 0; i < 3; i++) lock = l.recordFailure('bob', t++);
      return lock;
    };
    const first = lockOnce();
    expect(first!.lockedUntil - (t - 1)).toBe(60_000);
    t = first!.lockedUntil;
    const second = lockOnce();
    expect(second).toMatchObject({ streak: 2 });
    expect(second!.lockedUntil - (t - 1)).toBe(120_000);
    t = second!.lockedUntil;
    expect(lockOnce()!.lockedUntil - (t - 1)).toBe(150_000);
    l.recordSuccess('bob');
    t += 1_000_000;
    expect(lockOnce()).toMatchObject({ streak: 1 });
  });

  it('does not count or extend while locked, and an unlock lifts the lock at once', () => {
    const l = createLoginLockout(options);
    for (let i = 0; i < 3; i++) l.recordFailure('c', i);
    expect(l.recordFailure('c', 10)).toBeNull();
    expect(l.lockedUntil('c', 10)).toBe(60_002);
    expect(l.unlock('c', 20)).toBe(true);
    expect(retryAfter(() => l.check('c', 21))).toBeUndefined();
    expect(l.unlock('c', 22)).toBe(false);
  });

  it('keeps memory bounded under a flood of names', () => {
    const l = createLoginLockout({ ...options, maxKeys: 10 });
    for (let i = 0; i < 1000; i++) l.recordFailure(`name${i}`, i);
    for (let i = 0; i < 3; i++) l.recordFailure('last', 2000 + i);
    expect(l.lockedUntil('last', 2003)).not.toBeNull();
    expect(l.lockedUntil('name0', 2003)).toBeNull();
  });
});
