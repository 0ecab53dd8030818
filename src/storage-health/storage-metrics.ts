// Prometheus metrics of the storage-health monitor: the state as a number to alert on, the free
// space it measured, and the writes refused while the disk is full, by the subsystem refused.

import { Counter, Gauge, type Registry } from '../observability/index.js';

export const STORAGE_STATES = ['ok', 'low', 'full'] as const;
export type StorageState = (typeof STORAGE_STATES)[number];

/** Who tried to write: API requests, device messages, fleet updates (poller, liveness), uplink. */
export const WRITE_SOURCES = ['api', 'mqtt', 'fleet', 'uplink'] as const;
export type WriteSource = (typeof WRITE_SOURCES)[number];

export interface StorageMetrics {
  state: Gauge;
  freeBytes: Gauge;
  minFreeBytes: Gauge;
  refused: Counter<'source'>;
}

export function createStorageMetrics(registry: Registry): StorageMetrics {
  const refused = new Counter({
    name: 'cc_storage_refused_writes_total',
    help: 'Writes refused because the data directory was full, by source (api, mqtt, fleet, uplink).',
    labelNames: ['source'],
    registers: [registry],
  });
  // Every source from the start, so an alert rule sees 0 rather than no series.
  for (const source of WRITE_SOURCES) refused.inc({ source }, 0);
  return {
    state: new Gauge({
      name: 'cc_storage_state',
      help: 'Storage of the data directory: 0 ok, 1 low (under twice the minimum free), 2 full (writes refused).',
      registers: [registry],
    }),
    freeBytes: new Gauge({
      name: 'cc_storage_free_bytes',
      help: 'Free bytes where the server writes: the data directory file system, or the room left under the database size limit when smaller.',
      registers: [registry],
    }),
    minFreeBytes: new Gauge({
      name: 'cc_storage_min_free_bytes',
      help: 'Free bytes the server keeps (storage.minFreeMb); below it writes are refused.',
      registers: [registry],
    }),
    refused,
  };
}

export function stateValue(state: StorageState): number {
  return STORAGE_STATES.indexOf(state);
}
