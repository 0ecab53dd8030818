// Builders and inputs shared by the store contract suite.

import type { Alert, Consumable, Device, Job, MetricSample } from '../../domain/index.js';
import { emptyBatch, type WriteBatch } from '../store.js';

export const T0 = Date.parse('2024-03-01T12:00:00.000Z');

/** RFC 3339 time `seconds` after T0, in the normalized form the store returns. */
export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** Strings that break naive SQL, LIKE patterns or encodings; all must round-trip verbatim. NUL is
 * left out because PostgreSQL text cannot hold it. */
export const HOSTILE_STRINGS = [
  "'; DROP TABLE devices; --",
  "Robert'); DROP TABLE jobs;--",
  '" OR 1=1 --',
  '%_\\%\\_',
  'Drücker 🖨️ 打印机 مرحبا',
  'line\nbreak\ttab\r\n',
  '\u202Eright-to-left override',
  'x'.repeat(10_000),
];

export function device(over: Partial<Device> = {}): Device {
  return {
    id: 'dev-1',
    kind: 'printer',
    model: 'HP Jet Fusion 5200',
    serial: 'SN-0001',
    name: 'Printer one',
    siteId: 'site-a',
    firmwareVersion: '1.2.3',
    address: 'https://10.0.0.5',
    state: 'idle',
    lastSeenAt: at(0),
    stateAt: at(0),
    ...over,
  };
}

export function job(over: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    deviceId: 'dev-1',
    name: 'Brackets',
    owner: 'alice',
    state: 'printing',
    progress: 12.5,
    startedAt: at(0),
    estimatedEndAt: at(3600),
    endedAt: null,
    layer: 10,
    layers: 800,
    materialUsedG: 41.25,
    updatedAt: at(0),
    ...over,
  };
}

export function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'alert-1',
    deviceId: 'dev-1',
    code: 'TEMP_HIGH',
    severity: 'warning',
    message: 'Build chamber temperature high',
    raisedAt: at(0),
    clearedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    ...over,
  };
}

export function consumable(over: Partial<Consumable> = {}): Consumable {
  return {
    deviceId: 'dev-1',
    slot: 'agent-1',
    type: 'agent',
    level: 80,
    status: 'ok',
    expiresAt: at(86_400),
    updatedAt: at(0),
    ...over,
  };
}

export function sample(
  name: string,
  seconds: number,
  value: number,
  deviceId = 'dev-1',
): MetricSample {
  return { deviceId, name, ts: at(seconds), value };
}

export function batch(over: Partial<WriteBatch>): WriteBatch {
  return { ...emptyBatch(), ...over };
}

export const PAGE = { limit: 100, offset: 0 };
