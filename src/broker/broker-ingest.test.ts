import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestOutcome } from '../ingest/ingest-types.js';
import { startBrokerHarness, type BrokerHarness } from './broker-test-harness.js';

const STATE = 'cc/v1/devices/printer-01/state';
const STATUS = 'cc/v1/devices/printer-01/status';

/** Resolves on 'close' (events.once would reject on the 'error' that may come first). */
const closed = (client: MqttClient): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not closed within 5 s')), 5000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

describe('embedded broker: ingest hook', () => {
  let h: BrokerHarness;

  beforeEach(async () => {
    h = await startBrokerHarness();
    await h.addDevice('printer-01');
  });

  afterEach(async () => {
    await h.close();
  });

  it('hands each device message to ingest with its device id and channel', async () => {
    const a = await h.connectDevice('printer-01');
    await a.publishAsync(STATE, '{"s":1}', { qos: 1 });
    await a.publishAsync('cc/v1/devices/printer-01/telemetry', '{"t":1}', { qos: 0 });
    await a.publishAsync('cc/v1/devices/printer-01/events', '{"e":1}', { qos: 1 });
    await h.ingest.waitFor((c) => c.channel === 'telemetry');
    expect(h.ingest.calls.map((c) => [c.deviceId, c.channel, c.payload.toString()])).toEqual([
      ['printer-01', 'state', '{"s":1}'],
      ['printer-01', 'telemetry', '{"t":1}'],
      ['printer-01', 'events', '{"e":1}'],
    ]);
    expect(await h.counter('cc_mqtt_messages_in_total', { channel: 'state' })).toBe(1);
  });

  it('sends the QoS 1 PUBACK only after ingest has resolved', async () => {
    const order: string[] = [];
    let release: (() => void) | undefined;
    h.ingest.respond = () =>
      new Promise<IngestOutcome>((resolve) => {
        release = () => {
          order.push('ingest resolved');
          resolve({ accepted: true });
        };
      });
    const a = await h.connectDevice('printer-01');
    const acked = a.publishAsync(STATE, '{"s":1}', { qos: 1 }).then(() => order.push('puback'));
    await h.ingest.waitFor((c) => c.channel === 'state');
    // A full round trip on the same connection while ingest is still pending: no PUBACK yet.
    await a.subscribeAsync('cc/v1/devices/printer-01/commands', { qos: 1 });
    expect(order).toEqual([]);
    release?.();
    await acked;
    expect(order).toEqual(['ingest resolved', 'puback']);
  });

  it('closes the sender without PUBACK when ingest fails, so the device resends', async () => {
    h.ingest.respond = () => Promise.reject(new Error('disk full'));
    const a = await h.connectDevice('printer-01');
    let acked = false;
    const aClosed = closed(a);
    a.publish(STATE, '{"s":1}', { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await aClosed;
    expect(acked).toBe(false);
    expect(await h.counter('cc_mqtt_ingest_failures_total')).toBe(1);
  });

  it('drops a malformed payload without disconnecting: neither retained nor forwarded', async () => {
    const a = await h.connectDevice('printer-01');
    await a.publishAsync(STATE, '{"good":1}', { qos: 1, retain: true });
    expect((await h.broker.retained(STATE))?.toString()).toBe('{"good":1}');

    const forwarded: string[] = [];
    const stop = await h.broker.subscribe('cc/v1/devices/printer-01/+', (_t, payload) => {
      forwarded.push(payload.toString());
    });
    await a.publishAsync(STATE, 'not json', { qos: 1, retain: true });
    // An empty retained payload would otherwise delete the retained state (MQTT-3.3.1-10).
    await a.publishAsync(STATE, '', { qos: 1, retain: true });
    await a.publishAsync('cc/v1/devices/printer-01/telemetry', '{"t":', { qos: 1 });
    await a.publishAsync(STATUS, 'maybe', { qos: 1, retain: true });
    await a.publishAsync(STATE, '{"marker":1}', { qos: 1 });
    await stop();

    expect(a.connected).toBe(true);
    expect(forwarded).toEqual(['{"marker":1}']);
    expect((await h.broker.retained(STATE))?.toString()).toBe('{"good":1}');
    expect(await h.broker.retained(STATUS)).toBeUndefined();
    expect(await h.counter('cc_mqtt_payloads_dropped_total')).toBe(4);
  });

  it('publishes the last will "offline" through ingest when the socket dies', async () => {
    const a = await h.connectDevice('printer-01', {
      will: { topic: STATUS, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await a.publishAsync(STATUS, 'online', { qos: 1, retain: true });
    const willDelivered = new Promise<void>((resolve) => {
      void h.broker.subscribe(STATUS, (_t, payload) => {
        if (payload.toString() === 'offline') resolve();
      });
    });
    a.stream.destroy();
    await willDelivered;
    expect(h.ingest.calls.map((c) => [c.deviceId, c.channel, c.payload.toString()])).toEqual([
      ['printer-01', 'status', 'online'],
      ['printer-01', 'status', 'offline'],
    ]);
    expect((await h.broker.retained(STATUS))?.toString()).toBe('offline');
  });

  it('does not publish the will after a clean DISCONNECT', async () => {
    const a = await h.connectDevice('printer-01', {
      will: { topic: STATUS, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await a.publishAsync(STATUS, 'online', { qos: 1, retain: true });
    await a.endAsync();
    // A second connection's round trip shows the broker has processed the first one's close.
    const b = await h.connectDevice('printer-01');
    await b.publishAsync(STATE, '{"after":1}', { qos: 1 });
    expect(h.ingest.calls.map((c) => c.payload.toString())).toEqual(['online', '{"after":1}']);
  });
});
