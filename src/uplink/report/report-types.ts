// What the report builder takes (fleet views from the domain, plus what only the server knows) and
// the report it returns. Field meanings and classes are declared in report-fields.ts.

import type {
  Alert,
  AlertSeverity,
  ConsumableStatus,
  DeviceKind,
  DeviceState,
  DeviceView,
  Job,
  JobState,
} from '../../domain/index.js';

/** Jobs for the per-state counts: the window since the previous report. */
export interface JobActivity {
  /** Start of the window: the previous report's `generatedAt` (or the server's start). */
  since: Date;
  /**
   * Jobs updated in the window, e.g. every page of the store's `jobs.list({ since })`. Versions of
   * one job may repeat; the newest counts. The devices' current jobs are counted as well.
   */
  jobs: readonly Job[];
}

/** Server health, gathered by the caller when the report is due. */
export interface ServerHealth {
  storeReady: boolean;
  mqttClients: number;
  /** Malformed device messages dropped since the previous report. */
  malformedMessages: number;
  /** Sealed reports waiting in the outbox, not counting this one. */
  outboxPending: number;
  rssBytes: number;
  load1: number;
  /** Free bytes on the file system of the data directory; null when unknown. */
  diskFreeBytes: number | null;
}

export interface ServerStatus {
  version: string;
  /** `process.version`. */
  runtime: string;
  uptimeSeconds: number;
  hostName: string;
  /** The server's IP addresses (e.g. from `os.networkInterfaces()`, without loopback). */
  addresses: readonly string[];
  health: ServerHealth;
}

interface ReportInputBase {
  generatedAt: Date;
  /** The live fleet: `FleetReader.list()`. */
  devices: readonly DeviceView[];
  /** Left out: the report has no job counts and no `since`. */
  jobs?: JobActivity;
  server: ServerStatus;
}

/**
 * A periodic report covers the whole fleet. A critical report is sent when a critical alert opens:
 * it carries the alert and the one device it is on (the rest of `devices` is left out).
 */
export type ReportInput =
  | (ReportInputBase & { kind: 'periodic' })
  | (ReportInputBase & { kind: 'critical'; trigger: Alert });

export type StateCounts<K extends string> = Partial<Record<K, number>>;

/**
 * Non-anonymous fields hold a pseudonym (`p:…`) or, with consent for their category, the clear
 * value; fields dropped without consent are optional.
 */
export interface ReportAlert {
  code: string;
  severity: AlertSeverity;
  acked: boolean;
  ackedBy?: string;
  message?: string;
}

export interface ReportTrigger extends ReportAlert {
  device: string;
  raisedAt: string | null;
}

export interface ReportDeviceAlert extends ReportAlert {
  ageS: number;
}

export interface ReportJob {
  name: string;
  owner: string;
  state: JobState;
  progress: number;
  layer: number | null;
  layers: number | null;
  materialG: number | null;
  remainingS: number | null;
}

export interface ReportConsumable {
  slot: string;
  type: string;
  level: number;
  status: ConsumableStatus;
}

export interface ReportDevice {
  id: string;
  name?: string;
  site: string | null;
  kind: DeviceKind;
  model: string;
  serial: string;
  address?: string | null;
  state: DeviceState;
  firmware: string;
  seenAgoS: number | null;
  job?: ReportJob;
  jobs?: StateCounts<JobState>;
  consumables: ReportConsumable[];
  alerts: ReportDeviceAlert[];
  moreAlerts?: number;
}

export interface ReportServer {
  version: string;
  runtime: string;
  uptimeS: number;
  hostName: string;
  addresses?: string[];
  health: ServerHealth;
}

export interface FleetSummary {
  devices: number;
  states: StateCounts<DeviceState>;
  jobs?: StateCounts<JobState>;
  alerts: StateCounts<AlertSeverity>;
}

export interface UplinkReport {
  v: 1;
  kind: 'periodic' | 'critical';
  generatedAt: string;
  since?: string;
  fleet?: FleetSummary;
  trigger?: ReportTrigger;
  devices: ReportDevice[];
  server: ReportServer;
}
