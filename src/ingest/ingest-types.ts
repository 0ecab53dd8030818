// The public contract of ingest: device MQTT messages in, validated fleet changes out.

import type { Alert, FleetChange, FleetReader, FleetState, FleetUpdate } from '../domain/index.js';

export const DEVICE_CHANNELS = ['state', 'telemetry', 'events', 'status'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

export type IngestOutcome =
  | { accepted: true }
  | {
      accepted: false;
      /** Why the payload was dropped: MALFORMED_JSON, SCHEMA_INVALID, PAYLOAD_TOO_LARGE, UNKNOWN_CHANNEL … */
      code: string;
      message: string;
    };

export interface Ingest {
  /** The live fleet, kept in memory and loaded from the store at start. */
  readonly fleet: FleetReader;
  /**
   * Validates and applies one device message. Resolves once the resulting writes are durable in the
   * store (so a QoS 1 message may be acknowledged after it); malformed payloads resolve with
   * `accepted: false` and are counted and logged (once per device per interval), never thrown.
   */
  handle(deviceId: string, channel: DeviceChannel, payload: Buffer): Promise<IngestOutcome>;
  /**
   * Applies changes another source computed on the live fleet state (the Web Services poller, an
   * admin's settings) through the same path as device messages: listeners see the changes at
   * once; resolves when the writes are durable.
   */
  mutate(change: (fleet: FleetState) => FleetUpdate | readonly FleetUpdate[]): Promise<void>;
  /** Tells listeners of a change that is not fleet state (e.g. a command's outcome). */
  publish(change: FleetChange): void;
  /** Subscribes to fleet changes; returns the unsubscribe function. */
  onChange(listener: (change: FleetChange) => void): () => void;
  /** Records a person's acknowledgement of an alert; undefined when no such alert exists. */
  acknowledgeAlert(alertId: string, by: string): Promise<Alert | undefined>;
  /** Loads fleet state from the store and starts the batch writer. */
  start(): Promise<void>;
  /** Flushes pending writes and stops. */
  stop(): Promise<void>;
}
