import { describe, expect, it } from 'vitest';
import { createDeviceSlots } from './device-slots.js';
import { createRateLimiter } from './rate-limiter.js';

describe('rate limiter', () => {
  it('allows a burst of perMinute, then refuses with Retry-After, then refills', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 6, now: () => t });
    for (let i = 0; i < 6; i++) expect(limiter.take('a').ok).toBe(true);
    const refused = limiter.take('a');
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 10 });
    expect(limiter.take('b').ok).toBe(true); // per key
    t += 10_000;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('checks without spending', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 2, now: () => t });
    expect(limiter.check('a')).toEqual({ ok: true });
    limiter.take('a');
    limiter.take('a');
    expect(limiter.check('a')).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(limiter.check('a').ok).toBe(false);
    t += 30_000;
    expect(limiter.check('a')).toEqual({ ok: true });
    expect(limiter.take('a').ok).toBe(true);
  });

  it('keeps a bounded number of keys', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 10, maxKeys: 100, now: () => t });
    for (let i = 0; i < 1000; i++) {
      t += 1;
      limiter.take(`k${i}`);
    }
    expect(limiter.size()).toBeLessThanOrEqual(100);
  });
});

describe('device slots', () => {
  it('caps calls in flight per device and frees a slot once', () => {
    const slots = createDeviceSlots(2);
    const a = slots.acquire('d1');
    const b = slots.acquire('d1');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(slots.acquire('d1')).toBeUndefined();
    expect(slots.acquire('d2')).toBeDefined();
    a?.();
    a?.();
    expect(slots.inFlight('d1')).toBe(1);
    expect(slots.acquire('d1')).toBeDefined();
  });
});
