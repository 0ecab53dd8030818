// The audit trail's throttle for records anonymous callers can cause: bounded per key and overall,
// with what was held back counted in the next record.

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import type { AuditEntry, Store } from '../store/index.js';
import { createAuditTrail, untrustedName } from './audit-trail.js';

function fakeStore(entries: AuditEntry[]): Store {
  return {
    audit: {
      append: (e: AuditEntry) => {
        entries.push(e);
        return Promise.resolve();
      },
      list: () => Promise.reject(new Error('unused')),
    },
  } as unknown as Store;
}

const failure = {
  actor: 'admin',
  action: 'auth.login',
  target: 'admin',
  outcome: 'refused' as const,
  source: '10.0.0.1',
  details: { reason: 'wrong-password' },
};

describe('audit trail throttle', () => {
  it('writes at most one record per key per second, counting the attempts it stands for', async () => {
    const entries: AuditEntry[] = [];
    let now = 1_000_000;
    const trail = createAuditTrail(
      { store: fakeStore(entries), logger: silentLogger() },
      { perKeyMs: 1000, globalPerSecond: 100, maxKeys: 100 },
      () => now,
    );
    for (let i = 0; i < 50; i++) await trail.recordThrottled('k', failure);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.details).toEqual({ reason: 'wrong-password', attempts: 1 });
    now += 1000;
    await trail.recordThrottled('k', failure);
    expect(entries).toHaveLength(2);
    expect(entries[1]!.details).toMatchObject({ attempts: 50, suppressed: 49 });
  });

  it('caps records per second over all keys', async () => {
    const entries: AuditEntry[] = [];
    const now = 5_000_000;
    const trail = createAuditTrail(
      { store: fakeStore(entries), logger: silentLogger() },
      { perKeyMs: 1000, globalPerSecond: 5, maxKeys: 10_000 },
      () => now,
    );
    for (let i = 0; i < 1000; i++) await trail.recordThrottled(`addr${i}`, failure);
    expect(entries).toHaveLength(5);
  });

  it('makes attempted names safe to store and show', () => {
    expect(untrustedName('a\u0000b\nc\u202Ed')).toBe('a?b?c?d');
    expect(untrustedName('x'.repeat(300))).toHaveLength(65);
  });
});
