// Login rate limiting per address and per user name, with bounded memory.

import { describe, expect, it } from 'vitest';
import { CcError } from '../domain/index.js';
import { createLoginLimiter } from './login-limiter.js';

const limits = { maxFailures: 3, windowMs: 60_000, maxKeys: 50 };

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

describe('login limiter', () => {
  it('limits one account tried from many addresses', () => {
    const l = createLoginLimiter(limits);
    for (let i = 0; i < 3; i++) l.recordFailure(`10.0.0.${i}`, 'Admin', 1000);
    expect(retryAfter(() => l.check('10.9.9.9', 'admin', 2000))).toBe(59);
    expect(retryAfter(() => l.check('10.9.9.9', 'someone', 2000))).toBeUndefined();
    expect(retryAfter(() => l.check('10.9.9.9', 'admin', 61_001))).toBeUndefined();
  });

  it('limits one address trying many accounts', () => {
    const l = createLoginLimiter(limits);
    for (let i = 0; i < 3; i++) l.recordFailure('10.0.0.1', `user${i}`, 0);
    expect(retryAfter(() => l.check('10.0.0.1', 'fresh', 10))).toBeGreaterThan(0);
  });

  it('forgets an account’s failures after a success', () => {
    const l = createLoginLimiter(limits);
    l.recordFailure('a', 'bob', 0);
    l.recordFailure('b', 'bob', 0);
    l.recordSuccess('bob');
    l.recordFailure('c', 'bob', 0);
    expect(retryAfter(() => l.check('d', 'bob', 1))).toBeUndefined();
  });

  it('keeps memory bounded under a flood of distinct keys', () => {
    const l = createLoginLimiter(limits);
    for (let i = 0; i < 10_000; i++) l.recordFailure(`addr${i}`, `user${i}`, i);
    // The most recent keys are still tracked; older ones were evicted rather than kept forever.
    l.recordFailure('addr9999', 'x', 10_000);
    l.recordFailure('addr9999', 'y', 10_001);
    expect(retryAfter(() => l.check('addr9999', 'z', 10_002))).toBeGreaterThan(0);
  });
});
