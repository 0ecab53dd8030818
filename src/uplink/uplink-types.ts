// The uplink's public types: its settings and dependencies, what its status says, and the
// operations the API and the CLI call.

import type { SecretBox } from '../auth/index.js';
import type { DeviceView, FleetChange } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { StorageGate } from '../storage-health/index.js';
import type { AuditEntry, Store, UplinkEnrollment } from '../store/index.js';
import type { DeliveryState } from './delivery.js';
import type { OutboxMetrics, OutboxStatus } from './outbox.js';
import type { ConsentCategory, ServerStatus, UplinkReport } from './report/index.js';
import type { UplinkNetworkSettings } from './uplink-policy.js';

export interface UplinkSettings extends UplinkNetworkSettings {
  enabled: boolean;
  intervalSeconds: number;
  outboxMaxBytes: number;
  outboxMaxItems: number;
  drainPerMinute: number;
  backoffMaxSeconds: number;
  /** First retry delay (default 5 s); tests shorten it. */
  backoffBaseMs?: number;
}

export interface UplinkDeps {
  store: Pick<Store, 'uplink' | 'outbox' | 'jobs'>;
  fleet: { list(): DeviceView[] };
  /** Fleet changes, to send a critical report when a critical alert opens. */
  onChange(listener: (change: FleetChange) => void): () => void;
  secrets: SecretBox;
  audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  logger: Logger;
  /** The server's own status, gathered when a report is due. */
  server(): Promise<
    Omit<ServerStatus, 'health'> & { health: Omit<ServerStatus['health'], 'outboxPending'> }
  >;
  version: string;
  outboxMetrics?: OutboxMetrics;
  metrics?: { attempt(outcome: string): void; reportBytes(bytes: number): void };
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Refuses new reports while the data directory is full (see outbox.ts). */
  storage?: StorageGate;
}

/** Who made a change, for the audit log and the consent history. */
export interface Actor {
  name: string;
  source: string | null;
}

export interface ConsentView {
  category: ConsentCategory;
  description: string;
  granted: boolean;
  at: string | null;
  by: string | null;
}

export interface UplinkAlert {
  code: 'UPLINK_REPORTS_DROPPED';
  message: string;
  at: string;
}

export interface UplinkStatus {
  enabled: boolean;
  enrolled: boolean;
  enrollment: Omit<UplinkEnrollment, 'sealedSecret'> | null;
  intervalSeconds: number;
  nextReportAt: string | null;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: { message: string; at: string } | null;
  delivery: DeliveryState;
  outbox: OutboxStatus & { droppedTotal: number };
  route: { via: 'direct' | 'proxy'; proxy: string | null };
  consent: ConsentView[];
  alerts: UplinkAlert[];
}

/** A report in the outbox: the seq of its first part, how many parts, their sealed bytes. */
export interface QueuedReport {
  seq: number;
  parts: number;
  bytes: number;
  report: UplinkReport;
}

export interface ReportPreview {
  report: UplinkReport;
  /** UTF-8 bytes of the report's JSON, before sealing. */
  bytes: number;
}

export interface Uplink {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<UplinkStatus>;
  enroll(
    request: { organizationId: string; enrollmentToken: string; endpoint?: string },
    actor: Actor,
  ): Promise<UplinkStatus>;
  unenroll(actor: Actor): Promise<UplinkStatus>;
  consent(): Promise<ConsentView[]>;
  setConsent(
    changes: Partial<Record<ConsentCategory, boolean>>,
    actor: Actor,
  ): Promise<ConsentView[]>;
  /** Exactly what the next periodic report would hold now, unsealed. */
  preview(): Promise<ReportPreview>;
  /** Builds, seals and queues a report now, and starts delivering it; resolves with its seq. */
  reportNow(kind?: 'periodic'): Promise<QueuedReport>;
  /** Resolves once queued reports have been tried (tests). */
  idle(): Promise<void>;
}
