// An acknowledged QoS 1 message survives a kill -9 of the server: the broker acknowledges only
// after ingest has committed the message's writes to the store.

import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observability/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';
import { execCli, startServerProcess, type ServerProcess } from './fixtures/server-process.js';

describe('durability under kill -9', () => {
  let data: TestDataDir | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    if (server && server.child.exitCode === null) await server.kill9();
    await data?.cleanup();
  });

  it('loses no QoS 1 event that was acknowledged before the server was killed', async () => {
    data = await makeTempDir();
    const env = testEnv(data.dir);
    const provision = await execCli(['devices', 'provision', 'printer-k9', '--json'], env);
    expect(provision.code, provision.stderr).toBe(0);
    const { token } = JSON.parse(provision.stdout) as { token: string };

    server = await startServerProcess(env);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports.mqtt}`, {
      username: 'printer-k9',
      password: token,
      clientId: 'printer-k9',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined);

    const total = 3000;
    const killAfter = 400;
    const acked = new Set<string>();
    const topic = 'cc/v1/devices/printer-k9/events';
    const killed = new Promise<void>((resolve) => {
      for (let i = 0; i < total; i++) {
        const id = `job-${i}`;
        const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString();
        const payload = JSON.stringify({
          type: 'job.updated',
          ts,
          job: { id, name: `part ${i}`, owner: 'ops', state: 'printing', progress: 1 },
        });
        client.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) return;
          acked.add(id);
          if (acked.size === killAfter) resolve();
        });
      }
    });
    await killed;
    await server.kill9();
    client.end(true);

    expect(acked.size).toBeGreaterThanOrEqual(killAfter);
    const store = await createSqliteStore({
      file: join(data.dir, 'command-center.db'),
      logger: silentLogger(),
    });
    try {
      const missing: string[] = [];
      for (const id of acked) {
        if (!(await store.jobs.get(id))) missing.push(id);
      }
      expect(missing).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);
});
