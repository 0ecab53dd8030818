// The Store interface: everything the product persists. SQLite (embedded default) and PostgreSQL
// (scale-out) implement it; one contract suite (store-contract.ts) runs against every implementation.

import type {
  Alert,
  AlertSeverity,
  Consumable,
  Device,
  DeviceKind,
  DeviceState,
  FleetWrites,
  Job,
  JobState,
  MetricSeries,
  Page,
  PageQuery,
} from '../domain/index.js';

/** One transaction's worth of ingest writes: applied all-or-nothing by `applyBatch`. */
export type WriteBatch = FleetWrites;

export interface DeviceFilter extends PageQuery {
  siteId?: string;
  kind?: DeviceKind;
  state?: DeviceState;
  /** Case-insensitive substring of id, name, model or serial. */
  q?: string;
}

export interface JobFilter extends PageQuery {
  deviceId?: string;
  state?: JobState;
  owner?: string;
  /** RFC 3339: jobs whose updatedAt is at or after this time. */
  since?: string;
  until?: string;
}

export interface AlertFilter extends PageQuery {
  deviceId?: string;
  severity?: AlertSeverity;
  /** open = not cleared; cleared = cleared. */
  status?: 'open' | 'cleared';
  since?: string;
  until?: string;
}

export interface MetricQuery {
  deviceId: string;
  /**
   * Metric names; all of the device's metrics (sorted by name) when empty. Requested names come
   * back in the order asked, with empty `points` when a name has no samples in the range.
   */
  names: string[];
  /** Inclusive. */
  from: string;
  /** Exclusive. */
  to: string;
  /** Bucket width in seconds (>= 1); buckets start at multiples of the width since the epoch. */
  stepSeconds: number;
}

export interface DeviceCredential {
  deviceId: string;
  /** Hash of the device token (never the token itself). */
  tokenHash: string;
  createdAt: string;
}

export type Role = 'admin' | 'operator' | 'dashboard' | 'user';

export interface User {
  id: string;
  username: string;
  role: Role;
  passwordHash: string;
  createdAt: string;
  disabledAt: string | null;
}

export interface Session {
  /** Hash of the session secret held in the client's cookie. */
  idHash: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** Hash of the secret part of the token. */
  secretHash: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface DeviceRepository {
  get(id: string): Promise<Device | undefined>;
  list(filter: DeviceFilter): Promise<Page<Device>>;
  /** Every device (for loading fleet state at start-up). */
  all(): Promise<Device[]>;
  /** Newest wins: ignored when `stateAt` is older than the stored one. */
  upsert(device: Device): Promise<void>;
  /** Forgets the device and everything recorded about it (jobs, alerts, consumables, metric
   * samples, its credential). */
  remove(id: string): Promise<void>;
}

export interface JobRepository {
  get(id: string): Promise<Job | undefined>;
  list(filter: JobFilter): Promise<Page<Job>>;
  /** Jobs not in a final state (for loading fleet state at start-up). */
  active(): Promise<Job[]>;
}

export interface AlertRepository {
  get(id: string): Promise<Alert | undefined>;
  list(filter: AlertFilter): Promise<Page<Alert>>;
  open(): Promise<Alert[]>;
  /** The first acknowledgement stands; resolves with the alert as stored, undefined if unknown. */
  acknowledge(id: string, by: string, at: string): Promise<Alert | undefined>;
}

export interface ConsumableRepository {
  all(): Promise<Consumable[]>;
  forDevice(deviceId: string): Promise<Consumable[]>;
}

export interface MetricRepository {
  /** Down-sampled series: avg/min/max per bucket of `stepSeconds`. */
  query(q: MetricQuery): Promise<MetricSeries[]>;
  /** Deletes samples older than `before`; returns how many were deleted. */
  prune(before: string): Promise<number>;
}

export interface DeviceCredentialRepository {
  get(deviceId: string): Promise<DeviceCredential | undefined>;
  put(credential: DeviceCredential): Promise<void>;
  remove(deviceId: string): Promise<void>;
}

export interface UserRepository {
  get(id: string): Promise<User | undefined>;
  byUsername(username: string): Promise<User | undefined>;
  count(): Promise<number>;
  create(user: User): Promise<void>;
}

export interface SessionRepository {
  get(idHash: string): Promise<Session | undefined>;
  create(session: Session): Promise<void>;
  touch(idHash: string, lastSeenAt: string): Promise<void>;
  remove(idHash: string): Promise<void>;
  removeExpired(now: string): Promise<number>;
}

export interface ApiTokenRepository {
  get(id: string): Promise<ApiToken | undefined>;
  listForUser(userId: string): Promise<ApiToken[]>;
  create(token: ApiToken): Promise<void>;
  revoke(id: string, at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
}

/** Small named values the server keeps (e.g. the pending setup token hash). */
export interface SettingRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending schema migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Applies a batch in one transaction; resolves only once it is durable. Rows never move
   * backwards: devices older than stored (`stateAt`), jobs and consumables older than stored
   * (`updatedAt`) are ignored; a cleared alert stays cleared; an incoming alert without an
   * acknowledgement keeps the stored one. Invalid times or non-finite metric values reject the
   * whole batch with VALIDATION_FAILED; database failures reject with STORE_FAILED.
   */
  applyBatch(batch: WriteBatch): Promise<void>;
  readonly devices: DeviceRepository;
  readonly jobs: JobRepository;
  readonly alerts: AlertRepository;
  readonly consumables: ConsumableRepository;
  readonly metrics: MetricRepository;
  readonly deviceCredentials: DeviceCredentialRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly settings: SettingRepository;
  close(): Promise<void>;
}

export function emptyBatch(): WriteBatch {
  return { devices: [], jobs: [], alerts: [], consumables: [], metrics: [] };
}
