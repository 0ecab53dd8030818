// The rollout engine's vocabulary: the push port it drives devices through, what it needs from the
// rest of the server, what callers give it and what it answers.

import type { FleetReader, Page } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import type {
  AuditEntry,
  Rollout,
  RolloutDevice,
  RolloutDeviceStatus,
  RolloutFilter,
  RolloutSelection,
  Store,
} from '../../store/index.js';

/** The phases a push reports while it runs, in the order they happen. */
export const PUSH_PHASES = ['transferring', 'verifying', 'installing'] as const;
export type PushPhase = (typeof PUSH_PHASES)[number];

export interface FirmwarePushProgress {
  phase: PushPhase;
  /** 0–100 when the phase can tell, else null. */
  percent: number | null;
}

/** How one push ended; `reason` is the device's or the transport's words when it did not install. */
export interface FirmwarePushResult {
  outcome: 'installed' | 'refused' | 'failed';
  reason: string | null;
  firmwareVersion: string | null;
}

/** Sends a package file to one device and waits until it is installed, refused or failed. */
export interface FirmwarePush {
  push(
    deviceId: string,
    packageFile: string,
    options: {
      signal?: AbortSignal;
      timeoutMs: number;
      onProgress?(progress: FirmwarePushProgress): void;
    },
  ): Promise<FirmwarePushResult>;
}

/** Who acts, for audit records: a user name (or `system`) and the client address. */
export interface RolloutActor {
  name: string;
  source: string | null;
}

export const SYSTEM_ACTOR: RolloutActor = { name: 'system', source: null };

export interface RolloutServiceDeps {
  store: Pick<Store, 'firmware' | 'rollouts'>;
  fleet: FleetReader;
  push: FirmwarePush;
  /** Where catalog package files live; a package's `file` is relative to it. */
  firmwareDir: string;
  audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  logger: Logger;
  now?: () => Date;
}

export interface RolloutSettings {
  /** Longest a single push may take, transfer to installed version. */
  pushTimeoutMs: number;
  /** Largest `concurrency` a rollout may ask for. */
  maxConcurrency: number;
  /** `concurrency` when a request gives none (default: min(4, maxConcurrency)). */
  defaultConcurrency?: number;
  /** Least time between two stored progress percentages of one device (default 500 ms). */
  progressWriteMs?: number;
  /** How long abort waits for cancelled pushes to settle before answering (default 5 s). */
  abortGraceMs?: number;
}

export interface CreateRolloutInput {
  packageId: string;
  selection: RolloutSelection;
  /** Devices updated first, alone; 0 for no canary stage. Default 1. */
  canarySize?: number;
  /** Pushes at a time. */
  concurrency?: number;
  /** Failed devices that pause the rollout. Default 1. */
  failureThreshold?: number;
  /** Sites the creator is limited to (a site-scoped principal); null or absent for every site. */
  scope?: readonly string[] | null;
}

export type RolloutCounts = Record<RolloutDeviceStatus, number>;

/** A rollout as the API shows it: the stored rollout with its target version and tallies. */
export interface RolloutSummary extends Rollout {
  packageName: string | null;
  toVersion: string | null;
  total: number;
  counts: RolloutCounts;
}

export interface RolloutDetail extends RolloutSummary {
  devices: RolloutDevice[];
}

/** A selected device the rollout did not take, and why. */
export interface ExcludedDevice {
  deviceId: string;
  reason: string;
}

export interface CreatedRollout extends RolloutDetail {
  excluded: ExcludedDevice[];
  /** The creator's sites when the selection was narrowed to them, else null. */
  limitedToSites: string[] | null;
}

/** Live changes, for the API's event stream and the dashboard. */
export type RolloutEvent =
  | { type: 'rollout'; rollout: RolloutSummary }
  | { type: 'device'; rolloutId: string; device: RolloutDevice };

export interface RolloutService {
  create(input: CreateRolloutInput, actor: RolloutActor): Promise<CreatedRollout>;
  get(id: string): Promise<RolloutDetail | undefined>;
  list(filter: RolloutFilter): Promise<Page<RolloutSummary>>;
  pause(id: string, actor: RolloutActor): Promise<RolloutDetail>;
  resume(id: string, actor: RolloutActor): Promise<RolloutDetail>;
  abort(id: string, actor: RolloutActor): Promise<RolloutDetail>;
  /** Every change of every rollout this server runs; returns the unsubscribe function. */
  onChange(listener: (event: RolloutEvent) => void): () => void;
  /** Picks up unfinished rollouts (after a restart) and runs the running ones. */
  start(): Promise<void>;
  /** Stops pushing; pushes in flight are cancelled and their devices queued again for next start. */
  stop(): Promise<void>;
}
