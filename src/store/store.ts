// The Store interface: everything the product persists. SQLite (embedded default) and PostgreSQL
// (scale-out) implement it; one contract suite (store-contract.ts) runs against every implementation.

import type {
  Alert,
  AlertSeverity,
  CommandStatus,
  Consumable,
  DeviceCommand,
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

/** A list limited to these devices (a principal's visible devices); an empty list matches nothing. */
export interface DeviceScopeFilter {
  deviceIds?: readonly string[];
}

export interface JobFilter extends PageQuery, DeviceScopeFilter {
  deviceId?: string;
  state?: JobState;
  owner?: string;
  /** RFC 3339: jobs whose updatedAt is at or after this time. */
  since?: string;
  until?: string;
}

export interface AlertFilter extends PageQuery, DeviceScopeFilter {
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
  /** Site ids the user is limited to; null for every site. */
  sites: string[] | null;
  lastLoginAt: string | null;
}

/** A user as created: the scope defaults to every site, the last login to never. */
export type NewUser = Omit<User, 'sites' | 'lastLoginAt'> &
  Partial<Pick<User, 'sites' | 'lastLoginAt'>>;

/** What an update may change; absent fields stay as they are. */
export type UserChanges = Partial<
  Pick<User, 'role' | 'sites' | 'disabledAt' | 'passwordHash' | 'lastLoginAt'>
>;

/** The organization this server belongs to (there is one). */
export interface Organization {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface Site {
  /** A slug: 1–64 of A-Z a-z 0-9 . _ - starting with a letter or digit. */
  id: string;
  name: string;
  description: string | null;
  /** IANA time zone name, e.g. Europe/Berlin. */
  timezone: string | null;
  createdAt: string;
}

export type SiteChanges = Partial<Pick<Site, 'name' | 'description' | 'timezone'>>;

/** An invitation to create an account: only the hash of its one-time token is kept. */
export interface Invite {
  id: string;
  tokenHash: string;
  /** The user name the invitee must take; null to let them choose. */
  username: string | null;
  role: Role;
  sites: string[] | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
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
  /** What the token may reach beyond its role: sites and the API Proxy. */
  scope: TokenScope;
}

/** Which device Web Services calls an API Proxy token may make. */
export interface ProxyScope {
  /** Device ids, or null for every device the token's sites allow. */
  devices: string[] | null;
  /** HTTP methods, upper case (e.g. ["GET"]). */
  methods: string[];
  /** Path prefixes under /ws/v1/ (e.g. ["/ws/v1/status"]); a prefix matches whole segments. */
  paths: string[];
}

export interface TokenScope {
  /** Site ids the token is limited to; null for every site its user may see. */
  sites: string[] | null;
  /** API Proxy access; null for none (the token cannot use the proxy). */
  proxy: ProxyScope | null;
}

export const UNSCOPED: TokenScope = Object.freeze({ sites: null, proxy: null });

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
  /** Every user, by user name. */
  list(): Promise<User[]>;
  create(user: NewUser): Promise<void>;
  /** Resolves with the user as stored, undefined if unknown. */
  update(id: string, changes: UserChanges): Promise<User | undefined>;
  /** Removes the user with its sessions and API tokens; false if unknown. */
  remove(id: string): Promise<boolean>;
}

export interface OrganizationRepository {
  get(): Promise<Organization | undefined>;
  put(organization: Organization): Promise<void>;
}

export interface SiteRepository {
  get(id: string): Promise<Site | undefined>;
  /** By id. */
  list(): Promise<Site[]>;
  /** CONFLICT when the id is taken. */
  create(site: Site): Promise<void>;
  update(id: string, changes: SiteChanges): Promise<Site | undefined>;
  remove(id: string): Promise<boolean>;
}

export interface InviteRepository {
  get(id: string): Promise<Invite | undefined>;
  byTokenHash(tokenHash: string): Promise<Invite | undefined>;
  /** Not accepted and not expired at `now`, newest first. */
  pending(now: string): Promise<Invite[]>;
  create(invite: Invite): Promise<void>;
  /** Marks the invite used; false when it was already used (single use, even under races). */
  consume(id: string, at: string, by: string): Promise<boolean>;
  /** Undoes `consume` when creating the account failed afterwards. */
  release(id: string): Promise<void>;
  remove(id: string): Promise<boolean>;
}

export interface SessionRepository {
  get(idHash: string): Promise<Session | undefined>;
  create(session: Session): Promise<void>;
  touch(idHash: string, lastSeenAt: string): Promise<void>;
  remove(idHash: string): Promise<void>;
  removeExpired(now: string): Promise<number>;
  /** Ends every session of the user except `keep` (a session id hash); returns how many ended. */
  removeForUser(userId: string, keep?: string): Promise<number>;
}

export interface ApiTokenRepository {
  get(id: string): Promise<ApiToken | undefined>;
  listForUser(userId: string): Promise<ApiToken[]>;
  create(token: ApiToken): Promise<void>;
  revoke(id: string, at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
}

/**
 * How the server reaches and names a device, as an admin set it up: its Web Services address and
 * pinned certificate, its credential (sealed), and the name and site the admin gave it.
 */
export interface DeviceRegistration {
  deviceId: string;
  /** `https://host:port` of the device's Web Services; null for an MQTT-only device. */
  baseUrl: string | null;
  /**
   * `none`: no Web Services; `pending`: added, waiting for an admin to confirm the fingerprint;
   * `pinned`: polled; `mismatch`: the device presented another certificate — not polled until an
   * admin approves the new one.
   */
  pinState: PinState;
  /** The SHA-256 fingerprint trusted for this device (colon-separated hex). */
  fingerprint256: string | null;
  /** The fingerprint the device presented when it differs from the pinned one (or awaits approval). */
  presentedFingerprint256: string | null;
  /** The device's Web Services credential, sealed with the data directory's secret key. */
  credentialSealed: string | null;
  /** Name the admin gave the device; overrides the one it reports. */
  displayName: string | null;
  siteId: string | null;
  createdAt: string;
  updatedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
}

export const PIN_STATES = ['none', 'pending', 'pinned', 'mismatch'] as const;
export type PinState = (typeof PIN_STATES)[number];

export interface DeviceRegistrationRepository {
  get(deviceId: string): Promise<DeviceRegistration | undefined>;
  all(): Promise<DeviceRegistration[]>;
  put(registration: DeviceRegistration): Promise<void>;
  remove(deviceId: string): Promise<void>;
}

export interface CommandFilter extends PageQuery, DeviceScopeFilter {
  deviceId?: string;
  status?: CommandStatus;
}

export interface CommandRepository {
  get(id: string): Promise<DeviceCommand | undefined>;
  create(command: DeviceCommand): Promise<void>;
  /**
   * Records the outcome of a pending command; the first outcome stands. Resolves with the
   * command as stored, undefined if unknown.
   */
  complete(
    id: string,
    outcome: { status: CommandStatus; message: string | null; completedAt: string },
  ): Promise<DeviceCommand | undefined>;
  /** Newest first. */
  list(filter: CommandFilter): Promise<Page<DeviceCommand>>;
  /** Commands still pending (e.g. after a restart). */
  pending(): Promise<DeviceCommand[]>;
}

/** One line of the append-only audit log: who did what, when, from where, and how it ended. */
export interface AuditEntry {
  id: string;
  at: string;
  /** A user name, `token:<name>`, or `system`. */
  actor: string;
  /** Dotted verb, e.g. `device.add`, `device.approve`, `job.pause`. */
  action: string;
  /** What was acted on (a device id, a command id …). */
  target: string;
  outcome: 'ok' | 'refused' | 'failed';
  /** Client address, when the action came over the network. */
  source: string | null;
  /** Small structured details (no secrets). */
  details: Record<string, unknown>;
}

export interface AuditFilter extends PageQuery {
  actor?: string;
  /** An action, or a prefix ending in `*` (e.g. `user.*`). */
  action?: string;
  outcome?: AuditEntry['outcome'];
  target?: string;
  since?: string;
  until?: string;
}

/** Append-only: no update or delete exists here, and the database refuses them (migration 004). */
export interface AuditRepository {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(filter: AuditFilter): Promise<Page<AuditEntry>>;
}

/** Small named values the server keeps (e.g. the pending setup token hash). */
export interface SettingRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** The server's enrollment with the vendor cloud; there is at most one. */
export interface UplinkEnrollment {
  organizationId: string;
  siteId: string;
  /** Key id the cloud knows the site secret by (`kid` in every envelope). */
  kid: string;
  /** The site secret, sealed by the caller with the data directory's secret box; opaque here. */
  sealedSecret: string;
  /** Base URL of the cloud endpoint. */
  endpoint: string;
  enrolledAt: string;
  /** Who enrolled (a user name, `token:<name>`, or `system`). */
  enrolledBy: string;
}

/** One change of the customer's consent to share a category of data with the vendor cloud. */
export interface ConsentChange {
  id: string;
  /** What may be shared, e.g. `fleet-health`, `job-details`. */
  category: string;
  granted: boolean;
  at: string;
  /** Who changed it (a user name, `token:<name>`, or `system`). */
  by: string;
  /** Where the change came from (a client address, `cli`, `setup` …), when known. */
  source: string | null;
}

/** The standing decision for one category: the last change recorded for it. */
export interface ConsentState {
  granted: boolean;
  at: string;
  by: string;
}

/** What the uplink remembers between runs; null when never set. */
export interface UplinkState {
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: { message: string; at: string } | null;
  /** The key that pseudonymizes identifiers in reports, sealed by the caller; opaque here. */
  sealedPseudonymKey: string | null;
}

/** Enrollment, consent history and the uplink's small state. */
export interface UplinkRepository {
  enrollment(): Promise<UplinkEnrollment | undefined>;
  /** Replaces the current enrollment. */
  saveEnrollment(enrollment: UplinkEnrollment): Promise<void>;
  /** Forgets the enrollment; false when there was none. */
  clearEnrollment(): Promise<boolean>;
  /**
   * Records a consent change. The history is append-only: no update or delete exists here, and
   * the database refuses them (migration 005). CONFLICT when the id is taken.
   */
  appendConsent(change: ConsentChange): Promise<void>;
  /** Newest first (in the order recorded), optionally for one category. */
  consentHistory(category?: string): Promise<ConsentChange[]>;
  /** The last change recorded per category (recording order, not `at`, decides). */
  currentConsent(): Promise<Record<string, ConsentState>>;
  state(): Promise<UplinkState>;
  /** Sets the fields given (null clears one) in one transaction; resolves with the whole state. */
  updateState(changes: Partial<UplinkState>): Promise<UplinkState>;
}

export const OUTBOX_KINDS = ['periodic', 'critical'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/** A sealed report waiting to be sent; `body` is the envelope, opaque to the store. */
export interface OutboxItem {
  seq: number;
  kind: OutboxKind;
  body: string;
  /** UTF-8 length of `body`. */
  bytes: number;
  createdAt: string;
}

export interface OutboxStats {
  count: number;
  bytes: number;
  /** When the oldest waiting item was appended; null when the outbox is empty. */
  oldestAt: string | null;
  criticalCount: number;
}

export interface OutboxDropResult {
  dropped: number;
  droppedBytes: number;
  /** How many of the dropped items were critical (only when critical items alone broke the bound). */
  criticalDropped: number;
}

/**
 * The durable, ordered queue of sealed uplink reports. `seq` is strictly increasing and never
 * reused — across removals, restarts and `clear()` — because the cloud rejects replays by it.
 */
export interface OutboxRepository {
  /**
   * Allocates the next seq, builds the item for it and stores both in one transaction: the seq is
   * sealed inside the envelope, so it must be known before the body exists. `build` may run more
   * than once when another connection appends at the same moment; nothing is stored if it throws.
   */
  append(
    build: (seq: number) => { kind: OutboxKind; body: string },
    at: Date,
  ): Promise<{ seq: number; bytes: number }>;
  /** Up to `limit` items, oldest (lowest seq) first. */
  peek(limit: number): Promise<OutboxItem[]>;
  /** False when the item was not there (already removed or dropped). */
  remove(seq: number): Promise<boolean>;
  stats(): Promise<OutboxStats>;
  /** How many items wait; cheaper than `stats()` (it never reads the bodies), for every scrape. */
  count(): Promise<number>;
  /**
   * Brings the outbox within `maxBytes` and `maxItems`: first drops any item bigger than
   * `maxBytes` by itself (it can never fit), then the oldest periodic items, and only when the
   * critical items alone exceed a bound, the oldest critical ones.
   */
  dropForBound(maxBytes: number, maxItems: number): Promise<OutboxDropResult>;
  /** Removes every item (un-enrollment) and returns how many; the seq counter is kept. */
  clear(): Promise<number>;
  /** The last seq allocated; 0 before the first append. */
  lastSeq(): Promise<number>;
}

/** One check of a package's admission verdict (signature, image hash, expiry …). */
export interface FirmwareCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A firmware package the server verified and keeps (the file lives under <dataDir>/firmware/). */
export interface FirmwarePackage {
  /** SHA-256 (hex) of the whole package file: the same bytes are one package. */
  id: string;
  name: string;
  version: string;
  models: string[];
  imageSize: number;
  imageSha256: string;
  releasedAt: string;
  expiresAt: string;
  allowDowngrade: boolean;
  /** Vendor key ids whose signatures counted. */
  signers: string[];
  packageBytes: number;
  /** Path relative to the firmware directory. */
  file: string;
  /** `upload`, or the sync URL the package came from (without credentials). */
  source: string;
  addedAt: string;
  addedBy: string;
  /** The verdict at admission. */
  checks: FirmwareCheck[];
}

export interface FirmwarePackageFilter extends PageQuery {
  /** Packages for this device model (exact match against one of `models`). */
  model?: string;
  name?: string;
}

/** The server's catalog of verified firmware packages. */
export interface FirmwareCatalogRepository {
  /** CONFLICT when the id (the same bytes) is in the catalog already. */
  add(pkg: FirmwarePackage): Promise<void>;
  get(id: string): Promise<FirmwarePackage | undefined>;
  /** Newest `addedAt` first. */
  list(filter: FirmwarePackageFilter): Promise<Page<FirmwarePackage>>;
  /** Every package with that name and version (different bytes may share them), newest first. */
  findByNameVersion(name: string, version: string): Promise<FirmwarePackage[]>;
  /**
   * False when unknown. CONFLICT while an unfinished (running or paused) rollout uses the package;
   * finished rollouts keep its id as history and do not hold it.
   */
  remove(id: string): Promise<boolean>;
}

export const ROLLOUT_STATES = ['running', 'paused', 'aborted', 'completed'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
/** The states of a rollout still under way: it holds its package and its devices. */
export const UNFINISHED_ROLLOUT_STATES = ['running', 'paused'] as const satisfies RolloutState[];

export const ROLLOUT_DEVICE_STATUSES = [
  'queued',
  'transferring',
  'verifying',
  'installing',
  'done',
  'failed',
  'skipped',
] as const;
export type RolloutDeviceStatus = (typeof ROLLOUT_DEVICE_STATUSES)[number];

export const ROLLOUT_STAGES = ['canary', 'rest'] as const;
export type RolloutStage = (typeof ROLLOUT_STAGES)[number];

/** Which devices a rollout targets; absent lists do not limit. */
export interface RolloutSelection {
  models?: string[];
  sites?: string[];
  devices?: string[];
}

/** A staged installation of one package on a set of devices: canary first, then the rest. */
export interface Rollout {
  id: string;
  packageId: string;
  state: RolloutState;
  /** Why it is paused (e.g. "failure threshold reached: 2 of 20 failed"), or null. */
  pausedReason: string | null;
  canarySize: number;
  concurrency: number;
  /** Failures that pause it. */
  failureThreshold: number;
  selection: RolloutSelection;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** One device's place and progress in a rollout. */
export interface RolloutDevice {
  rolloutId: string;
  deviceId: string;
  stage: RolloutStage;
  /** Order within the rollout, canary first; distinct within a rollout. */
  order: number;
  status: RolloutDeviceStatus;
  reason: string | null;
  fromVersion: string | null;
  toVersion: string;
  /** 0–100 while transferring or installing, else null. */
  progress: number | null;
  updatedAt: string;
}

export interface RolloutFilter extends PageQuery {
  state?: RolloutState;
}

/** What an update may change; absent fields stay as they are. */
export type RolloutChanges = Partial<
  Pick<Rollout, 'state' | 'pausedReason' | 'updatedAt' | 'finishedAt'>
>;
export type RolloutDeviceChanges = Partial<
  Pick<RolloutDevice, 'status' | 'reason' | 'progress' | 'updatedAt' | 'fromVersion'>
>;

/**
 * Staged firmware rollouts. A device is in at most one unfinished rollout, and an unfinished
 * rollout's package cannot leave the catalog: the database enforces both (migration 006).
 */
export interface RolloutRepository {
  /**
   * Stores the rollout and its devices in one transaction: all or nothing. An unfinished rollout
   * holds its devices and its package. VALIDATION_FAILED when the package is not in the catalog, or
   * a device names another rollout or is listed twice, or two devices share an order; CONFLICT when
   * the id is taken or another unfinished rollout holds one of the devices.
   */
  create(rollout: Rollout, devices: RolloutDevice[]): Promise<void>;
  get(id: string): Promise<Rollout | undefined>;
  /** Newest `createdAt` first. */
  list(filter: RolloutFilter): Promise<Page<Rollout>>;
  /** The rollout's devices by order; empty for an unknown rollout. */
  devices(rolloutId: string): Promise<RolloutDevice[]>;
  /**
   * Resolves with the rollout as stored, undefined if unknown. A state change takes or releases
   * the hold on the package and devices in the same transaction: CONFLICT when a finished rollout
   * is made unfinished again after its package left the catalog or one of its devices joined
   * another unfinished rollout.
   */
  update(id: string, changes: RolloutChanges): Promise<Rollout | undefined>;
  /** Resolves with the device as stored, undefined if the rollout has no such device. */
  updateDevice(
    rolloutId: string,
    deviceId: string,
    changes: RolloutDeviceChanges,
  ): Promise<RolloutDevice | undefined>;
  /** Unfinished rollouts (running or paused), oldest first, to resume after a restart. */
  unfinished(): Promise<Rollout[]>;
  /** The unfinished rollout a device is part of, if any (a device is in at most one). */
  activeForDevice(
    deviceId: string,
  ): Promise<{ rollout: Rollout; device: RolloutDevice } | undefined>;
}

/** How far the database may still grow, as the storage-health monitor checks it. */
export interface StoreCapacity {
  /**
   * Bytes the database may still take under its own size limit (SQLite: `max_page_count` of the
   * connection, free pages included); null when it has no limit of its own below the disk's.
   */
  headroomBytes(): Promise<number | null>;
  /**
   * Caps the database's size on this connection, in bytes (SQLite: `max_page_count`; never below
   * the current size), or lifts the cap with null; resolves with the cap in effect. Reserves room
   * for maintenance, and lets a test fill the store without filling the disk.
   */
  limitSize(bytes: number | null): Promise<number | null>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** The database's own size limit, beside the disk's free space. */
  readonly capacity: StoreCapacity;
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
  readonly registrations: DeviceRegistrationRepository;
  readonly commands: CommandRepository;
  readonly audit: AuditRepository;
  readonly organization: OrganizationRepository;
  readonly sites: SiteRepository;
  readonly invites: InviteRepository;
  readonly uplink: UplinkRepository;
  readonly outbox: OutboxRepository;
  readonly firmware: FirmwareCatalogRepository;
  readonly rollouts: RolloutRepository;
  close(): Promise<void>;
}

export function emptyBatch(): WriteBatch {
  return { devices: [], jobs: [], alerts: [], consumables: [], metrics: [] };
}
