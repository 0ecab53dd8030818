// Writing the audit log from the auth subsystem: who (a user name, or the name a login attempt
// gave), what, on what, from where, how it ended. Records an anonymous caller can cause (failed
// logins, lockouts) go through a throttle so they cannot flood the store: at most one record per
// address and user name per second, within a global budget per second; what is held back is
// counted in the next record of its key (`attempts`: the events that record stands for) and, over
// all keys, in the next throttled record written (`suppressed`: held back since the previous one).

import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/index.js';
import type { AuditEntry, Store } from '../store/index.js';

export type AuditRecord = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditTrail {
  record(entry: AuditRecord): Promise<void>;
  /** A record an unauthenticated caller caused: throttled per `key` and globally. */
  recordThrottled(key: string, entry: AuditRecord): Promise<void>;
}

export interface AuditThrottleOptions {
  perKeyMs: number;
  /** Throttled records written per second over all keys. */
  globalPerSecond: number;
  maxKeys: number;
}

export const DEFAULT_AUDIT_THROTTLE: AuditThrottleOptions = {
  perKeyMs: 1000,
  globalPerSecond: 20,
  maxKeys: 10_000,
};

/** Text an anonymous caller chose (an attempted user name), made safe to keep and show. */
export function untrustedName(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

export function createAuditTrail(
  deps: { store: Store; logger: Logger },
  options: AuditThrottleOptions = DEFAULT_AUDIT_THROTTLE,
  clock: () => number = Date.now,
): AuditTrail {
  const { store, logger } = deps;
  /** Per key: when its last record was written and how many events were held back since. */
  const keys = new Map<string, { writtenAt: number; held: number }>();
  let second = 0;
  let writtenThisSecond = 0;
  let suppressed = 0;

  async function record(entry: AuditRecord): Promise<void> {
    try {
      await store.audit.append({ id: randomUUID(), at: new Date(clock()).toISOString(), ...entry });
    } catch (err) {
      // The action itself already happened or was refused; losing its record must be loud.
      logger.error({ err, action: entry.action }, 'cannot write the audit log');
    }
  }

  async function recordThrottled(key: string, entry: AuditRecord): Promise<void> {
    const now = clock();
    const state = keys.get(key);
    const nowSecond = Math.floor(now / 1000);
    if (nowSecond !== second) {
      second = nowSecond;
      writtenThisSecond = 0;
    }
    const keyReady = state === undefined || now - state.writtenAt >= options.perKeyMs;
    if (!keyReady || writtenThisSecond >= options.globalPerSecond) {
      if (state) state.held += 1;
      else remember(key, { writtenAt: 0, held: 1 });
      suppressed += 1;
      return;
    }
    writtenThisSecond += 1;
    const attempts = (state?.held ?? 0) + 1;
    const heldBack = suppressed;
    suppressed = 0;
    remember(key, { writtenAt: now, held: 0 });
    await record({
      ...entry,
      details: { ...entry.details, attempts, ...(heldBack > 0 ? { suppressed: heldBack } : {}) },
    });
  }

  function remember(key: string, state: { writtenAt: number; held: number }): void {
    keys.delete(key);
    keys.set(key, state);
    while (keys.size > options.maxKeys) {
      const oldest = keys.keys().next().value;
      if (oldest === undefined) break;
      keys.delete(oldest);
    }
  }

  return { record, recordThrottled };
}
