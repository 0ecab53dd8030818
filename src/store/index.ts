// The store's public surface: the Store interface, the SQLite implementation and the opener that
// picks an implementation from configuration. The contract suite is imported from
// `store/store-contract.js` by tests only (it depends on vitest).
export * from './store.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { openStore, type StoreConfig } from './open-store.js';
