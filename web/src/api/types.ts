// The shapes the Client API answers (docs/api.md). The server validates and serializes them with
// its schemas, so the client trusts them as typed here.

export const DEVICE_STATES = [
  'error',
  'offline',
  'paused',
  'maintenance',
  'updating',
  'printing',
  'idle',
] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const DEVICE_KINDS = [
  'printer',
  'processing-station',
  'build-unit',
  'cooling-unit',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const JOB_STATES = [
  'queued',
  'printing',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const ALERT_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export type ConsumableStatus = 'ok' | 'low' | 'empty' | 'expired';

export interface Job {
  id: string;
  deviceId: string;
  name: string;
  owner: string;
  state: JobState;
  progress: number;
  startedAt: string | null;
  estimatedEndAt: string | null;
  endedAt: string | null;
  layer: number | null;
  layers: number | null;
  materialUsedG: number | null;
  updatedAt: string;
}

export interface Alert {
  id: string;
  deviceId: string;
  code: string;
  severity: AlertSeverity;
  message: string;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
}

export interface Consumable {
  deviceId: string;
  slot: string;
  type: string;
  level: number;
  status: ConsumableStatus;
  expiresAt: string | null;
  updatedAt: string;
}

export interface DeviceView {
  id: string;
  kind: DeviceKind;
  model: string;
  serial: string;
  name: string;
  siteId: string | null;
  firmwareVersion: string;
  address: string | null;
  state: DeviceState;
  lastSeenAt: string | null;
  stateAt: string | null;
  currentJob: Job | null;
  consumables: Consumable[];
  openAlerts: Alert[];
  metrics: Record<string, { value: number; ts: string }>;
}

export interface DeviceCommand {
  id: string;
  deviceId: string;
  action: 'pause' | 'resume' | 'cancel' | 'acknowledge';
  targetId: string;
  channel: 'web-services' | 'mqtt';
  status: 'pending' | 'accepted' | 'rejected' | 'timed-out' | 'failed';
  message: string | null;
  requestedBy: string;
  requestedAt: string;
  completedAt: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type Role = 'admin' | 'operator' | 'dashboard' | 'user';

export interface Me {
  /** `sites`: the sites the user is limited to; null (or absent from older servers) for all. */
  user: { id: string; username: string; role: Role; sites?: string[] | null };
  via: 'session' | 'token';
  expiresAt: string | null;
  permissions: string[];
}

export type StorageState = 'ok' | 'low' | 'full';

/** Room to write in the server's data directory (GET /api/v1/info). */
export interface ServerStorage {
  /** low: under twice the minimum free; full: writes are refused (507 STORAGE_FULL). */
  state: StorageState;
  freeBytes: number | null;
  minFreeBytes: number;
  since: string;
  /** The directory short of space; signed-in callers only. */
  dir?: string;
  /** The cause and the fix; null while ok; signed-in callers only. */
  message?: string | null;
}

export interface ServerInfo {
  name: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  ports: { https: number; http: number; mqtt: number };
  setupRequired?: boolean;
  /** Absent from servers older than the storage monitor. */
  storage?: ServerStorage;
}

export interface MetricPoint {
  ts: string;
  avg: number;
  min: number;
  max: number;
}

export interface MetricHistory {
  deviceId: string;
  from: string;
  to: string;
  stepSeconds: number;
  series: { name: string; points: MetricPoint[] }[];
}

/** Messages of GET /api/v1/stream (docs/api.md, "Live stream"). */
export type StreamMessage =
  | {
      type: 'hello';
      protocol: number;
      version: string;
      serverTime: string;
      coalesceMs: number;
      user: { username: string; role: Role };
    }
  | { type: 'snapshot'; devices: DeviceView[] }
  | { type: 'device'; device: DeviceView }
  | { type: 'job'; job: Job }
  | { type: 'alert'; alert: Alert }
  | { type: 'command'; command: DeviceCommand }
  | { type: 'device-removed'; deviceId: string };

export const ROLES: readonly Role[] = ['admin', 'operator', 'dashboard', 'user'];

/** GET /api/v1/users */
export interface UserView {
  id: string;
  username: string;
  role: Role;
  sites: string[] | null;
  createdAt: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
  lockedUntil: string | null;
}

/** GET /api/v1/invites */
export interface InviteView {
  id: string;
  username: string | null;
  role: Role;
  sites: string[] | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
}

export interface CreatedInvite {
  invite: InviteView;
  token: string;
  path: string;
  url: string | null;
}

export interface Site {
  id: string;
  name: string;
  description: string | null;
  timezone: string | null;
  createdAt: string;
  devices: number;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** GET /api/v1/tokens */
export interface TokenSummary {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  scope: { sites: string[] | null; proxy: unknown };
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: 'ok' | 'refused' | 'failed';
  source: string | null;
  details: Record<string, unknown>;
}

/** Categories of non-anonymous report data that need recorded consent (docs/protocols/uplink-report.md). */
export const CONSENT_CATEGORIES = [
  'identity',
  'production',
  'labels',
  'network',
  'freeText',
] as const;
export type ConsentCategory = (typeof CONSENT_CATEGORIES)[number];

/** GET /api/v1/cloud/consent (and `consent` of the uplink status) */
export interface ConsentView {
  category: ConsentCategory;
  description: string;
  granted: boolean;
  at: string | null;
  by: string | null;
}

export type UplinkRoute = 'direct' | 'proxy';

export interface UplinkEnrollment {
  organizationId: string;
  siteId: string;
  kid: string;
  endpoint: string;
  enrolledAt: string;
  enrolledBy: string;
}

/** GET /api/v1/cloud */
export interface UplinkStatus {
  enabled: boolean;
  enrolled: boolean;
  enrollment: UplinkEnrollment | null;
  intervalSeconds: number;
  nextReportAt: string | null;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: { message: string; at: string } | null;
  delivery: {
    consecutiveFailures: number;
    retryAt: string | null;
    lastDelivered: { seq: number; at: string; via: UplinkRoute } | null;
  };
  outbox: {
    count: number;
    bytes: number;
    oldestAt: string | null;
    criticalCount: number;
    droppedTotal: number;
    limits: { maxBytes: number; maxItems: number };
  };
  /** `proxy`: the proxy URL with its password replaced. */
  route: { via: UplinkRoute; proxy: string | null };
  consent: ConsentView[];
  /** Standing problems of the uplink, e.g. UPLINK_REPORTS_DROPPED. */
  alerts: { code: string; message: string; at: string }[];
}

/** GET /api/v1/cloud/preview: the next periodic report before sealing, and its size. */
export interface UplinkPreview {
  report: unknown;
  bytes: number;
}

/** POST /api/v1/cloud/reports */
export interface QueuedReport {
  seq: number;
  bytes: number;
}

/** One check of a firmware verification: package-format, manifest-schema, signature, known-key … */
export interface FirmwareCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A package of the firmware catalog (GET /api/v1/firmware/packages). */
export interface FirmwarePackage {
  /** SHA-256 (hex) of the package file. */
  id: string;
  name: string;
  version: string;
  models: string[];
  imageSize: number;
  imageSha256: string;
  releasedAt: string;
  expiresAt: string;
  allowDowngrade: boolean;
  /** Ids of the vendor keys whose signatures counted. */
  signers: string[];
  packageBytes: number;
  /** `upload`, or the repository URL it was synced from. */
  source: string;
  addedAt: string;
  addedBy: string;
  /** The verdict at admission. */
  checks: FirmwareCheck[];
}

/** The body of a refused upload (413/422/409): the error and every check that ran. */
export interface FirmwareRefusal {
  error: { code: string; message: string };
  verdict?: { ok: boolean; checks: FirmwareCheck[] };
}

/** POST /api/v1/firmware/sync, and `last` of its status. */
export interface FirmwareSyncSummary {
  /** The repository, password masked. */
  url: string;
  trigger: 'manual' | 'periodic';
  startedAt: string;
  finishedAt: string;
  /** False when the repository could not be listed; `error` says why. */
  ok: boolean;
  error: string | null;
  listed: number;
  new: number;
  admitted: { file: string; id: string; name: string; version: string }[];
  refused: { file: string; code: string; reason: string; checks: FirmwareCheck[] }[];
  postponed: string[];
}

/** GET /api/v1/firmware/sync */
export interface FirmwareSyncStatus {
  configured: boolean;
  url: string | null;
  intervalMinutes: number;
  running: boolean;
  nextAt: string | null;
  last: FirmwareSyncSummary | null;
}

/** GET /api/v1/firmware/trust: key ids only, never key material. */
export interface FirmwareTrust {
  /** False: no vendor key is configured and every package is refused. */
  configured: boolean;
  threshold: number;
  keys: { id: string; retired: boolean }[];
}

export const ROLLOUT_STATES = ['running', 'paused', 'aborted', 'completed'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

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

/** Which devices a rollout targets: those matching every list given; absent lists do not limit. */
export interface RolloutSelection {
  models?: string[];
  sites?: string[];
  devices?: string[];
}

export interface RolloutDevice {
  rolloutId: string;
  deviceId: string;
  stage: 'canary' | 'rest';
  order: number;
  status: RolloutDeviceStatus;
  /** Why it failed or was skipped. */
  reason: string | null;
  fromVersion: string | null;
  toVersion: string;
  /** 0–100 while transferring or installing, when known. */
  progress: number | null;
  updatedAt: string;
}

/** GET /api/v1/firmware/rollouts (each item), and the `rollout` event of the event stream. */
export interface RolloutSummary {
  id: string;
  packageId: string;
  packageName: string | null;
  toVersion: string | null;
  state: RolloutState;
  pausedReason: string | null;
  canarySize: number;
  concurrency: number;
  failureThreshold: number;
  selection: RolloutSelection;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  finishedAt: string | null;
  total: number;
  counts: Record<RolloutDeviceStatus, number>;
}

/** GET /api/v1/firmware/rollouts/{id}, the answer of pause/resume/abort, and the `snapshot` event. */
export interface RolloutDetail extends RolloutSummary {
  /** Canary group first, in order. */
  devices: RolloutDevice[];
}

/** POST /api/v1/firmware/rollouts */
export interface CreatedRollout extends RolloutDetail {
  /** Selected devices the rollout did not take, and why. */
  excluded: { deviceId: string; reason: string }[];
  /** The selection was narrowed to these sites: the caller's own. */
  limitedToSites: string[] | null;
}

export interface RolloutCreateBody {
  packageId: string;
  selection: RolloutSelection;
  canarySize?: number;
  concurrency?: number;
  failureThreshold?: number;
}

export type DiagnosticStatus = 'ok' | 'warn' | 'fail' | 'skipped';
/** How an endpoint was reached; `local` for checks of this machine. */
export type DiagnosticPath = 'direct' | 'proxy' | 'local';
export type DiagnosticEndpointPath = Exclude<DiagnosticPath, 'local'>;
export type DiagnosticCheckName =
  | 'dns'
  | 'tcp'
  | 'tls'
  | 'ftp-banner'
  | 'https'
  | 'ports'
  | 'clock'
  | 'disk'
  | 'broker'
  | 'database'
  | 'bandwidth';

/** One check of a network doctor run. */
export interface DiagnosticCheck {
  /** `host:port` (`/ftp` for FTP endpoints), or a local subject: `clock`, `data directory` … */
  subject: string;
  name: DiagnosticCheckName;
  path: DiagnosticPath;
  status: DiagnosticStatus;
  detail: string;
  /** The likely cause, on warn and fail. */
  cause?: string;
  /** What to do about it, on warn and fail. */
  fix?: string;
  ms: number;
  /** A reading: clock skew in s, free MB, Mbit/s. */
  value?: number;
  unit?: string;
}

/** GET /api/v1/diagnostics (`run`, null before the first), POST /api/v1/diagnostics. */
export interface DiagnosticsRun {
  id: string;
  state: 'running' | 'done';
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  /** The proxy tested, without credentials. */
  proxy: string | null;
  /** Checks expected; `checks` grows to it while running. */
  total: number;
  /** In the order they finished while running; sorted when done. */
  checks: DiagnosticCheck[];
  /** Null while running. */
  summary: {
    ok: number;
    warn: number;
    fail: number;
    skipped: number;
    workingPaths: Record<string, DiagnosticEndpointPath[]>;
  } | null;
  /** 0 all good, 1 warnings, 2 failures; null while running. */
  exitCode: 0 | 1 | 2 | null;
}
