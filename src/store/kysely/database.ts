// The table shapes every Kysely-based store shares (SQLite and PostgreSQL run the same migrations).
// Times are epoch-ms integers (bigint): exact range filters and bucketing by integer division.

import type { ColumnType } from 'kysely';

/**
 * PostgreSQL returns bigint as a string and SQLite as a number; writes always use numbers.
 * Readers go through `fromMs`/`toNumber`, which accept either.
 */
export type Millis = ColumnType<number | string, number, number>;
export type NullableMillis = ColumnType<number | string | null, number | null, number | null>;

export interface DevicesTable {
  id: string;
  kind: string;
  model: string;
  serial: string;
  name: string;
  site_id: string | null;
  firmware_version: string;
  address: string | null;
  state: string;
  last_seen_at: NullableMillis;
  state_at: NullableMillis;
  /** Lower-cased id, name, model and serial: case-insensitive search that works the same on both dialects. */
  search_text: string;
}

export interface JobsTable {
  id: string;
  device_id: string;
  name: string;
  owner: string;
  state: string;
  progress: number;
  started_at: NullableMillis;
  estimated_end_at: NullableMillis;
  ended_at: NullableMillis;
  layer: number | null;
  layers: number | null;
  material_used_g: number | null;
  updated_at: Millis;
}

export interface AlertsTable {
  id: string;
  device_id: string;
  code: string;
  severity: string;
  message: string;
  raised_at: Millis;
  cleared_at: NullableMillis;
  acknowledged_by: string | null;
  acknowledged_at: NullableMillis;
}

export interface ConsumablesTable {
  device_id: string;
  slot: string;
  type: string;
  level: number;
  status: string;
  expires_at: NullableMillis;
  updated_at: Millis;
}

export interface MetricSamplesTable {
  device_id: string;
  name: string;
  ts: Millis;
  value: number;
}

export interface DeviceCredentialsTable {
  device_id: string;
  token_hash: string;
  created_at: Millis;
}

export interface UsersTable {
  id: string;
  username: string;
  role: string;
  password_hash: string;
  created_at: Millis;
  disabled_at: NullableMillis;
  /** JSON array of site ids; NULL for every site. */
  sites: string | null;
  last_login_at: NullableMillis;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: Millis;
  last_seen_at: Millis;
  expires_at: Millis;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  role: string;
  created_at: Millis;
  expires_at: NullableMillis;
  last_used_at: NullableMillis;
  revoked_at: NullableMillis;
  /** JSON of TokenScope; '{}' for an unscoped token. */
  scope: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface DeviceRegistrationsTable {
  device_id: string;
  base_url: string | null;
  pin_state: string;
  fingerprint256: string | null;
  presented_fingerprint256: string | null;
  credential_sealed: string | null;
  display_name: string | null;
  site_id: string | null;
  created_at: Millis;
  updated_at: Millis;
  approved_by: string | null;
  approved_at: NullableMillis;
}

export interface CommandsTable {
  id: string;
  device_id: string;
  action: string;
  target_id: string;
  channel: string;
  status: string;
  message: string | null;
  requested_by: string;
  requested_at: Millis;
  completed_at: NullableMillis;
}

export interface AuditLogTable {
  id: string;
  at: Millis;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  source: string | null;
  /** JSON object. */
  details: string;
}

export interface OrganizationTable {
  id: string;
  name: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface SitesTable {
  id: string;
  name: string;
  description: string | null;
  timezone: string | null;
  created_at: Millis;
}

export interface InvitesTable {
  id: string;
  token_hash: string;
  username: string | null;
  role: string;
  /** JSON array of site ids; NULL for every site. */
  sites: string | null;
  created_by: string;
  created_at: Millis;
  expires_at: Millis;
  accepted_at: NullableMillis;
  accepted_by: string | null;
}

/** A bigint that is not a time (a count, a sequence number); read through `toNumber` as well. */
export type Int64 = ColumnType<number | string, number, number>;

export interface UplinkEnrollmentTable {
  /** Always `current`: there is at most one enrollment. */
  id: string;
  organization_id: string;
  site_id: string;
  kid: string;
  sealed_secret: string;
  endpoint: string;
  enrolled_at: Millis;
  enrolled_by: string;
}

export interface ConsentHistoryTable {
  /** Recording order, assigned by the database. */
  n: ColumnType<number | string, never, never>;
  id: string;
  category: string;
  /** 0 or 1. */
  granted: number;
  at: Millis;
  changed_by: string;
  source: string | null;
}

export interface UplinkStateTable {
  key: string;
  value: string;
}

export interface OutboxTable {
  seq: Int64;
  kind: string;
  body: string;
  bytes: Int64;
  created_at: Millis;
}

export interface OutboxSequenceTable {
  id: string;
  last_seq: Int64;
}

export interface FirmwarePackagesTable {
  /** SHA-256 (hex) of the package file. */
  id: string;
  name: string;
  version: string;
  /** JSON array of model names, in the manifest's order. */
  models: string;
  image_size: Int64;
  image_sha256: string;
  released_at: Millis;
  expires_at: Millis;
  /** 0 or 1. */
  allow_downgrade: number;
  /** JSON array of vendor key ids. */
  signers: string;
  package_bytes: Int64;
  file: string;
  source: string;
  added_at: Millis;
  added_by: string;
  /** JSON array of { name, ok, detail }. */
  checks: string;
}

/** One row per distinct model of a package, for filtering the catalog by model. */
export interface FirmwarePackageModelsTable {
  package_id: string;
  model: string;
}

export interface RolloutsTable {
  id: string;
  package_id: string;
  /** `package_id` while the rollout is running or paused, else NULL (see migration 006). */
  active_package_id: string | null;
  state: string;
  paused_reason: string | null;
  canary_size: number;
  concurrency: number;
  failure_threshold: number;
  /** JSON object { models?, sites?, devices? }. */
  selection: string;
  created_at: Millis;
  created_by: string;
  updated_at: Millis;
  finished_at: NullableMillis;
}

export interface RolloutDevicesTable {
  rollout_id: string;
  device_id: string;
  /** `device_id` while the rollout is unfinished, else NULL; unique (see migration 006). */
  active_device_id: string | null;
  stage: string;
  /** The device's order in the rollout. */
  position: number;
  status: string;
  reason: string | null;
  from_version: string | null;
  to_version: string;
  progress: number | null;
  updated_at: Millis;
}

export interface Database {
  devices: DevicesTable;
  jobs: JobsTable;
  alerts: AlertsTable;
  consumables: ConsumablesTable;
  metric_samples: MetricSamplesTable;
  device_credentials: DeviceCredentialsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  settings: SettingsTable;
  device_registrations: DeviceRegistrationsTable;
  commands: CommandsTable;
  audit_log: AuditLogTable;
  organization: OrganizationTable;
  sites: SitesTable;
  invites: InvitesTable;
  uplink_enrollment: UplinkEnrollmentTable;
  consent_history: ConsentHistoryTable;
  uplink_state: UplinkStateTable;
  outbox: OutboxTable;
  outbox_sequence: OutboxSequenceTable;
  firmware_packages: FirmwarePackagesTable;
  firmware_package_models: FirmwarePackageModelsTable;
  rollouts: RolloutsTable;
  rollout_devices: RolloutDevicesTable;
}
