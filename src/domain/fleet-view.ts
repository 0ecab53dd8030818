// The live view of one device that clients see: the device plus what is happening on it now.

import type { Alert } from './alert.js';
import type { DeviceCommand } from './command.js';
import type { Consumable } from './consumable.js';
import type { Device } from './device.js';
import type { Job } from './job.js';
import type { MetricSample } from './metrics.js';

export interface DeviceView extends Device {
  currentJob: Job | null;
  consumables: Consumable[];
  openAlerts: Alert[];
  /** Latest value of each metric, with its time. */
  metrics: Record<string, { value: number; ts: string }>;
}

/** A change the live hub pushes to clients and the store persists. */
export type FleetChange =
  | { type: 'device'; device: DeviceView }
  | { type: 'job'; job: Job }
  | { type: 'alert'; alert: Alert }
  | { type: 'command'; command: DeviceCommand }
  | { type: 'device-removed'; deviceId: string };

/** What one update asks the store to persist, applied in one transaction. */
export interface FleetWrites {
  devices: Device[];
  jobs: Job[];
  alerts: Alert[];
  consumables: Consumable[];
  metrics: MetricSample[];
}

/** The result of applying one message to fleet state: what clients see and what the store keeps. */
export interface FleetUpdate {
  changes: FleetChange[];
  writes: FleetWrites;
}

/** Read access to the live fleet, for the API and the live stream. */
export interface FleetReader {
  get(deviceId: string): DeviceView | undefined;
  list(): DeviceView[];
}
