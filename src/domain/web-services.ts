// What a device's own HTTPS API answers (DESIGN §4.3), as plain data. The simulator serves exactly
// these shapes and the server's Web Services client validates every answer against schemas of them.
// docs/protocols/web-services.md is the reference.
//
// Everything under /ws/v1 except `identity` needs the device's admin credential (HTTP Basic).
// Errors are `{ "error": { "code", "message" } }` with a 4xx/5xx status, as in the product's API.

import type { AlertReport, ConsumableReport, JobReport } from './device-messages.js';
import type { DeviceKind, DeviceState } from './device.js';

export const WEB_SERVICES_PREFIX = '/ws/v1';

/** `GET /ws/v1/identity` — anonymous: what discovery and "add device" read first. */
export interface WsIdentity {
  id: string;
  kind: DeviceKind;
  model: string;
  serial: string;
  name: string;
  firmwareVersion: string;
  /** Contract version the device speaks; 1 for /ws/v1. */
  apiVersion: number;
}

/** `GET /ws/v1/status` — the device's state now, with its current job. */
export interface WsStatus {
  /** Device time of this answer; newest device time wins when MQTT and Web Services merge. */
  ts: string;
  state: DeviceState;
  name: string;
  firmwareVersion: string;
  job: JobReport | null;
}

/** `GET /ws/v1/consumables`. */
export interface WsConsumables {
  ts: string;
  consumables: ConsumableReport[];
}

/** `GET /ws/v1/alerts` — every alert open on the device now. */
export interface WsAlerts {
  ts: string;
  alerts: AlertReport[];
}

/** `GET /ws/v1/jobs?since=<RFC 3339>` — jobs whose last change is at or after `since`, oldest first. */
export interface WsJobs {
  ts: string;
  jobs: JobReport[];
}

export const WS_JOB_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type WsJobAction = (typeof WS_JOB_ACTIONS)[number];

/**
 * `POST /ws/v1/jobs/{jobId}/{pause|resume|cancel}` and `POST /ws/v1/alerts/{alertId}/acknowledge`:
 * 200 with `accepted: true` when done; 409 with an error body when the device refuses (the error
 * message is the device's reason); 404 when the job or alert is unknown.
 */
export interface WsActionResult {
  accepted: boolean;
  message: string;
  ts: string;
}

export const FIRMWARE_STATES = ['idle', 'receiving', 'verifying', 'installing', 'failed'] as const;
export type FirmwareState = (typeof FIRMWARE_STATES)[number];

/** `GET /ws/v1/firmware/status`. */
export interface WsFirmwareStatus {
  ts: string;
  firmwareVersion: string;
  state: FirmwareState;
  message: string | null;
  /** 0–100 while receiving, verifying or installing, when known; null otherwise. Optional: older devices omit it. */
  progress?: number | null;
  /**
   * Why the last update ended in `failed`, for programs: a `FIRMWARE_*` refusal code of
   * docs/firmware.md when the device refused the package, `FIRMWARE_TRANSFER_FAILED` or
   * `FIRMWARE_INSTALL_FAILED` otherwise; null in every other state. Optional: older devices omit it.
   */
  code?: string | null;
}
