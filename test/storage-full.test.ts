// A full store, end to end: the SQLite database held at its size limit (max_page_count makes
// SQLite fail writes with SQLITE_FULL exactly as a full disk does) under a real API server, a
// real ingest and the real embedded MQTT broker. Device telemetry is refused and not acknowledged,
// API writes get 507, reads keep working, probes and metrics show it; once the limit is lifted the
// monitor's recheck recovers, and the telemetry the device kept and resent lands.

import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmbeddedBroker,
  issueDeviceToken,
  type EmbeddedBroker,
} from '../src/broker/index.js';
import { createIngest, type Ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/observability/index.js';
import type { StorageHealth, StorageState } from '../src/storage-health/index.js';
import { startHarness, type Harness } from '../src/api/api-test-harness.js';

const DEVICE = 'printer-07';
const TS = Date.parse('2025-06-01T08:00:00.000Z');
const at = (second: number) => new Date(TS + second * 1000).toISOString();

/** Resolves when the monitor is in `state` (at once if it already is), or fails after 10 s. */
function stateReached(storage: StorageHealth, state: StorageState): Promise<void> {
  return new Promise((resolve, reject) => {
    if (storage.state() === state) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`storage did not become ${state}: ${JSON.stringify(storage.snapshot())}`));
    }, 10_000);
    const stop = storage.onChange((snapshot) => {
      if (snapshot.state !== state) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

/** Resolves after the broker has closed the client `count` more times. */
function closes(client: MqttClient, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      client.off('close', onClose);
      reject(new Error(`saw ${seen} of ${count} closes`));
    }, 10_000);
    const onClose = (): void => {
      seen += 1;
      if (seen < count) return;
      clearTimeout(timer);
      client.off('close', onClose);
      resolve();
    };
    client.on('close', onClose);
  });
}

describe('a full store', () => {
  let h: Harness;
  let ingest: Ingest;
  let broker: EmbeddedBroker;
  let device: MqttClient;
  let admin: string;

  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const text = (await h.call('GET', '/metrics', { cookie: admin })).text;
    const wanted = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    const line = text
      .split('\n')
      .find((l) => l.startsWith(wanted ? `${name}{${wanted}} ` : `${name} `));
    if (line === undefined) throw new Error(`no ${name}{${wanted}} in the metrics`);
    return Number(line.split(' ').at(-1));
  };

  const sampleStored = async (second: number): Promise<number[]> => {
    const [series] = await h.store.metrics.query({
      deviceId: DEVICE,
      names: ['nozzle_temp'],
      from: at(second),
      to: at(second + 1),
      stepSeconds: 1,
    });
    return series?.points.map((p) => p.avg) ?? [];
  };

  beforeAll(async () => {
    // 1 MiB kept free; rechecked every 200 ms.
    h = await startHarness({ storage: { minFreeBytes: 1024 * 1024, checkIntervalMs: 200 } });
    admin = await h.setupAdmin();
    ingest = createIngest(
      { store: h.store, logger: silentLogger(), metrics: h.metrics, storage: h.storage },
      {
        batchDelayMs: 5,
        batchMaxSize: 100,
        malformedLogIntervalMs: 60_000,
        metricsRetentionDays: 30,
      },
    );
    await ingest.start();
    broker = createEmbeddedBroker(
      {
        logger: silentLogger(),
        metrics: h.metrics,
        credentials: h.store.deviceCredentials,
        ingest,
      },
      { host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024, keepaliveLimitSeconds: 120 },
    );
    await broker.start();
    const token = await issueDeviceToken(h.store.deviceCredentials, DEVICE);
    // As a device does: a persistent session, reconnecting on its own, resending what is unacked.
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.address().port}`, {
      clientId: DEVICE,
      username: DEVICE,
      password: token,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 250,
    });
    device.on('error', () => undefined);
  });

  afterAll(async () => {
    await device.endAsync(true);
    await broker.stop();
    await ingest.stop();
    await h.close();
  });

  it('stores telemetry while there is room', async () => {
    await device.publishAsync(`cc/v1/devices/${DEVICE}/telemetry`, tele(0, 200.5), { qos: 1 });
    expect(await sampleStored(0)).toEqual([200.5]);
    expect((await h.call('GET', '/api/v1/info')).json).toMatchObject({ storage: { state: 'ok' } });
  });

  let acked = false;
  let resentAcked: Promise<void> = Promise.resolve();

  it('refuses device telemetry without acknowledging it, while the device keeps resending it', async () => {
    await h.store.capacity.limitSize(1);
    await stateReached(h.storage, 'full');
    const refusedCloses = closes(device, 2);
    resentAcked = new Promise((resolve, reject) => {
      device.publish(`cc/v1/devices/${DEVICE}/telemetry`, tele(1, 201.5), { qos: 1 }, (err) => {
        if (err) {
          reject(err);
          return;
        }
        acked = true;
        resolve();
      });
    });
    // Closed without PUBACK, reconnected, resent, closed again.
    await refusedCloses;
    expect(acked).toBe(false);
    expect(await sampleStored(1)).toEqual([]);
    expect(
      await metric('cc_storage_refused_writes_total', { source: 'mqtt' }),
    ).toBeGreaterThanOrEqual(2);
    expect(await metric('cc_mqtt_ingest_failures_total')).toBeGreaterThanOrEqual(2);
  });

  it('answers API writes with 507 STORAGE_FULL naming the data directory and the fix', async () => {
    const refused = await h.call('POST', '/api/v1/sites', {
      cookie: admin,
      body: { id: 'hall-2', name: 'Hall 2' },
      headers: { origin: h.server.urls.https },
    });
    expect(refused.status).toBe(507);
    const error = (refused.json as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('STORAGE_FULL');
    expect(error.message).toContain(h.dir);
    expect(error.message).toMatch(/fix: /);
    expect(refused.text).not.toMatch(/at .*\.ts:\d+/);
    // Callers that have not signed in are not told where the data lives.
    const anonymous = await h.call('POST', '/api/v1/setup', {
      body: { token: 'x'.repeat(43), username: 'eve', password: 'correct horse battery' },
    });
    expect(anonymous.status).toBe(507);
    expect(anonymous.text).not.toContain(h.dir);
    expect(await h.store.sites.get('hall-2')).toBeUndefined();
  });

  it('keeps serving reads, stays ready, and shows the state in /api/v1/info and the metrics', async () => {
    expect((await h.call('GET', '/api/v1/sites', { cookie: admin })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/auth/me', { cookie: admin })).status).toBe(200);
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready', storage: 'full' });
    const info = (await h.call('GET', '/api/v1/info', { cookie: admin })).json as {
      storage: {
        state: string;
        freeBytes: number;
        minFreeBytes: number;
        dir: string;
        message: string;
      };
    };
    expect(info.storage).toMatchObject({ state: 'full', minFreeBytes: 1024 * 1024, dir: h.dir });
    expect(info.storage.freeBytes).toBeLessThan(info.storage.minFreeBytes);
    expect(info.storage.message).toMatch(/size limit/);
    const publicInfo = (await h.call('GET', '/api/v1/info')).json as { storage: object };
    expect(publicInfo.storage).not.toHaveProperty('dir');
    expect(await metric('cc_storage_state')).toBe(2);
    expect(await metric('cc_storage_free_bytes')).toBeLessThan(1024 * 1024);
    expect(
      await metric('cc_storage_refused_writes_total', { source: 'api' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('recovers after its recheck once the limit is lifted: writes succeed and the resent telemetry lands', async () => {
    await h.store.capacity.limitSize(null);
    await stateReached(h.storage, 'ok');
    await resentAcked;
    expect(acked).toBe(true);
    expect(await sampleStored(1)).toEqual([201.5]);
    expect(await sampleStored(0)).toEqual([200.5]);
    const created = await h.call('POST', '/api/v1/sites', {
      cookie: admin,
      body: { id: 'hall-2', name: 'Hall 2' },
      headers: { origin: h.server.urls.https },
    });
    expect(created.status).toBe(201);
    expect((await h.call('GET', '/api/v1/info')).json).toMatchObject({ storage: { state: 'ok' } });
    expect(await metric('cc_storage_state')).toBe(0);
  });
});

function tele(second: number, value: number): string {
  return JSON.stringify({ ts: at(second), metrics: { nozzle_temp: value } });
}
