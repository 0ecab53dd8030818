// Builds one uplink report from the live fleet and the server's health: drafts it with clear
// values, then lets the classifier decide, field by field, what leaves the site (classify.ts).

import {
  parseIso,
  toIso,
  type Alert,
  type AlertSeverity,
  type DeviceState,
  type DeviceView,
  type Job,
  type JobState,
} from '../../domain/index.js';
import { createClassifier, type ReportOptions } from './classify.js';
import { REPORT_FIELDS } from './report-fields.js';
import type {
  FleetSummary,
  ReportDevice,
  ReportDeviceAlert,
  ReportInput,
  ReportServer,
  ReportTrigger,
  ServerStatus,
  StateCounts,
  UplinkReport,
} from './report-types.js';

/** A device with hundreds of open alerts would otherwise dwarf the rest of the fleet. */
export const MAX_ALERTS_PER_DEVICE = 16;

const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = {
  critical: 0,
  error: 1,
  warning: 2,
  info: 3,
};

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Device precision is not worth bytes: one decimal for levels, progress and grams. */
function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function secondsBetween(fromIso: string | null, toMs: number): number | null {
  const from = fromIso === null ? null : parseIso(fromIso);
  return from === null ? null : Math.max(0, Math.round((toMs - from) / 1000));
}

/** Normalized to UTC; what does not parse as a time is not sent as one. */
function utc(iso: string): string | null {
  const ms = parseIso(iso);
  return ms === null ? null : toIso(ms);
}

function count<K extends string>(counts: StateCounts<K>, key: K): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** The newest version of every job of the window, the devices' current jobs included. */
function windowJobs(input: ReportInput): Job[] | undefined {
  if (input.jobs === undefined) return undefined;
  const newest = new Map<string, { job: Job; atMs: number }>();
  const offer = (job: Job): void => {
    const key = `${job.deviceId}\u0000${job.id}`;
    const atMs = parseIso(job.updatedAt) ?? -Infinity;
    const known = newest.get(key);
    if (known === undefined || atMs > known.atMs) newest.set(key, { job, atMs });
  };
  for (const job of input.jobs.jobs) offer(job);
  for (const device of input.devices) if (device.currentJob !== null) offer(device.currentJob);
  return [...newest.values()].map((e) => e.job);
}

function jobCountsByDevice(jobs: readonly Job[]): Map<string, StateCounts<JobState>> {
  const byDevice = new Map<string, StateCounts<JobState>>();
  for (const job of jobs) {
    let counts = byDevice.get(job.deviceId);
    if (counts === undefined) byDevice.set(job.deviceId, (counts = {}));
    count(counts, job.state);
  }
  return byDevice;
}

function remaining(job: Job, nowMs: number): number | null {
  const endMs = job.estimatedEndAt === null ? null : parseIso(job.estimatedEndAt);
  return endMs === null ? null : Math.max(0, Math.round((endMs - nowMs) / 1000));
}

function reportAlerts(alerts: readonly Alert[], nowMs: number): ReportDeviceAlert[] {
  return [...alerts]
    .sort(
      (a, b) =>
        SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
        (parseIso(b.raisedAt) ?? 0) - (parseIso(a.raisedAt) ?? 0),
    )
    .slice(0, MAX_ALERTS_PER_DEVICE)
    .map((a) => ({
      code: a.code,
      severity: a.severity,
      ageS: secondsBetween(a.raisedAt, nowMs) ?? 0,
      acked: a.acknowledgedAt !== null,
      ackedBy: a.acknowledgedBy ?? undefined,
      message: a.message,
    }));
}

function reportDevice(
  d: DeviceView,
  jobCounts: Map<string, StateCounts<JobState>> | undefined,
  nowMs: number,
): ReportDevice {
  const job = d.currentJob;
  return {
    id: d.id,
    name: d.name,
    site: d.siteId,
    kind: d.kind,
    model: d.model,
    serial: d.serial,
    address: d.address,
    state: d.state,
    firmware: d.firmwareVersion,
    seenAgoS: secondsBetween(d.lastSeenAt, nowMs),
    job:
      job === null
        ? undefined
        : {
            name: job.name,
            owner: job.owner,
            state: job.state,
            progress: round1(job.progress),
            layer: job.layer,
            layers: job.layers,
            materialG: job.materialUsedG === null ? null : round1(job.materialUsedG),
            remainingS: remaining(job, nowMs),
          },
    // Absent when the window has no job on the device: zero counts are not worth bytes.
    jobs: jobCounts?.get(d.id),
    consumables: d.consumables.map((c) => ({
      slot: c.slot,
      type: c.type,
      level: round1(c.level),
      status: c.status,
    })),
    alerts: reportAlerts(d.openAlerts, nowMs),
    moreAlerts:
      d.openAlerts.length > MAX_ALERTS_PER_DEVICE
        ? d.openAlerts.length - MAX_ALERTS_PER_DEVICE
        : undefined,
  };
}

function fleetSummary(devices: readonly DeviceView[], jobs: Job[] | undefined): FleetSummary {
  const states: StateCounts<DeviceState> = {};
  const alerts: StateCounts<AlertSeverity> = {};
  for (const d of devices) {
    count(states, d.state);
    for (const a of d.openAlerts) count(alerts, a.severity);
  }
  let jobStates: StateCounts<JobState> | undefined;
  if (jobs !== undefined) {
    jobStates = {};
    for (const job of jobs) count(jobStates, job.state);
  }
  return { devices: devices.length, states, jobs: jobStates, alerts };
}

function reportTrigger(alert: Alert): ReportTrigger {
  return {
    device: alert.deviceId,
    code: alert.code,
    severity: alert.severity,
    raisedAt: utc(alert.raisedAt),
    acked: alert.acknowledgedAt !== null,
    ackedBy: alert.acknowledgedBy ?? undefined,
    message: alert.message,
  };
}

function reportServer(server: ServerStatus): ReportServer {
  const h = server.health;
  return {
    version: server.version,
    runtime: server.runtime,
    uptimeS: Math.floor(server.uptimeSeconds),
    hostName: server.hostName,
    addresses: [...server.addresses],
    health: {
      storeReady: h.storeReady,
      mqttClients: h.mqttClients,
      malformedMessages: h.malformedMessages,
      outboxPending: h.outboxPending,
      rssBytes: h.rssBytes,
      load1: Math.round(h.load1 * 100) / 100,
      diskFreeBytes: h.diskFreeBytes,
    },
  };
}

export function buildReport(input: ReportInput, options: ReportOptions): UplinkReport {
  const classify = createClassifier(REPORT_FIELDS, options);
  const nowMs = input.generatedAt.getTime();
  const jobs = windowJobs(input);
  const jobCounts = jobs === undefined ? undefined : jobCountsByDevice(jobs);
  const devices =
    input.kind === 'critical'
      ? input.devices.filter((d) => d.id === input.trigger.deviceId)
      : input.devices;
  const draft: UplinkReport = {
    v: 1,
    kind: input.kind,
    generatedAt: toIso(nowMs),
    since: input.jobs === undefined ? undefined : toIso(input.jobs.since.getTime()),
    fleet: input.kind === 'periodic' ? fleetSummary(devices, jobs) : undefined,
    trigger: input.kind === 'critical' ? reportTrigger(input.trigger) : undefined,
    devices: devices.map((d) => reportDevice(d, jobCounts, nowMs)),
    server: reportServer(input.server),
  };
  // The classifier keeps the draft's shape and only replaces or leaves out protected strings,
  // which UplinkReport types as strings or optional members.
  const report = classify(draft) as unknown as UplinkReport;
  // Ordered by what is anonymous, so the order of devices says nothing about their ids or names.
  report.devices.sort((a, b) => byText(a.serial, b.serial) || byText(a.id, b.id));
  return report;
}
