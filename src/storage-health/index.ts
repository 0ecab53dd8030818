// Storage health: whether the server has room to write in its data directory (ok, low, full), the
// gate every writing subsystem asks before writing and tells about failed writes, and its metrics.
export {
  createStorageHealth,
  PROBE_SETTING,
  type StorageCause,
  type StorageGate,
  type StorageHealth,
  type StorageHealthDeps,
  type StorageHealthSettings,
  type StorageSnapshot,
} from './storage-health.js';
export {
  STORAGE_STATES,
  WRITE_SOURCES,
  type StorageState,
  type WriteSource,
} from './storage-metrics.js';
export {
  classifyStorageFailure,
  storageFailureCode,
  type StorageFailure,
} from './write-failures.js';
