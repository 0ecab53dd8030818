import { createServer, type AddressInfo, type Server } from 'node:net';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CcError } from '../domain/index.js';
import { allocatePorts, findPortHolder, isPortFree, listenOnRange } from './index.js';

const HOST = '127.0.0.1';

/** A block of `size` consecutive ports that are free right now. */
async function freeBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30000 + Math.floor(Math.random() * 3000) * 10;
    const checks = await Promise.all(
      Array.from({ length: size }, (_, i) => isPortFree(base + i, HOST)),
    );
    if (checks.every(Boolean)) return base;
  }
  throw new Error('no free block of ports');
}

async function hold(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, HOST);
  await once(server, 'listening');
  return server;
}

describe('port allocator', () => {
  let dir: string;
  const held: Server[] = [];
  const stateFile = (): string => join(dir, 'ports.json');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-ports-'));
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each service the first free port of its range and persists the choice', async () => {
    const base = await freeBlock(6);
    const { ports } = await allocatePorts({
      ranges: { https: { from: base, to: base + 2 }, mqtt: { from: base + 3, to: base + 5 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(ports).toEqual({ https: base, mqtt: base + 3 });
    expect(JSON.parse(await readFile(stateFile(), 'utf8'))).toEqual(ports);
  });

  it('skips ports held by other sockets', async () => {
    const base = await freeBlock(4);
    held.push(await hold(base), await hold(base + 1));
    const { ports } = await allocatePorts({
      ranges: { https: { from: base, to: base + 3 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(ports.https).toBe(base + 2);
  });

  it('never gives one port of overlapping ranges to two services', async () => {
    const base = await freeBlock(5);
    // http base..base+2 and apiProxy base+2..base+4 overlap at base+2, like 8080-8090 and 8090-8099.
    held.push(await hold(base), await hold(base + 1));
    const { ports } = await allocatePorts({
      ranges: { http: { from: base, to: base + 2 }, apiProxy: { from: base + 2, to: base + 4 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(ports.http).toBe(base + 2);
    expect(ports.apiProxy).toBe(base + 3);
  });

  it('reuses remembered ports on restart, even when earlier ports have become free', async () => {
    const base = await freeBlock(4);
    const blocker = await hold(base);
    const first = await allocatePorts({
      ranges: { https: { from: base, to: base + 3 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(first.ports.https).toBe(base + 1);
    await new Promise((r) => blocker.close(r));
    const second = await allocatePorts({
      ranges: { https: { from: base, to: base + 3 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(second.ports.https).toBe(base + 1);
    expect(second.moved).toEqual([]);
  });

  it('moves to the next free port when the remembered one is taken, and says so', async () => {
    const base = await freeBlock(4);
    await writeFile(stateFile(), JSON.stringify({ https: base + 1 }));
    held.push(await hold(base + 1));
    const { ports, moved } = await allocatePorts({
      ranges: { https: { from: base, to: base + 3 } },
      host: HOST,
      stateFile: stateFile(),
    });
    expect(ports.https).toBe(base);
    expect(moved).toEqual([{ service: 'https', from: base + 1, to: base }]);
  });

  it('ignores a corrupt or hostile ports file', async () => {
    const base = await freeBlock(2);
    for (const text of [
      '{not json',
      '[1,2]',
      'null',
      '{"__proto__": {"https": 1}, "constructor": 5}',
      JSON.stringify({ https: 'x' }),
      JSON.stringify({ https: 99999 }),
      `{"https": ${base + 1}, "pad": "${'x'.repeat(100_000)}"}`,
    ]) {
      await writeFile(stateFile(), text);
      const { ports } = await allocatePorts({
        ranges: { https: { from: base, to: base + 1 } },
        host: HOST,
        stateFile: stateFile(),
      });
      expect(ports.https).toBe(base);
    }
    expect(({} as Record<string, unknown>).https).toBeUndefined();
  });

  it('allocates only the services asked for, leaving the others their remembered ports', async () => {
    const base = await freeBlock(4);
    const ranges = {
      http: { from: base, to: base + 2 },
      apiProxy: { from: base + 2, to: base + 3 },
    };
    held.push(await hold(base), await hold(base + 1));
    await writeFile(stateFile(), JSON.stringify({ apiProxy: base + 2 }));
    const now = await allocatePorts({
      ranges,
      host: HOST,
      stateFile: stateFile(),
      services: ['http'],
    });
    // http's only free port is apiProxy's remembered one: it gets it rather than failing.
    expect(now.ports).toEqual({ http: base + 2 });
    expect(now.reservations).toEqual({ apiProxy: base + 2, http: base + 2 });
    await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
    const later = await allocatePorts({ ranges, host: HOST, stateFile: stateFile() });
    expect(later.ports.http).toBe(base + 2);
    expect(later.ports.apiProxy).toBe(base + 3);
  });

  it('fails with PORT_RANGE_EXHAUSTED naming the range and the process holding each port', async () => {
    const base = await freeBlock(2);
    held.push(await hold(base), await hold(base + 1));
    const error = await allocatePorts({
      ranges: { mqtt: { from: base, to: base + 1 } },
      host: HOST,
      stateFile: stateFile(),
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CcError);
    const message = (error as CcError).message;
    expect((error as CcError).code).toBe('PORT_RANGE_EXHAUSTED');
    expect(message).toContain(`${base}-${base + 1}`);
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toContain('ports.mqtt');
    expect((error as CcError).details).toMatchObject({ service: 'mqtt' });
  });

  it('finds the holder of a listening port, and nothing for a free one', async () => {
    const base = await freeBlock(2);
    held.push(await hold(base));
    const holder = await findPortHolder(base);
    expect(holder?.pid).toBe(process.pid);
    expect(holder?.name.length).toBeGreaterThan(0);
    expect(await findPortHolder(base + 1)).toBeNull();
  });

  describe('listenOnRange', () => {
    const listening = (server: Server): number => (server.address() as AddressInfo).port;

    it('binds the preferred port when it is free', async () => {
      const base = await freeBlock(3);
      const server = createServer();
      held.push(server);
      const port = await listenOnRange(server, {
        range: { from: base, to: base + 2 },
        host: HOST,
        preferred: base + 2,
      });
      expect(port).toBe(base + 2);
      expect(listening(server)).toBe(base + 2);
    });

    it('moves on when another process took the allocated port after the probe', async () => {
      const base = await freeBlock(4);
      const range = { from: base, to: base + 3 };
      const { ports } = await allocatePorts({
        ranges: { https: range },
        host: HOST,
        stateFile: stateFile(),
      });
      held.push(await hold(ports.https)); // the race: someone binds it before we do
      const server = createServer();
      held.push(server);
      const port = await listenOnRange(server, {
        range,
        host: HOST,
        preferred: ports.https,
        exclude: [base + 1],
      });
      expect(port).toBe(base + 2);
      expect(server.listening).toBe(true);
    });

    it('fails with PORT_RANGE_EXHAUSTED when nothing in the range can be bound', async () => {
      const base = await freeBlock(2);
      held.push(await hold(base), await hold(base + 1));
      const server = createServer();
      const error = await listenOnRange(server, {
        range: { from: base, to: base + 1 },
        host: HOST,
        service: 'apiProxy',
      }).catch((err: unknown) => err);
      expect((error as CcError).code).toBe('PORT_RANGE_EXHAUSTED');
      expect((error as CcError).message).toContain(`pid ${process.pid}`);
      expect(server.listening).toBe(false);
    });
  });
});
