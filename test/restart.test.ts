// The server as an operator runs it: ports skip what other programs hold, are kept across
// restarts, and SIGTERM stops it cleanly with everything flushed.

import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';
import { startServerProcess, type ServerProcess } from './fixtures/server-process.js';

function firstPort(range: string): number {
  return Number(range.split('-')[0]);
}

async function hold(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('server restarts', () => {
  let data: TestDataDir | undefined;
  let server: ServerProcess | undefined;
  const held: Server[] = [];

  afterEach(async () => {
    if (server && server.child.exitCode === null) await server.kill9();
    await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
    await data?.cleanup();
  });

  it('skips ports held by other programs, keeps its ports across a restart and stops cleanly on SIGTERM', async () => {
    data = await makeTempDir();
    const env = testEnv(data.dir);
    const https = firstPort(env.CC_PORTS__HTTPS!);
    const mqtt = firstPort(env.CC_PORTS__MQTT!);
    held.push(await hold(https), await hold(mqtt));

    server = await startServerProcess(env);
    const first = server.ports;
    expect(first.https).toBeGreaterThan(https);
    expect(first.mqtt).toBeGreaterThan(mqtt);
    const saved = JSON.parse(await readFile(join(data.dir, 'ports.json'), 'utf8')) as Record<
      string,
      number
    >;
    expect(saved).toMatchObject(first);
    expect(await server.stop()).toBe(0);

    // The earlier ports are free now, but clients remember the ones chosen: they are kept.
    await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
    server = await startServerProcess(env);
    expect(server.ports).toEqual(first);
    expect(server.setupUrl).toMatch(/\/setup#token=/);
    expect(await server.stop()).toBe(0);
  }, 120_000);
});
