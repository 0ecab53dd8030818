// The doctor's checks of this machine against real parts on loopback: port ranges with real
// listeners, the real file system, the real embedded MQTT broker, a database probe, the clock
// against a stand-in's Date header, and the bandwidth of a stand-in HTTPS download (fast, slow,
// missing, and through a real forward proxy).

import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forwardProxySkipReason,
  freePort,
  startForwardProxy,
  type ForwardProxy,
} from '../../test/fixtures/forward-proxy.js';
import { startBrokerHarness, type BrokerHarness } from '../broker/broker-test-harness.js';
import { checkBandwidth } from './bandwidth.js';
import {
  checkBroker,
  checkClock,
  checkDatabase,
  checkDiskSpace,
  checkPortRange,
  MAX_PORTS_PROBED,
} from './local-checks.js';
import { plannedChecks, runDoctor, type DoctorOptions } from './run-doctor.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
let material: { cert: string; key: string };

async function listen(server: Server, port = 0): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Answers GET with `size` bytes, `chunk` bytes every `everyMs` (0: all at once). */
function downloadServer(options: {
  size: number;
  chunk: number;
  everyMs: number;
  status?: number;
  date?: string;
}) {
  return createTlsServer(material, (socket: TLSSocket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      const status = options.status ?? 200;
      socket.write(
        `HTTP/1.1 ${String(status)} X\r\nContent-Length: ${String(status === 200 ? options.size : 0)}\r\nDate: ${options.date ?? new Date().toUTCString()}\r\nConnection: close\r\n\r\n`,
      );
      if (status !== 200) {
        socket.end();
        return;
      }
      let sent = 0;
      const block = Buffer.alloc(options.chunk, 0x61);
      const pump = (): void => {
        while (sent < options.size) {
          const n = Math.min(options.chunk, options.size - sent);
          sent += n;
          socket.write(block.subarray(0, n));
          if (options.everyMs > 0) {
            setTimeout(pump, options.everyMs);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  });
}

const url = (port: number) => new URL(`https://localhost:${String(port)}/big.bin`);
let fastPort = 0;
let slowPort = 0;
let missingPort = 0;
let skewedPort = 0;

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  material = { cert: pems.cert, key: pems.private };
  fastPort = await listen(downloadServer({ size: 4 * 1024 * 1024, chunk: 64 * 1024, everyMs: 0 }));
  // 16 KiB every 100 ms: about 1.3 Mbit/s, below "DSL or better" (2 Mbit/s).
  slowPort = await listen(downloadServer({ size: 256 * 1024, chunk: 16 * 1024, everyMs: 100 }));
  missingPort = await listen(downloadServer({ size: 0, chunk: 1, everyMs: 0, status: 404 }));
  skewedPort = await listen(
    downloadServer({
      size: 10,
      chunk: 10,
      everyMs: 0,
      date: new Date(Date.now() - 600_000).toUTCString(),
    }),
  );
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

describe('port ranges', () => {
  it('tells free ports, ours and ones another program holds', async () => {
    const taken = await listen(createServer());
    const reading = await checkPortRange(
      { key: 'ports.https', from: taken, to: taken + 1 },
      '127.0.0.1',
      new Set([taken + 1]),
    );
    expect(reading.status).toBe('ok');
    expect(reading.detail).toContain(`port ${String(taken + 1)} in use by this server`);
    expect(reading.detail).toContain('1 taken');
  });

  it('warns when the remembered port was taken by another program', async () => {
    const taken = await listen(createServer());
    const reading = await checkPortRange(
      { key: 'ports.mqtt', from: taken, to: taken + 3, remembered: taken },
      '127.0.0.1',
      new Set(),
    );
    expect(reading.status).toBe('warn');
    expect(reading.detail).toContain(`remembered port ${String(taken)} is taken by`);
    // This test process holds it: the holder is named from /proc.
    expect(reading.detail).toMatch(/\(pid \d+\)/);
    expect(reading.cause).toContain('clients and devices');
    expect(reading.fix).toContain('CC_PORTS__MQTT');
  });

  it('fails when every port of the range is taken, naming the fix', async () => {
    const taken = await listen(createServer());
    const reading = await checkPortRange(
      { key: 'ports.http', from: taken, to: taken },
      '127.0.0.1',
      new Set(),
    );
    expect(reading.status).toBe('fail');
    expect(reading.detail).toContain('every port of the range is taken');
    expect(reading.fix).toContain('CC_PORTS__HTTP');
    expect(reading.value).toBe(0);
  });

  it('probes a bounded number of ports of a wide range', async () => {
    const start = await freePort();
    const from = Math.min(start, 65535 - 1000);
    const reading = await checkPortRange(
      { key: 'ports.apiProxy', from, to: from + 1000 },
      '127.0.0.1',
      new Set(),
    );
    expect(reading.detail).toContain(`first ${String(MAX_PORTS_PROBED)} probed`);
  });
});

describe('disk space', () => {
  it('is ok above the minimum, warns near it and fails below it', async () => {
    const ok = await checkDiskSpace('.', 1024 * 1024);
    expect(ok.status).toBe('ok');
    expect(ok.unit).toBe('MB free');
    const free = (ok.value ?? 0) * 1024 * 1024;
    const near = await checkDiskSpace('.', Math.floor(free / 1.5));
    expect(near.status).toBe('warn');
    const below = await checkDiskSpace('.', free * 4 + 1024 * 1024 * 1024);
    expect(below.status).toBe('fail');
    expect(below.cause).toContain('refuses writes');
    expect(below.fix).toContain('free space');
  });

  it('fails on a directory that does not exist', async () => {
    const reading = await checkDiskSpace('/nonexistent/cc-data', 1);
    expect(reading.status).toBe('fail');
    expect(reading.detail).toContain('ENOENT');
  });
});

describe('the MQTT broker', () => {
  let harness: BrokerHarness;
  beforeAll(async () => {
    harness = await startBrokerHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('completes a handshake with the real embedded broker, which refuses anonymous clients', async () => {
    const reading = await checkBroker(
      { host: '127.0.0.1', port: harness.broker.address().port },
      2000,
    );
    expect(reading.status).toBe('ok');
    expect(reading.detail).toContain('answers CONNACK');
    expect(reading.detail).toMatch(/anonymous refused/);
  });

  it('fails on a closed port, and on a port that is not MQTT', async () => {
    const closed = await checkBroker({ host: '127.0.0.1', port: await freePort() }, 1000);
    expect(closed.status).toBe('fail');
    expect(closed.cause).toContain('not listening');
    const http = await listen(
      createServer((socket) => {
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      }),
    );
    const other = await checkBroker({ host: '127.0.0.1', port: http }, 1000);
    expect(other.status).toBe('fail');
    expect(other.cause).toContain('another program');
  });

  it('warns when the server is not running', async () => {
    const reading = await checkBroker(null, 1000);
    expect(reading.status).toBe('warn');
    expect(reading.fix).toContain('start the server');
  });
});

describe('the database probe', () => {
  it('reports the probe, its failure and its timeout', async () => {
    expect((await checkDatabase(() => Promise.resolve('sqlite answers'), 1000)).status).toBe('ok');
    const failed = await checkDatabase(() => Promise.reject(new Error('SQLITE_CORRUPT')), 1000);
    expect(failed.status).toBe('fail');
    expect(failed.detail).toContain('SQLITE_CORRUPT');
    expect(failed.fix).toContain('command-center restore');
    const slow = await checkDatabase(() => new Promise<string>(() => undefined), 100);
    expect(slow.status).toBe('fail');
    expect(slow.detail).toContain('no answer within 100 ms');
  });
});

describe('the clock', () => {
  const sample = (offsetMs: number) => {
    const now = Date.now();
    return {
      subject: 'cloud:443',
      serverDate: new Date(now + offsetMs).toUTCString(),
      sentAt: now - 20,
      receivedAt: now + 20,
    };
  };

  it('is in step within the header resolution, warns past a minute, fails past five', () => {
    expect(checkClock(sample(400)).status).toBe('ok');
    const warn = checkClock(sample(-120_000));
    expect(warn.status).toBe('warn');
    expect(warn.detail).toMatch(/ahead of cloud:443/);
    const fail = checkClock(sample(3_600_000));
    expect(fail.status).toBe('fail');
    expect(fail.detail).toMatch(/behind cloud:443/);
    expect(fail.fix).toContain('timedatectl set-ntp true');
    expect(checkClock(undefined).status).toBe('skipped');
    expect(checkClock({ ...sample(0), serverDate: 'yesterday' }).status).toBe('warn');
  });

  it('compares with the first HTTPS endpoint that answered, in a whole run', async () => {
    const report = await runDoctor({
      endpoints: [{ host: 'localhost', port: skewedPort, kind: 'https' }],
      proxy: { kind: 'none' },
      timeoutMs: 2000,
      totalDeadlineMs: 10_000,
      ca: material.cert,
      local: { clock: true },
    });
    const clock = report.checks.find((c) => c.name === 'clock');
    expect(clock?.status).toBe('fail');
    expect(clock?.path).toBe('local');
    expect(clock?.value).toBeGreaterThanOrEqual(595);
    expect(clock?.value).toBeLessThanOrEqual(605);
    expect(clock?.detail).toContain(`ahead of localhost:${String(skewedPort)}`);
    expect(report.exitCode).toBe(2);
  });
});

describe('bandwidth', () => {
  it('measures a fast download as DSL or better', async () => {
    const reading = await checkBandwidth({
      url: url(fastPort),
      minKbps: 2000,
      maxBytes: 4 * 1024 * 1024,
      ms: 10_000,
      proxy: null,
      ca: material.cert,
    });
    expect(reading.status).toBe('ok');
    expect(reading.unit).toBe('kbit/s');
    expect(reading.value).toBeGreaterThan(2000);
    expect(reading.detail).toContain('directly');
  });

  it('warns when the line is slower than the requirement', async () => {
    const reading = await checkBandwidth({
      url: url(slowPort),
      minKbps: 2000,
      maxBytes: 256 * 1024,
      ms: 10_000,
      proxy: null,
      ca: material.cert,
    });
    expect(reading.status).toBe('warn');
    expect(reading.value).toBeLessThan(2000);
    expect(reading.cause).toContain('DSL or better');
  });

  it('stops at its time bound and measures what arrived', async () => {
    const started = Date.now();
    const reading = await checkBandwidth({
      url: url(slowPort),
      minKbps: 2000,
      maxBytes: 256 * 1024,
      ms: 400,
      proxy: null,
      ca: material.cert,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(reading.status).toBe('warn');
  });

  it('fails on a missing file and on an unreachable endpoint', async () => {
    const missing = await checkBandwidth({
      url: url(missingPort),
      minKbps: 2000,
      maxBytes: 1024,
      ms: 2000,
      proxy: null,
      ca: material.cert,
    });
    expect(missing.status).toBe('fail');
    expect(missing.detail).toContain('HTTP 404');
    expect(missing.fix).toContain('doctor.bandwidthUrl');
    const closed = await checkBandwidth({
      url: url(await freePort()),
      minKbps: 2000,
      maxBytes: 1024,
      ms: 2000,
      proxy: null,
      ca: material.cert,
    });
    expect(closed.status).toBe('fail');
    expect(closed.detail).toContain('cannot reach the bandwidth endpoint');
  });

  const skipProxy = forwardProxySkipReason();
  describe.skipIf(skipProxy !== null)('through a real forward proxy', () => {
    let proxy: ForwardProxy;
    beforeAll(async () => {
      proxy = await startForwardProxy({ connectPorts: [fastPort] });
    });
    afterAll(async () => {
      await proxy.stop();
    });

    it('downloads via the proxy when one applies, as the uplink would', async () => {
      const options: DoctorOptions = {
        endpoints: [],
        proxy: { kind: 'explicit', url: proxy.url },
        timeoutMs: 10_000,
        totalDeadlineMs: 20_000,
        ca: material.cert,
        local: { bandwidth: { url: url(fastPort), minKbps: 2000, maxBytes: 1024 * 1024 } },
      };
      expect(plannedChecks(options)).toBe(1);
      const report = await runDoctor(options);
      const bandwidth = report.checks.find((c) => c.name === 'bandwidth');
      expect(bandwidth?.status).toBe('ok');
      expect(bandwidth?.detail).toContain('via proxy 127.0.0.1');
    });
  });
});

describe('a whole run with local checks', () => {
  it('reports every planned check, local ones last, and aborts promptly', async () => {
    const port = await freePort();
    const options: DoctorOptions = {
      endpoints: [{ host: 'localhost', port: fastPort, kind: 'https' }],
      proxy: { kind: 'none' },
      timeoutMs: 2000,
      totalDeadlineMs: 20_000,
      ca: material.cert,
      local: {
        ports: {
          host: '127.0.0.1',
          ranges: [{ key: 'ports.https', from: port, to: port }],
          ours: new Set(),
        },
        disks: [{ subject: 'data directory', dir: '.' }],
        minFreeBytes: 1024 * 1024,
        broker: null,
        database: () => Promise.resolve('answers'),
        clock: true,
        bandwidth: { url: url(fastPort), minKbps: 2000, maxBytes: 1024 * 1024 },
      },
    };
    const progress: string[] = [];
    const report = await runDoctor(options, (c) => progress.push(c.name));
    expect(report.checks).toHaveLength(plannedChecks(options));
    expect(progress).toHaveLength(report.checks.length);
    expect(report.checks.slice(-6).map((c) => [c.name, c.path])).toEqual([
      ['ports', 'local'],
      ['disk', 'local'],
      ['broker', 'local'],
      ['database', 'local'],
      ['clock', 'local'],
      ['bandwidth', 'local'],
    ]);
    // The broker is not running: a warning, so the run exits 1.
    expect(report.exitCode).toBe(1);

    const controller = new AbortController();
    const silent = await listen(createServer(() => undefined));
    const started = Date.now();
    const aborted = runDoctor({
      ...options,
      endpoints: [{ host: '127.0.0.1', port: silent, kind: 'https' }],
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const result = await aborted;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.checks.filter((c) => c.status === 'skipped').length).toBeGreaterThan(0);
  });
});
