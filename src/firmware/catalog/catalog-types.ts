// The server's firmware catalog as the API, the CLI and rollouts see it: admission of verified
// packages (upload or sync), the list, removal, the trust policy in force and the sync's state.

import type { Readable } from 'node:stream';
import type { Page } from '../../domain/index.js';
import type { Logger, Registry } from '../../observability/index.js';
import type {
  AuditEntry,
  FirmwareCheck,
  FirmwarePackage,
  FirmwarePackageFilter,
  Store,
} from '../../store/index.js';
import type { ProxyChoice } from '../../uplink/sender/index.js';
import type { TrustPolicy } from '../vendor-keys.js';

/** Who admits or removes a package, for the audit log. */
export interface CatalogActor {
  /** A user name, `<user> (token)`, or `system` for the periodic sync. */
  name: string;
  /** Client address, when the action came over the network. */
  source: string | null;
}

export interface CatalogDeps {
  store: Pick<Store, 'firmware'>;
  logger: Logger;
  audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  metrics?: Registry;
  /** Default: the system clock. */
  now?: () => Date;
}

export interface SyncSettings {
  /** https:// or ftp:// repository URL; ftp may carry credentials. Null: sync is off. */
  url: string | null;
  /** 0: manual only. */
  intervalMinutes: number;
  allowedHosts: readonly string[];
  /** Extra CA (PEM) for an https:// repository. */
  ca: string | null;
  /** Proxy for https:// repositories (FTP connects directly). */
  proxy: ProxyChoice;
  downloadTimeoutMs: number;
  syncTimeoutMs: number;
  /** Delay of the first periodic sync after start (default one minute, capped by the interval). */
  firstSyncDelayMs?: number;
}

export interface CatalogSettings {
  /** Where package files live: `<dataDir>/firmware`. */
  dir: string;
  /** Null when no vendor key is configured: every package is refused. */
  trust: TrustPolicy | null;
  maxPackageBytes: number;
  sync: SyncSettings;
}

export interface AdmitOptions {
  /** `upload`, or the URL (without credentials) the package was downloaded from. */
  origin: string;
  /** A length announced before the bytes (Content-Length, a listing): over the limit is refused at once. */
  declaredBytes?: number | null;
  /** The package's SHA-256 as a repository index gives it; different bytes are refused. */
  expectedSha256?: string | null;
  signal?: AbortSignal;
}

export interface Admission {
  package: FirmwarePackage;
  /** False when the same bytes were in the catalog already (the existing record is returned). */
  created: boolean;
}

export interface TrustView {
  /** False when no vendor key is configured: every package is refused. */
  configured: boolean;
  threshold: number;
  /** Key ids only (first 16 hex digits of the SHA-256 of the SPKI), never key material. */
  keys: Array<{ id: string; retired: boolean }>;
}

/** A repository file the sync did not admit, and why. */
export interface SyncRefusal {
  file: string;
  /** A FIRMWARE_* code, or DOWNLOAD_FAILED when the file could not be fetched. */
  code: string;
  reason: string;
  /** The checks that failed, when the package was verified. */
  checks: FirmwareCheck[];
}

export interface SyncSummary {
  /** The repository, credentials masked. */
  url: string;
  trigger: 'manual' | 'periodic';
  startedAt: string;
  finishedAt: string;
  /** False when the repository could not be listed (see `error`); refused files do not count. */
  ok: boolean;
  error: string | null;
  /** Package files the repository lists. */
  listed: number;
  /** Of those, not in the catalog yet (downloaded and verified, or left for later). */
  new: number;
  admitted: Array<{ file: string; id: string; name: string; version: string }>;
  refused: SyncRefusal[];
  /** New files not reached before the sync's time ran out. */
  postponed: string[];
}

export interface SyncStatus {
  configured: boolean;
  /** The repository, credentials masked; null when no firmware.syncUrl is set. */
  url: string | null;
  intervalMinutes: number;
  running: boolean;
  nextAt: string | null;
  last: SyncSummary | null;
}

export interface FirmwareCatalog {
  readonly maxPackageBytes: number;
  /**
   * Receives, verifies and stores a package. Throws FirmwareError (details.checks: every check)
   * when it is refused; nothing is kept then.
   */
  admit(source: Readable, by: CatalogActor, options: AdmitOptions): Promise<Admission>;
  list(filter: FirmwarePackageFilter): Promise<Page<FirmwarePackage>>;
  /** NOT_FOUND when unknown. */
  get(id: string): Promise<FirmwarePackage>;
  /** The package file's absolute path (what a rollout sends to devices). */
  fileOf(pkg: FirmwarePackage): string;
  /** NOT_FOUND when unknown; CONFLICT while an unfinished rollout uses it. */
  remove(id: string, by: CatalogActor): Promise<void>;
  trust(): TrustView;
  /** Runs a sync now (or joins the one running). CONFLICT when no firmware.syncUrl is set. */
  sync(by: CatalogActor): Promise<SyncSummary>;
  syncStatus(): SyncStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
}
