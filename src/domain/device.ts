// The device: what a printer or station is, and the states it can be in (DESIGN §4.1).

export const DEVICE_KINDS = [
  'printer',
  'processing-station',
  'build-unit',
  'cooling-unit',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const DEVICE_STATES = [
  'idle',
  'printing',
  'paused',
  'error',
  'offline',
  'maintenance',
  'updating',
] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface Device {
  id: string;
  kind: DeviceKind;
  model: string;
  serial: string;
  name: string;
  siteId: string | null;
  firmwareVersion: string;
  /** Web Services base URL, when the device exposes one. */
  address: string | null;
  state: DeviceState;
  /** RFC 3339 UTC time of the last message or poll answer from the device. */
  lastSeenAt: string | null;
  /** RFC 3339 UTC device time of the newest state applied (newest wins when channels merge). */
  stateAt: string | null;
}

/** Device ids are used in MQTT topics and URLs: keep them to a safe, bounded alphabet. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_PATTERN.test(id);
}
