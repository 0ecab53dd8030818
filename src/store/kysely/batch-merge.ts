// Folds repeated keys inside one batch into one row each, with the same rules the upserts apply
// against stored rows. PostgreSQL refuses an INSERT … ON CONFLICT that touches a row twice, and one
// row per key is also less work for SQLite.

import {
  CcError,
  type Alert,
  type Consumable,
  type Device,
  type Job,
  type MetricSample,
} from '../../domain/index.js';
import type { WriteBatch } from '../store.js';
import { toMs, toMsOrNull } from './time-columns.js';

function foldBy<T>(
  rows: readonly T[],
  key: (row: T) => string,
  merge: (old: T, next: T) => T,
): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    const old = byKey.get(k);
    byKey.set(k, old === undefined ? row : merge(old, row));
  }
  return [...byKey.values()];
}

function laterOf(a: string | null, b: string | null, field: string): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return (toMsOrNull(b, field) ?? 0) > (toMsOrNull(a, field) ?? 0) ? b : a;
}

export function mergeDevice(old: Device, incoming: Device): Device {
  const oldAt = toMsOrNull(old.stateAt, 'device.stateAt');
  const newAt = toMsOrNull(incoming.stateAt, 'device.stateAt');
  if (oldAt !== null && newAt !== null && newAt < oldAt) return old;
  return {
    ...incoming,
    stateAt: incoming.stateAt ?? old.stateAt,
    lastSeenAt: laterOf(old.lastSeenAt, incoming.lastSeenAt, 'device.lastSeenAt'),
  };
}

function byUpdatedAt<T extends { updatedAt: string }>(field: string) {
  return (old: T, incoming: T): T =>
    toMs(incoming.updatedAt, field) >= toMs(old.updatedAt, field) ? incoming : old;
}

export function mergeAlert(old: Alert, incoming: Alert): Alert {
  const acked = incoming.acknowledgedAt === null ? old : incoming;
  return {
    ...incoming,
    clearedAt: old.clearedAt ?? incoming.clearedAt,
    acknowledgedBy: acked.acknowledgedBy,
    acknowledgedAt: acked.acknowledgedAt,
  };
}

/** A non-finite value cannot be stored on either dialect the same way: refuse it clearly. */
function checkSample(s: MetricSample): MetricSample {
  if (!Number.isFinite(s.value)) {
    throw new CcError(
      'VALIDATION_FAILED',
      `metric ${s.name} of ${s.deviceId} is not a finite number`,
      {
        deviceId: s.deviceId,
        name: s.name,
      },
    );
  }
  return s;
}

export function foldBatch(batch: WriteBatch): WriteBatch {
  return {
    devices: foldBy(batch.devices, (d) => d.id, mergeDevice),
    jobs: foldBy(batch.jobs, (j) => j.id, byUpdatedAt<Job>('job.updatedAt')),
    alerts: foldBy(batch.alerts, (a) => a.id, mergeAlert),
    consumables: foldBy(
      batch.consumables,
      (c) => `${c.deviceId}\u0000${c.slot}`,
      byUpdatedAt<Consumable>('consumable.updatedAt'),
    ),
    metrics: foldBy(
      batch.metrics.map(checkSample),
      (s) => `${s.deviceId}\u0000${s.name}\u0000${toMs(s.ts, 'metric.ts')}`,
      (_old, incoming) => incoming,
    ),
  };
}
