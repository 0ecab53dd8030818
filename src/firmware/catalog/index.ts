// The server's firmware catalog: verified admission of packages (upload and sync from the vendor
// repository over https:// or ftp://), the trust policy from configuration, listing and removal.

export { createFirmwareCatalog, refusalChecks } from './firmware-catalog.js';
export { catalogSettingsOf, type CatalogConfig } from './catalog-config.js';
export { loadCatalogTrust, trustViewOf, type TrustConfig } from './catalog-trust.js';
export { parseSyncUrl, maskUrl, assertSyncAllowed, type SyncTarget } from './sync-url.js';
export {
  parseRepositoryIndex,
  isPackageFileName,
  MAX_INDEX_BYTES,
  MAX_INDEX_PACKAGES,
  type RemotePackage,
} from './repository-index.js';
export type {
  Admission,
  AdmitOptions,
  CatalogActor,
  CatalogDeps,
  CatalogSettings,
  FirmwareCatalog,
  SyncRefusal,
  SyncSettings,
  SyncStatus,
  SyncSummary,
  TrustView,
} from './catalog-types.js';
