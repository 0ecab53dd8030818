import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBrokerHarness, type BrokerHarness } from './broker-test-harness.js';

/** Resolves with the error or CONNACK refusal of a connection attempt. */
async function refusal(attempt: Promise<MqttClient>): Promise<{ code?: unknown }> {
  return attempt.then(
    () => ({ code: 'connected' }),
    (err: unknown) => err as { code?: unknown },
  );
}

/** The SUBACK return codes (MQTT.js rejects a SUBACK holding 0x80 but keeps the packet). */
async function subackCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 }>) {
  const packet = await client.subscribeAsync(filters).then(
    (grants) => ({ granted: grants.map((g) => g.qos) }),
    (err: unknown) => (err as { packet: { granted: number[] } }).packet,
  );
  return packet.granted;
}

/** Resolves on 'close' (events.once would reject on the 'error' that may come first). */
const closed = (client: MqttClient): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not closed within 5 s')), 5000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

describe('embedded broker: authentication and ACL', () => {
  let h: BrokerHarness;

  beforeEach(async () => {
    h = await startBrokerHarness();
    await h.addDevice('printer-01');
    await h.addDevice('printer-02');
  });

  afterEach(async () => {
    await h.close();
  });

  it('connects a device with its token', async () => {
    const client = await h.connectDevice('printer-01');
    expect(client.connected).toBe(true);
    expect(h.broker.connectedDevices()).toBe(1);
  });

  it.each([
    ['a wrong token', { clientId: 'printer-01', username: 'printer-01', password: 'nope' }, 4],
    ['an unknown device', { clientId: 'ghost', username: 'ghost', password: 'x'.repeat(43) }, 4],
    ['a missing password', { clientId: 'printer-01', username: 'printer-01' }, 4],
    ['missing credentials', { clientId: 'printer-01' }, 4],
    ['an invalid device id', { clientId: 'a/b', username: 'a/b', password: 'x' }, 4],
  ])('refuses %s with CONNACK %i', async (_name, options, code) => {
    const err = await refusal(h.connect(options));
    expect(err.code).toBe(code);
    expect(await h.counter('cc_mqtt_auth_failures_total')).toBe(1);
  });

  it('refuses a client id other than the device id (CONNACK 2)', async () => {
    const token = await h.addDevice('printer-03');
    const err = await refusal(
      h.connect({ clientId: 'printer-03-x', username: 'printer-03', password: token }),
    );
    expect(err.code).toBe(2);
  });

  it('refuses another device token', async () => {
    const token = await h.addDevice('printer-04');
    const err = await refusal(
      h.connect({ clientId: 'printer-01', username: 'printer-01', password: token }),
    );
    expect(err.code).toBe(4);
  });

  it('refuses a last will outside the device prefix (CONNACK 5)', async () => {
    const err = await refusal(
      h.connectDevice('printer-01', {
        will: { topic: 'cc/v1/devices/printer-02/status', payload: Buffer.from('offline') },
      }),
    );
    expect(err.code).toBe(5);
  });

  it('refuses MQTT 5 clients', async () => {
    const err = await refusal(h.connectDevice('printer-01', { protocolVersion: 5 }));
    expect(err.code).not.toBe('connected');
  });

  it('disconnects a device publishing as another device; the other is unaffected', async () => {
    const a = await h.connectDevice('printer-01');
    const b = await h.connectDevice('printer-02');
    const aClosed = closed(a);
    a.publish('cc/v1/devices/printer-02/state', '{"spoofed":true}', { qos: 1 });
    await aClosed;
    await b.publishAsync('cc/v1/devices/printer-02/state', '{"real":true}', { qos: 1 });
    expect(h.ingest.calls.map((c) => c.payload.toString())).toEqual(['{"real":true}']);
    expect(b.connected).toBe(true);
    expect(await h.counter('cc_mqtt_acl_denials_total', { action: 'publish' })).toBe(1);
  });

  it.each(['$SYS/x/heartbeat', 'cc/v1/devices/printer-01/commands', 'cc/v1/fleet/devices/x'])(
    'disconnects a device publishing on %s',
    async (topic) => {
      const a = await h.connectDevice('printer-01');
      const aClosed = closed(a);
      a.publish(topic, '{}', { qos: 0 });
      await aClosed;
      expect(h.ingest.calls).toHaveLength(0);
    },
  );

  it('grants only the device own commands; refuses others with SUBACK 128 and stays connected', async () => {
    const a = await h.connectDevice('printer-01');
    const granted = await subackCodes(a, {
      'cc/v1/devices/printer-01/commands': { qos: 1 },
      'cc/v1/devices/printer-02/commands': { qos: 1 },
      'cc/v1/devices/#': { qos: 1 },
      '#': { qos: 0 },
      '$SYS/#': { qos: 0 },
      'cc/v1/devices/+/commands': { qos: 1 },
    });
    expect(granted).toEqual([1, 128, 128, 128, 128, 128]);
    expect(a.connected).toBe(true);
    expect(await h.counter('cc_mqtt_acl_denials_total', { action: 'subscribe' })).toBe(5);
  });

  it('delivers server commands to the device and command results to the server', async () => {
    const a = await h.connectDevice('printer-01');
    await a.subscribeAsync('cc/v1/devices/printer-01/commands', { qos: 1 });
    const results: string[] = [];
    const gotResult = new Promise<void>((resolve) => {
      void h.broker.subscribe('cc/v1/devices/+/commands/+/result', (_topic, payload) => {
        results.push(payload.toString());
        resolve();
      });
    });
    const gotCommand = new Promise<[string, Buffer]>((resolve) => {
      a.once('message', (topic, payload) => resolve([topic, payload]));
    });
    await h.broker.publish('cc/v1/devices/printer-01/commands', '{"id":"c1"}', {
      qos: 1,
      retain: false,
    });
    const [, payload] = await gotCommand;
    expect(payload.toString()).toBe('{"id":"c1"}');
    await a.publishAsync('cc/v1/devices/printer-01/commands/c1/result', '{"ok":true}', {
      qos: 1,
      retain: true,
    });
    await gotResult;
    expect(results).toEqual(['{"ok":true}']);
    expect(await h.broker.retained('cc/v1/devices/printer-01/commands/c1/result')).toBeUndefined();
  });

  it('republishes fleet changes on cc/v1/fleet, retaining device views', async () => {
    const seen: string[] = [];
    const gotTwo = new Promise<void>((resolve) => {
      void h.broker.subscribe('cc/v1/fleet/#', (topic) => {
        seen.push(topic);
        if (seen.length === 2) resolve();
      });
    });
    const device = { id: 'printer-01', name: 'Fusion P5 #1' };
    h.broker.publishFleetChange({ type: 'device', device } as never);
    h.broker.publishFleetChange({ type: 'alert', alert: { id: 'al-1' } } as never);
    await gotTwo;
    expect(seen.sort()).toEqual(['cc/v1/fleet/alerts/al-1', 'cc/v1/fleet/devices/printer-01']);
    const retained = await h.broker.retained('cc/v1/fleet/devices/printer-01');
    expect(JSON.parse(retained?.toString() ?? 'null')).toEqual(device);
    expect(await h.broker.retained('cc/v1/fleet/alerts/al-1')).toBeUndefined();
  });
});
