import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, silentLogger } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import { RecordingIngest } from './broker-test-harness.js';
import { issueDeviceToken } from './device-tokens.js';
import { createEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';

describe('embedded broker over TLS', () => {
  let dir: string;
  let store: Store;
  let broker: EmbeddedBroker;
  let cert: string;
  const ingest = new RecordingIngest();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-broker-tls-'));
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    cert = pems.cert;
    broker = createEmbeddedBroker(
      {
        logger: silentLogger(),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        credentials: store.deviceCredentials,
        ingest,
      },
      {
        host: '127.0.0.1',
        port: 0,
        maxPacketBytes: 64 * 1024,
        keepaliveLimitSeconds: 120,
        tls: { cert: pems.cert, key: pems.private },
      },
    );
    await broker.start();
  });

  afterAll(async () => {
    await broker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates a device and takes its messages over mqtts', async () => {
    const token = await issueDeviceToken(store.deviceCredentials, 'printer-01');
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.address().port}`, {
      clientId: 'printer-01',
      username: 'printer-01',
      password: token,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: cert,
    });
    try {
      await client.publishAsync('cc/v1/devices/printer-01/state', '{"ok":1}', { qos: 1 });
      expect(ingest.calls.map((c) => c.payload.toString())).toEqual(['{"ok":1}']);
    } finally {
      await client.endAsync();
    }
  });
});
