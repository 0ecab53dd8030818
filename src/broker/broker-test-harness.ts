// Test fixtures for the broker: a broker on a free 127.0.0.1 port backed by a real SQLite store in
// a temporary directory, and an ingest double that records what reaches it.

import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceChannel, Ingest, IngestOutcome } from '../ingest/ingest-types.js';
import { createMetricsRegistry, silentLogger, type Registry } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import { issueDeviceToken } from './device-tokens.js';
import { createEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';

export interface IngestCall {
  deviceId: string;
  channel: DeviceChannel;
  payload: Buffer;
}

/**
 * Accepts `online`/`offline` on status and any JSON elsewhere; refuses anything else, as ingest
 * would a malformed payload.
 */
export function jsonOutcome(call: IngestCall): Promise<IngestOutcome> {
  const text = call.payload.toString('utf8');
  if (call.channel === 'status') {
    return Promise.resolve(
      text === 'online' || text === 'offline'
        ? { accepted: true }
        : { accepted: false, code: 'SCHEMA_INVALID', message: 'not a status' },
    );
  }
  try {
    JSON.parse(text);
    return Promise.resolve({ accepted: true });
  } catch {
    return Promise.resolve({ accepted: false, code: 'MALFORMED_JSON', message: 'not JSON' });
  }
}

export class RecordingIngest implements Pick<Ingest, 'handle'> {
  readonly calls: IngestCall[] = [];
  respond: (call: IngestCall) => Promise<IngestOutcome> = jsonOutcome;
  private readonly events = new EventEmitter();

  handle(deviceId: string, channel: DeviceChannel, payload: Buffer): Promise<IngestOutcome> {
    const call = { deviceId, channel, payload };
    this.calls.push(call);
    this.events.emit('call', call);
    return this.respond(call);
  }

  /** Resolves with the first call (past or future) matching `match`. */
  async waitFor(match: (call: IngestCall) => boolean, timeoutMs = 5000): Promise<IngestCall> {
    const signal = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const found = this.calls.find(match);
      if (found) return found;
      await once(this.events, 'call', { signal });
    }
  }
}

export interface BrokerHarness {
  broker: EmbeddedBroker;
  url: string;
  store: Store;
  ingest: RecordingIngest;
  registry: Registry;
  /** Provisions a device and returns its token. */
  addDevice(id: string): Promise<string>;
  connect(options: IClientOptions): Promise<MqttClient>;
  /** Connects as a provisioned device with its token. */
  connectDevice(id: string, options?: IClientOptions): Promise<MqttClient>;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startBrokerHarness(
  options: { maxPacketBytes?: number } = {},
): Promise<BrokerHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-broker-'));
  const store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
  await store.migrate();
  const ingest = new RecordingIngest();
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const broker = createEmbeddedBroker(
    { logger: silentLogger(), metrics: registry, credentials: store.deviceCredentials, ingest },
    {
      host: '127.0.0.1',
      port: 0,
      maxPacketBytes: options.maxPacketBytes ?? 256 * 1024,
      keepaliveLimitSeconds: 120,
    },
  );
  await broker.start();
  const url = `mqtt://127.0.0.1:${broker.address().port}`;
  const tokens = new Map<string, string>();
  const clients: MqttClient[] = [];

  async function connect(clientOptions: IClientOptions): Promise<MqttClient> {
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...clientOptions,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(err);
      };
      const onClose = (): void => {
        reject(new Error('closed before CONNACK'));
      };
      client.once('error', onError);
      client.once('close', onClose);
      client.once('connect', () => {
        client.off('error', onError);
        client.off('close', onClose);
        resolve();
      });
    });
    // Tests watch for 'close'; a reset seen by the client is expected when the broker drops it.
    client.on('error', () => undefined);
    return client;
  }

  return {
    broker,
    url,
    store,
    ingest,
    registry,
    async addDevice(id) {
      const token = await issueDeviceToken(store.deviceCredentials, id);
      tokens.set(id, token);
      return token;
    },
    connect,
    connectDevice(id, extra = {}) {
      return connect({ clientId: id, username: id, password: tokens.get(id) ?? '', ...extra });
    },
    async counter(name, labels = {}) {
      const metric = await registry.getSingleMetric(name)?.get();
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
