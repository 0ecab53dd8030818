// The device topic tree (DESIGN §4.2) and the per-device access rules the broker enforces.

import { DEVICE_CHANNELS, type DeviceChannel } from '../ingest/ingest-types.js';
import { isValidDeviceId } from '../domain/index.js';

export const DEVICE_TOPIC_ROOT = 'cc/v1/devices/';
export const FLEET_TOPIC_ROOT = 'cc/v1/fleet/';

export function deviceTopic(deviceId: string, channel: DeviceChannel): string {
  return `${DEVICE_TOPIC_ROOT}${deviceId}/${channel}`;
}

export function commandsTopic(deviceId: string): string {
  return `${DEVICE_TOPIC_ROOT}${deviceId}/commands`;
}

export function commandResultTopic(deviceId: string, commandId: string): string {
  return `${DEVICE_TOPIC_ROOT}${deviceId}/commands/${commandId}/result`;
}

/** What a device may publish: one of its channels, or the result of one of its commands. */
export type DevicePublishTarget =
  | { kind: 'channel'; deviceId: string; channel: DeviceChannel }
  | { kind: 'command-result'; deviceId: string; commandId: string };

const COMMAND_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function isDeviceChannel(value: string): value is DeviceChannel {
  return (DEVICE_CHANNELS as readonly string[]).includes(value);
}

/** Parses a publish topic; undefined for anything outside the device tree. */
export function parseDevicePublishTopic(topic: string): DevicePublishTarget | undefined {
  if (!topic.startsWith(DEVICE_TOPIC_ROOT)) return undefined;
  const parts = topic.slice(DEVICE_TOPIC_ROOT.length).split('/');
  const [deviceId, second, third, fourth] = parts;
  if (deviceId === undefined || !isValidDeviceId(deviceId) || second === undefined) {
    return undefined;
  }
  if (parts.length === 2 && isDeviceChannel(second)) {
    return { kind: 'channel', deviceId, channel: second };
  }
  if (
    parts.length === 4 &&
    second === 'commands' &&
    third !== undefined &&
    COMMAND_ID_PATTERN.test(third) &&
    fourth === 'result'
  ) {
    return { kind: 'command-result', deviceId, commandId: third };
  }
  return undefined;
}

/** The device's publish rule: only its own channels and command results. */
export function canDevicePublish(deviceId: string, topic: string): DevicePublishTarget | undefined {
  const target = parseDevicePublishTopic(topic);
  return target?.deviceId === deviceId ? target : undefined;
}

/**
 * The device's subscribe rule: its own `commands` topic, or `commands/+` (a single-level wildcard
 * that stays inside its own tree). Every other filter, `#` and `$SYS` included, is refused.
 */
export function canDeviceSubscribe(deviceId: string, filter: string): boolean {
  const own = commandsTopic(deviceId);
  return filter === own || filter === `${own}/+`;
}
