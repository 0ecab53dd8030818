import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBrokerHarness, type BrokerHarness } from './broker-test-harness.js';

/** Resolves on 'close' (events.once would reject on the 'error' that may come first). */
const closed = (emitter: MqttClient | Socket): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not closed within 5 s')), 5000);
    emitter.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

describe('embedded broker: hostile connections', () => {
  let h: BrokerHarness;

  beforeEach(async () => {
    h = await startBrokerHarness({ maxPacketBytes: 256 * 1024 });
    await h.addDevice('printer-01');
    await h.addDevice('printer-02');
  });

  afterEach(async () => {
    await h.close();
  });

  async function rawSocket(): Promise<Socket> {
    const socket = connect(h.broker.address().port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    return socket;
  }

  async function goodDeviceStillPublishes(good: MqttClient, marker: string): Promise<void> {
    await good.publishAsync('cc/v1/devices/printer-02/state', `{"m":"${marker}"}`, { qos: 1 });
    expect(good.connected).toBe(true);
    await h.ingest.waitFor((c) => c.payload.toString().includes(marker));
  }

  it('closes the sender of a 1 MB packet; another device keeps publishing', async () => {
    const good = await h.connectDevice('printer-02');
    const bad = await h.connectDevice('printer-01');
    const badClosed = closed(bad);
    bad.publish('cc/v1/devices/printer-01/telemetry', Buffer.alloc(1024 * 1024, 0x41), { qos: 0 });
    await badClosed;
    await goodDeviceStillPublishes(good, 'after-1mb');
    expect(h.ingest.calls.filter((c) => c.deviceId === 'printer-01')).toEqual([]);
    expect(await h.counter('cc_mqtt_frame_violations_total', { reason: 'too-large' })).toBe(1);
  });

  it.each([
    ['HTTP request bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a remaining length over four bytes', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['an oversized CONNECT header', Buffer.from([0x10, 0xff, 0xff, 0x7f])],
    ['a PUBLISH before CONNECT', Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x7b, 0x7d])],
    [
      'a CONNECT with a bogus protocol',
      Buffer.from([0x10, 0x06, 0x00, 0x04, 0x4e, 0x4f, 0x50, 0x45]),
    ],
  ])('closes only the socket sending %s', async (_name, bytes) => {
    const good = await h.connectDevice('printer-02');
    const socket = await rawSocket();
    const socketClosed = closed(socket);
    socket.write(bytes);
    await socketClosed;
    await goodDeviceStillPublishes(good, 'after-garbage');
  });

  it('closes a connected device that sends garbage after CONNECT', async () => {
    const good = await h.connectDevice('printer-02');
    const bad = await h.connectDevice('printer-01');
    const badClosed = closed(bad);
    bad.stream.write(Buffer.from([0xf0, 0x00, 0x00, 0x00]));
    await badClosed;
    await goodDeviceStillPublishes(good, 'after-reserved-type');
  });
});
