// What devices send on MQTT (DESIGN §4.2), as plain data. Ingest validates payloads against
// schemas of exactly these shapes before anything else sees them.

import type { AlertSeverity } from './alert.js';
import type { ConsumableStatus } from './consumable.js';
import type { DeviceKind, DeviceState } from './device.js';
import type { JobState } from './job.js';

/** A job as a device reports it (the device id comes from the topic). */
export interface JobReport {
  id: string;
  name: string;
  owner: string;
  state: JobState;
  progress: number;
  startedAt?: string | null;
  estimatedEndAt?: string | null;
  endedAt?: string | null;
  layer?: number | null;
  layers?: number | null;
  materialUsedG?: number | null;
}

export interface ConsumableReport {
  slot: string;
  type: string;
  level: number;
  status: ConsumableStatus;
  expiresAt?: string | null;
}

export interface AlertReport {
  id: string;
  code: string;
  severity: AlertSeverity;
  message: string;
  raisedAt: string;
}

/** `cc/v1/devices/{id}/state` — retained full snapshot, QoS 1. */
export interface StateMessage {
  ts: string;
  kind: DeviceKind;
  model: string;
  serial: string;
  name: string;
  firmwareVersion: string;
  state: DeviceState;
  job?: JobReport | null;
  consumables?: ConsumableReport[];
  /** Alerts open on the device right now. */
  alerts?: AlertReport[];
}

/** `cc/v1/devices/{id}/telemetry` — metrics, QoS 0. */
export interface TelemetryMessage {
  ts: string;
  metrics: Record<string, number>;
}

/** `cc/v1/devices/{id}/events` — job/alert/consumable events, QoS 1. */
export type EventMessage =
  | { type: 'job.updated'; ts: string; job: JobReport }
  | { type: 'alert.raised'; ts: string; alert: AlertReport }
  | { type: 'alert.cleared'; ts: string; alertId: string }
  | { type: 'consumable.updated'; ts: string; consumable: ConsumableReport };

export type DeviceStatus = 'online' | 'offline';
