// The Web Services client against real HTTPS servers on loopback that misbehave on purpose:
// pinning, timeouts, malformed and out-of-contract answers, errors, redirects, huge bodies.

import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isCcError, type CcError } from '../domain/index.js';
import { silentLogger } from '../observability/index.js';
import { json, startFakeDevice, type FakeDeviceServer } from './fake-device-server.js';
import {
  createWsClient,
  normalizeBaseUrl,
  type DeviceEndpoint,
  type WsClient,
} from './ws-client.js';

const NOW = '2026-11-25T10:00:00.000Z';
const MAX_BYTES = 256 * 1024;

async function failure(p: Promise<unknown>): Promise<CcError> {
  try {
    await p;
  } catch (err) {
    if (isCcError(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('normalizeBaseUrl', () => {
  it('turns the forms people type into https://host:port', () => {
    expect(normalizeBaseUrl('10.0.0.5')).toBe('https://10.0.0.5:443');
    expect(normalizeBaseUrl(' printer-3.plant.local:8443 ')).toBe(
      'https://printer-3.plant.local:8443',
    );
    expect(normalizeBaseUrl('https://10.0.0.5/')).toBe('https://10.0.0.5:443');
    expect(normalizeBaseUrl('[::1]:9443')).toBe('https://[::1]:9443');
    expect(normalizeBaseUrl('HTTPS://Printer.Local')).toBe('https://printer.local:443');
  });

  it('refuses plain HTTP, credentials, paths and junk', () => {
    for (const bad of [
      'http://10.0.0.5',
      'https://admin:pw@10.0.0.5',
      'https://10.0.0.5/ws/v1',
      'https://10.0.0.5/?a=1',
      'ftp://x',
      '',
      'https://',
      'a'.repeat(400),
    ]) {
      expect(() => normalizeBaseUrl(bad), bad).toThrow(/./);
    }
  });
});

describe('Web Services client', () => {
  let device: FakeDeviceServer;
  let client: WsClient;
  let endpoint: DeviceEndpoint;

  beforeAll(async () => {
    device = await startFakeDevice();
    client = createWsClient({
      timeoutMs: 800,
      maxResponseBytes: MAX_BYTES,
      connectionsPerDevice: 2,
      keepAliveMs: 10_000,
      logger: silentLogger(),
    });
    endpoint = {
      baseUrl: device.baseUrl,
      fingerprint256: device.fingerprint256,
      credential: { username: 'admin', password: 's3cret-pass' },
    };
  });

  afterAll(async () => {
    await client.close();
    await device.close();
  });

  afterEach(() => {
    device.reset();
  });

  it('probes identity anonymously and reports the certificate it saw', async () => {
    const found = await client.probe(device.baseUrl);
    expect(found.identity.id).toBe('fake-01');
    expect(found.fingerprint256).toBe(device.fingerprint256);
    expect(found.certificate.selfSigned).toBe(true);
    expect(found.certificate.subject).toContain('CN=fake-device');
    expect(device.requests.at(-1)).toEqual({
      line: 'GET /ws/v1/identity',
      authorization: undefined,
    });
  });

  it('reads status with the credential over a pinned, kept-alive connection', async () => {
    device.on('/ws/v1/status', (_req, res) =>
      json(res, 200, { ts: NOW, state: 'idle', name: 'Fake', firmwareVersion: '1.0.0', job: null }),
    );
    const first = await client.status(endpoint);
    await client.status(endpoint);
    expect(first.state).toBe('idle');
    const auth = `Basic ${Buffer.from('admin:s3cret-pass').toString('base64')}`;
    expect(device.requests.map((r) => r.authorization)).toEqual([auth, auth]);
  });

  it('refuses a device whose certificate is not the pinned one, before sending the credential', async () => {
    const other = await startFakeDevice();
    try {
      const err = await failure(
        client.status({
          ...endpoint,
          baseUrl: other.baseUrl,
          fingerprint256: device.fingerprint256,
        }),
      );
      expect(err.code).toBe('DEVICE_CERTIFICATE_MISMATCH');
      expect(err.details).toEqual({ presented: other.fingerprint256 });
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('times out a device that accepts and never answers, at TCP and at HTTP level', async () => {
    const held: Socket[] = [];
    const silent: TcpServer = createTcpServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const tcp = await failure(client.probe(`127.0.0.1:${port}`, { timeoutMs: 300 }));
      expect(tcp.code).toBe('DEVICE_TIMEOUT');
      const pinned = await failure(
        client.status({ ...endpoint, baseUrl: `https://127.0.0.1:${port}` }),
      );
      expect(pinned.code).toBe('DEVICE_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
    device.on('/ws/v1/alerts', () => undefined); // TLS done, HTTP request read, never answered
    expect((await failure(client.alerts(endpoint))).code).toBe('DEVICE_TIMEOUT');
  });

  it('reports a closed port as unreachable', async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await failure(client.probe(`127.0.0.1:${port}`));
    expect(err.code).toBe('DEVICE_UNREACHABLE');
    expect(err.message).toContain('connection refused');
  });

  it('refuses malformed JSON and answers of the wrong shape, saying where', async () => {
    device.on('/ws/v1/consumables', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ts": "2026-11-25T10:00:00Z", "consumables": [');
    });
    const malformed = await failure(client.consumables(endpoint));
    expect(malformed.code).toBe('DEVICE_BAD_RESPONSE');
    expect(malformed.message).toContain('malformed JSON');

    device.on('/ws/v1/consumables', (_req, res) =>
      json(res, 200, {
        ts: NOW,
        consumables: [{ slot: 'K', type: 'agent', level: 'full', status: 'ok' }],
      }),
    );
    const wrongType = await failure(client.consumables(endpoint));
    expect(wrongType.code).toBe('DEVICE_BAD_RESPONSE');
    expect(wrongType.message).toContain('/consumables/0/level');

    device.on('/ws/v1/status', (_req, res) =>
      json(res, 200, {
        ts: 'yesterday',
        state: 'exploded',
        name: 1,
        firmwareVersion: '1',
        job: null,
      }),
    );
    expect((await failure(client.status(endpoint))).code).toBe('DEVICE_BAD_RESPONSE');

    device.on('/ws/v1/status', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    expect((await failure(client.status(endpoint))).message).toContain('not JSON');
  });

  it('maps HTTP errors: 500, 401, and 409/404 on actions with the device reason', async () => {
    device.on('/ws/v1/alerts', (_req, res) =>
      json(res, 500, { error: { code: 'INTERNAL', message: 'sensor bus fault' } }),
    );
    const e500 = await failure(client.alerts(endpoint));
    expect(e500.code).toBe('DEVICE_BAD_RESPONSE');
    expect(e500.message).toContain('HTTP 500: sensor bus fault');

    device.on('/ws/v1/jobs', (_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="device"' });
      res.end();
    });
    expect((await failure(client.jobs(endpoint, null))).code).toBe('DEVICE_AUTH_FAILED');

    device.on('/ws/v1/jobs/j1/pause', (_req, res) =>
      json(res, 409, { error: { code: 'REJECTED', message: 'job is not printing' } }),
    );
    const rejected = await failure(client.jobAction(endpoint, 'j1', 'pause'));
    expect(rejected.code).toBe('DEVICE_REJECTED');
    expect(rejected.message).toBe('job is not printing');

    const unknown = await failure(client.jobAction(endpoint, 'nope', 'cancel'));
    expect(unknown.code).toBe('NOT_FOUND');

    device.on('/ws/v1/jobs/j1/resume', (_req, res) =>
      json(res, 200, { accepted: true, message: 'resumed', ts: NOW }),
    );
    expect(await client.jobAction(endpoint, 'j1', 'resume')).toEqual({
      accepted: true,
      message: 'resumed',
      ts: NOW,
    });
    expect(device.requests.at(-1)?.line).toBe('POST /ws/v1/jobs/j1/resume');
  });

  it('sends ids and since safely encoded', async () => {
    device.on('*', (_req, res) => json(res, 200, { ts: NOW, jobs: [] }));
    await client.jobs(endpoint, '2026-11-25T10:00:00.000+01:00', undefined);
    expect(device.requests.at(-1)?.line).toBe(
      'GET /ws/v1/jobs?since=2026-11-25T10%3A00%3A00.000%2B01%3A00',
    );
    device.on('*', (_req, res) => json(res, 200, { accepted: true, message: '', ts: NOW }));
    await client.acknowledgeAlert(endpoint, '../../x?y', undefined);
    expect(device.requests.at(-1)?.line).toBe('POST /ws/v1/alerts/..%2F..%2Fx%3Fy/acknowledge');
    device.on('*', (_req, res) => json(res, 404, { error: { code: 'NOT_FOUND', message: 'no' } }));
  });

  it('refuses redirects without following them', async () => {
    device.on('/ws/v1/status', (_req, res) => {
      res.writeHead(302, { location: 'https://evil.example/steal' });
      res.end();
    });
    const err = await failure(client.status(endpoint));
    expect(err.code).toBe('DEVICE_BAD_RESPONSE');
    expect(err.message).toContain('redirects are refused');
    expect(device.requests.filter((r) => r.line.includes('steal'))).toHaveLength(0);
  });

  it('refuses a 50 MB answer without holding it, announced or streamed', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const total = 50 * 1024 * 1024;
    let sentStreamed = 0;
    device.on('/ws/v1/firmware/status', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      const pump = () => {
        while (sentStreamed < total) {
          sentStreamed += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    const before = process.memoryUsage().rss;
    const streamed = await failure(client.firmwareStatus(endpoint));
    expect(streamed.code).toBe('DEVICE_BAD_RESPONSE');
    expect(streamed.message).toContain('over');
    expect(sentStreamed).toBeLessThan(total);

    device.on('/ws/v1/status', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': total });
      res.write(chunk);
    });
    const announced = await failure(client.status(endpoint));
    expect(announced.message).toContain('announced');
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
  });

  it('keeps working for a good device after all of that', async () => {
    device.on('*', (req, res) =>
      req.url?.startsWith('/ws/v1/status')
        ? json(res, 200, {
            ts: NOW,
            state: 'printing',
            name: 'Fake',
            firmwareVersion: '1',
            job: null,
          })
        : json(res, 404, { error: { code: 'NOT_FOUND', message: 'no' } }),
    );
    device.on('/ws/v1/status', (_req, res) =>
      json(res, 200, { ts: NOW, state: 'printing', name: 'Fake', firmwareVersion: '1', job: null }),
    );
    expect((await client.status(endpoint)).state).toBe('printing');
  });

  it('forget closes the pool; a new pin takes effect', async () => {
    device.on('/ws/v1/status', (_req, res) =>
      json(res, 200, { ts: NOW, state: 'printing', name: 'Fake', firmwareVersion: '1', job: null }),
    );
    await client.forget(device.baseUrl);
    const err = await failure(client.status({ ...endpoint, fingerprint256: 'AA:BB' }));
    expect(err.code).toBe('DEVICE_CERTIFICATE_MISMATCH');
    expect((await client.status(endpoint)).state).toBe('printing');
  });
});
