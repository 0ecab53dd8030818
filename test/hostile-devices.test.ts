// One bad device never hurts another: garbage payloads, wrong types, oversized packets and wildcard
// topics are refused or dropped and counted, while a well-behaved device's data keeps flowing.

import mqtt, { ErrorWithSubackPacket, type MqttClient } from 'mqtt';
import { connect } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createSqliteStore, type Store } from '../src/store/index.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

const GOOD = 'printer-good';
const BAD = 'printer-bad';

function state(ts: string, name: string): string {
  return JSON.stringify({
    ts,
    kind: 'printer',
    model: 'Fusion P5',
    serial: 'SN-1',
    name,
    firmwareVersion: '2.1.0',
    state: 'idle',
    job: null,
    consumables: [],
    alerts: [],
  });
}

async function metricValue(
  app: App,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await app.metrics.getSingleMetric(name)?.get();
  if (!metric) return 0;
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('hostile devices', () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let reader: Store;
  const tokens = new Map<string, string>();
  const url = (): string => `mqtt://127.0.0.1:${started.ports.mqtt}`;

  const connectDevice = (id: string): Promise<MqttClient> =>
    mqtt.connectAsync(url(), {
      clientId: id,
      username: id,
      password: tokens.get(id)!,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });

  beforeAll(async () => {
    data = await makeTempDir();
    const config = testConfig(data.dir);
    app = createApp(config, silentLogger());
    started = await app.start();
    reader = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    for (const id of [GOOD, BAD])
      tokens.set(id, await issueDeviceToken(reader.deviceCredentials, id));
  });

  afterAll(async () => {
    await reader.close();
    await app.stop();
    await data.cleanup();
  });

  it('drops and counts malformed payloads without disconnecting their sender', async () => {
    const bad = await connectDevice(BAD);
    const before = await metricValue(app, 'cc_ingest_malformed_total');
    const garbage: Array<[string, string | Buffer]> = [
      ['state', '{not json'],
      ['state', JSON.stringify({ ts: 'yesterday', kind: 'toaster', state: 42 })],
      [
        'telemetry',
        JSON.stringify({ ts: new Date().toISOString(), metrics: { nozzleTemp: 'hot' } }),
      ],
      [
        'events',
        JSON.stringify({ type: 'job.updated', ts: new Date().toISOString(), job: { id: 7 } }),
      ],
      ['events', '{"__proto__":{"polluted":true},"type":"alert.cleared"}'],
      ['state', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02])],
      ['state', '['.repeat(5000)],
    ];
    for (const [channel, payload] of garbage) {
      await bad.publishAsync(`cc/v1/devices/${BAD}/${channel}`, payload, { qos: 1 });
    }
    expect(bad.connected).toBe(true);
    expect(await metricValue(app, 'cc_ingest_malformed_total')).toBe(before + garbage.length);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await reader.devices.get(BAD)).toBeUndefined();
    await bad.endAsync();
  });

  it('closes only the sender of a 1 MB packet; another device keeps publishing', async () => {
    const good = await connectDevice(GOOD);
    const bad = await connectDevice(BAD);
    // events.once would reject on the 'error' (ECONNRESET) that precedes the close.
    bad.on('error', () => undefined);
    const badClosed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    bad.publish(`cc/v1/devices/${BAD}/telemetry`, Buffer.alloc(1024 * 1024, 0x41), { qos: 0 });
    await badClosed;
    await good.publishAsync(
      `cc/v1/devices/${GOOD}/state`,
      state(new Date().toISOString(), 'still fine'),
      { qos: 1 },
    );
    expect((await reader.devices.get(GOOD))?.name).toBe('still fine');
    await good.endAsync();
    bad.end(true);
  });

  it('refuses wildcard subscriptions to the fleet and publishing as another device', async () => {
    const bad = await connectDevice(BAD);
    bad.on('error', () => undefined);
    // MQTT.js reports a SUBACK of 0x80 (refused) as an error that carries the packet.
    const refusal = await bad
      .subscribeAsync(['#', 'cc/v1/devices/+/commands', `cc/v1/devices/${GOOD}/commands`])
      .catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(ErrorWithSubackPacket);
    expect((refusal as ErrorWithSubackPacket).packet.granted).toEqual([128, 128, 128]);
    expect(bad.connected).toBe(true);
    const closed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    bad.publish(`cc/v1/devices/${GOOD}/state`, state(new Date().toISOString(), 'spoofed'), {
      qos: 1,
    });
    await closed;
    expect((await reader.devices.get(GOOD))?.name).not.toBe('spoofed');
    bad.end(true);
  });

  it('survives raw garbage bytes on the MQTT port', async () => {
    const socket = connect(started.ports.mqtt, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await once(socket, 'close');
    const good = await connectDevice(GOOD);
    await good.publishAsync(
      `cc/v1/devices/${GOOD}/state`,
      state(new Date().toISOString(), 'after garbage'),
      { qos: 1 },
    );
    expect((await reader.devices.get(GOOD))?.name).toBe('after garbage');
    await good.endAsync();
  });
});
