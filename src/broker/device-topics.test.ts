import { describe, expect, it } from 'vitest';
import { canDevicePublish, canDeviceSubscribe, parseDevicePublishTopic } from './device-topics.js';

describe('device topics', () => {
  it.each([
    ['cc/v1/devices/p-1/state', { kind: 'channel', deviceId: 'p-1', channel: 'state' }],
    ['cc/v1/devices/p-1/telemetry', { kind: 'channel', deviceId: 'p-1', channel: 'telemetry' }],
    ['cc/v1/devices/p-1/events', { kind: 'channel', deviceId: 'p-1', channel: 'events' }],
    ['cc/v1/devices/p-1/status', { kind: 'channel', deviceId: 'p-1', channel: 'status' }],
    [
      'cc/v1/devices/p-1/commands/c-9/result',
      { kind: 'command-result', deviceId: 'p-1', commandId: 'c-9' },
    ],
  ])('parses %s', (topic, expected) => {
    expect(parseDevicePublishTopic(topic)).toEqual(expected);
  });

  it.each([
    'cc/v1/devices/p-1/commands',
    'cc/v1/devices/p-1/commands/c-9',
    'cc/v1/devices/p-1/commands//result',
    'cc/v1/devices/p-1/state/extra',
    'cc/v1/devices/p-1/other',
    'cc/v1/devices//state',
    'cc/v1/devices/p-1',
    'cc/v1/fleet/devices/p-1',
    '$SYS/broker/heartbeat',
    'cc/v2/devices/p-1/state',
  ])('a device may not publish on %s', (topic) => {
    expect(canDevicePublish('p-1', topic)).toBeUndefined();
  });

  it('a device may not publish under another device prefix', () => {
    expect(canDevicePublish('p-1', 'cc/v1/devices/p-2/state')).toBeUndefined();
    expect(canDevicePublish('p-1', 'cc/v1/devices/p-1/state')).toBeDefined();
  });

  it.each([
    ['cc/v1/devices/p-1/commands', true],
    ['cc/v1/devices/p-1/commands/+', true],
    ['cc/v1/devices/p-2/commands', false],
    ['cc/v1/devices/+/commands', false],
    ['cc/v1/devices/#', false],
    ['cc/v1/devices/p-1/#', false],
    ['cc/v1/devices/p-1/commands/#', false],
    ['cc/v1/devices/p-1/state', false],
    ['cc/v1/fleet/#', false],
    ['#', false],
    ['+/+/+/p-1/commands', false],
    ['$SYS/#', false],
  ])('subscribing to %s is allowed: %s', (filter, allowed) => {
    expect(canDeviceSubscribe('p-1', filter)).toBe(allowed);
  });
});
