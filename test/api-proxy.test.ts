// The API Proxy end to end: the whole server in-process, simulated devices serving their Web
// Services over real TLS on loopback addresses of this file's own, and a hostile device scripted per
// path. Proxy-scoped tokens reach their devices with the server's credential; everything else — no
// token, a cookie, a token without proxy scope, a device, method or path outside the scope, path
// tricks, an absolute URI, CONNECT, a forged Host, an unregistered, unapproved or changed device —
// is refused with a clear code; limits, deadlines and the rate limit hold; every call is audited;
// and curl, an independent client, sees the same.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { json, startFakeDevice, type FakeDeviceServer } from '../src/devices/fake-device-server.js';
import { silentLogger } from '../src/observability/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE_PASSWORD = 'proxy-device-pass-42';
const HOSTILE_PASSWORD = 'hostile-device-pass';
const MB = 1024 * 1024;
const TIMEOUT_MS = 1500;
const MAX_BODY = 4096;
const MAX_RESPONSE = 64 * 1024;
const RATE = 120;
/** A loopback block of this file's own, so parallel test files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;
const run = promisify(execFile);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

function errorCode(reply: Reply): string | undefined {
  return (reply.json as { error?: { code?: string } } | undefined)?.error?.code;
}

function expectRefused(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.json).toEqual({ error: { code, message: expect.any(String) as string } });
  expect(reply.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts:\d+/);
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

describe('API Proxy', () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let api: ApiClient;
  let ca: string;
  let agent: Agent;
  let fleet: Simulator;
  let mqttFleet: Simulator;
  let hostile: FakeDeviceServer;
  let pending: FakeDeviceServer;
  /** Proxy scope on px-01 and hostile-01: GET and POST, status, jobs and the hostile paths. */
  let token: string;
  const tokens: Record<string, string> = {};
  const seen: IncomingHttpHeaders[] = [];
  const hanging: ServerResponse[] = [];
  const streamed = { announced: 0, chunked: 0 };

  const base = () => `https://127.0.0.1:${started.ports.apiProxy}`;

  async function call(
    method: string,
    path: string,
    options: { token?: string | null; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const bearer = options.token === undefined ? token : options.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const res = await request(`${base()}${path}`, {
      method: method as 'GET',
      headers,
      body: options.body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json: parsed };
  }

  /** Sends bytes exactly as given (for what HTTP libraries refuse or normalise away). */
  function raw(text: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: started.ports.apiProxy!, ca }, () => {
        socket.write(text);
      });
      let out = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
      socket.on('error', reject);
      socket.on('close', () => {
        const textOut = out.toString('utf8');
        const split = textOut.indexOf('\r\n\r\n');
        const head = split < 0 ? textOut : textOut.slice(0, split);
        const body = split < 0 ? '' : textOut.slice(split + 4);
        const [statusLine = '', ...lines] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          if (colon > 0)
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        resolve({
          status: Number(statusLine.split(' ')[1] ?? 0),
          headers,
          text: body,
          json: parsed,
        });
      });
    });
  }

  const rawGet = (path: string, extra = '') =>
    raw(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n${extra}Connection: close\r\n\r\n`,
    );

  async function createToken(body: Record<string, unknown>): Promise<string> {
    const res = await api.post('/api/v1/tokens', body);
    expect(res.status, res.text).toBe(201);
    return (res.body as { token: string }).token;
  }

  async function audit(query: string): Promise<
    {
      actor: string;
      target: string;
      outcome: string;
      source: string | null;
      details: Record<string, unknown>;
    }[]
  > {
    const res = await api.get(`/api/v1/audit?action=proxy.call&limit=500${query}`);
    expect(res.status, res.text).toBe(200);
    return (res.body as { items: never[] }).items;
  }

  beforeAll(async () => {
    data = await makeTempDir();
    const config = testConfig(data.dir, {
      CC_DEVICES__POLL_ACTIVE_MS: '60000',
      CC_DEVICES__POLL_IDLE_MS: '60000',
      CC_API_PROXY__TIMEOUT_MS: String(TIMEOUT_MS),
      CC_API_PROXY__MAX_BODY_BYTES: String(MAX_BODY),
      CC_API_PROXY__MAX_RESPONSE_BYTES: String(MAX_RESPONSE),
      CC_API_PROXY__RATE_PER_MINUTE: String(RATE),
      CC_API_PROXY__CONCURRENCY_PER_DEVICE: '2',
    });
    app = createApp(config, silentLogger());
    started = await app.start();
    ca = await readFile(started.certificate.certPath, 'utf8');
    agent = new Agent({ connect: { ca } });

    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    const mqttToken = await issueDeviceToken(store.deviceCredentials, 'mq-01');
    await store.close();

    fleet = createSimulator({
      devices: [
        { id: 'px-01', token: '', kind: 'printer' },
        { id: 'px-02', token: '', kind: 'printer' },
      ],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: DEVICE_PASSWORD },
      logger: silentLogger(),
      speed: 300,
      seed: 7,
    });
    mqttFleet = createSimulator({
      devices: [{ id: 'mq-01', token: mqttToken, kind: 'printer' }],
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      logger: silentLogger(),
      telemetryIntervalMs: 200,
    });
    await fleet.start();
    await mqttFleet.start();

    hostile = await startFakeDevice({
      identity: {
        id: 'hostile-01',
        kind: 'printer',
        model: 'Fusion P5',
        serial: 'SN-H',
        name: 'Hostile',
        firmwareVersion: '1.0.0',
        apiVersion: 1,
      },
    });
    hostile.on('/ws/v1/echo', (req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'close, x-device-secret',
          'x-device-secret': 'do-not-pass',
          'keep-alive': 'timeout=5',
          'proxy-authenticate': 'Basic realm="x"',
          'set-cookie': 'device=1',
          'www-authenticate': 'Basic realm="device"',
          server: 'device-firmware/1.0',
          etag: '"v1"',
        });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    hostile.on('/ws/v1/slow', (_req, res) => {
      hanging.push(res); // never answers
    });
    const flood = (announce: boolean) => (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(announce ? { 'content-length': String(50 * MB) } : {}),
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const key = announce ? 'announced' : 'chunked';
      const write = (): void => {
        while (streamed[key] < 50 * MB && !res.destroyed) {
          streamed[key] += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => undefined);
      write();
    };
    hostile.on('/ws/v1/huge', flood(true));
    hostile.on('/ws/v1/huge-chunked', flood(false));
    hostile.on('/ws/v1/redirect', (_req, res) => {
      res.writeHead(302, { location: 'https://evil.example/steal' });
      res.end();
    });
    hostile.on('/ws/v1/denied', (_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="device"' });
      res.end();
    });
    hostile.on('/ws/v1/upload', (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => json(res, 200, { received: n }));
    });
    pending = await startFakeDevice({
      identity: {
        id: 'pending-01',
        kind: 'printer',
        model: 'Fusion P5',
        serial: 'SN-P',
        name: 'Pending',
        firmwareVersion: '1.0.0',
        apiVersion: 1,
      },
    });

    api = await ApiClient.trusting(
      `https://127.0.0.1:${started.ports.https}`,
      started.certificate.certPath,
    );
    const setupToken = new URL(started.setupUrl!).hash.replace('#token=', '');
    await api.post('/api/v1/setup', { token: setupToken, username: 'admin', password: PASSWORD });
    expect(
      (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
    ).toBe(200);
    for (const id of ['hall-a', 'hall-b']) {
      const site = await api.post('/api/v1/sites', {
        id,
        name: `Hall ${id.slice(-1).toUpperCase()}`,
      });
      expect(site.status, site.text).toBe(201);
    }
    for (const [i, d] of fleet.devices().entries()) {
      const added = await api.post('/api/v1/devices', {
        url: d.webServicesUrl,
        username: 'admin',
        password: DEVICE_PASSWORD,
        fingerprint: d.certificateFingerprint,
        siteId: i === 0 ? 'hall-a' : 'hall-b',
      });
      expect(added.status, added.text).toBe(201);
    }
    const addedHostile = await api.post('/api/v1/devices', {
      url: hostile.baseUrl,
      username: 'admin',
      password: HOSTILE_PASSWORD,
      fingerprint: hostile.fingerprint256,
      siteId: 'hall-a',
    });
    expect(addedHostile.status, addedHostile.text).toBe(201);
    const addedPending = await api.post('/api/v1/devices', {
      url: pending.baseUrl,
      username: 'admin',
      password: HOSTILE_PASSWORD,
    });
    expect(addedPending.status, addedPending.text).toBe(201);

    token = await createToken({
      name: 'mes-integration',
      proxy: {
        devices: ['px-01', 'hostile-01'],
        methods: ['GET', 'POST'],
        paths: [
          '/ws/v1/status',
          '/ws/v1/jobs',
          '/ws/v1/consumables',
          '/ws/v1/echo',
          '/ws/v1/slow',
          '/ws/v1/huge',
          '/ws/v1/huge-chunked',
          '/ws/v1/redirect',
          '/ws/v1/upload',
          '/ws/v1/denied',
        ],
      },
    });
    tokens.noProxy = await createToken({ name: 'grafana' });
    tokens.everyDevice = await createToken({
      name: 'every-device',
      proxy: { devices: null, methods: ['GET'], paths: ['/ws/v1/'] },
    });
    tokens.hallB = await createToken({
      name: 'hall-b-only',
      sites: ['hall-b'],
      proxy: { devices: null, methods: ['GET'], paths: ['/ws/v1/status'] },
    });
    tokens.reader = await createToken({
      name: 'dashboard-reader',
      proxy: {
        devices: ['px-01'],
        methods: ['GET'],
        paths: ['/ws/v1/consumables', '/ws/v1/status'],
      },
    });
    tokens.rate = await createToken({
      name: 'hot-loop',
      proxy: { devices: ['px-01'], methods: ['GET'], paths: ['/ws/v1/status'] },
    });
  }, 60_000);

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await fleet.stop();
    await mqttFleet.stop();
    await hostile.close();
    await pending.close();
    await agent.close();
    await api.close();
    await app.stop();
    await data.cleanup();
  });

  it('listens on the API Proxy range and says so', () => {
    expect(started.ports.apiProxy).toBeDefined();
    expect(started.urls.apiProxy).toBe(`https://127.0.0.1:${started.ports.apiProxy}`);
    expect(new Set(Object.values(started.ports)).size).toBe(Object.values(started.ports).length);
  });

  it('forwards GET /ws/v1/status of a device in scope, with safe headers', async () => {
    const res = await call('GET', '/devices/px-01/ws/v1/status');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      state: expect.any(String) as string,
      name: expect.any(String) as string,
    });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.via).toBe('1.1 command-center-proxy');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['strict-transport-security']).toBeDefined();
    const withQuery = await call('GET', '/devices/px-01/ws/v1/jobs?since=2000-01-01T00:00:00Z');
    expect(withQuery.status, withQuery.text).toBe(200);
    expect(withQuery.json).toMatchObject({ jobs: expect.any(Array) as unknown[] });
    // The device's own refusal of a bad query comes back as the device said it.
    const badQuery = await call('GET', '/devices/px-01/ws/v1/jobs?since=yesterday');
    expect(badQuery.status).toBe(400);
    expect(errorCode(badQuery)).toBe('BAD_REQUEST');
  });

  it('pauses a job through a POST in scope', async () => {
    const printing = await until('px-01 printing', async () => {
      const res = await call('GET', '/devices/px-01/ws/v1/status', { token: tokens.everyDevice });
      const status = res.json as { job: { id: string; state: string } | null };
      return status.job?.state === 'printing' ? status.job : undefined;
    });
    const paused = await call(
      'POST',
      `/devices/px-01/ws/v1/jobs/${encodeURIComponent(printing.id)}/pause`,
    );
    expect(paused.status, paused.text).toBe(200);
    expect(paused.json).toMatchObject({ accepted: true, message: 'paused' });
    const again = await call(
      'POST',
      `/devices/px-01/ws/v1/jobs/${encodeURIComponent(printing.id)}/pause`,
    );
    expect(again.status).toBe(409);
    expect(errorCode(again)).toBe('REJECTED');
  }, 40_000);

  it("gives the device the server's credential, never the token, cookies or hop-by-hop headers", async () => {
    seen.length = 0;
    const res = await raw(
      [
        'POST /devices/hostile-01/ws/v1/echo HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${token}`,
        'Cookie: cc_session=stolen',
        'Proxy-Authorization: Basic Zm9vOmJhcg==',
        'Connection: close, X-Hop, Accept-Language',
        'X-Hop: must-not-pass',
        'Accept-Language: de',
        'Keep-Alive: timeout=99',
        'TE: trailers',
        'Upgrade: websocket',
        'X-Forwarded-For: 10.9.8.7',
        'X-Forwarded-Host: evil.example',
        'Forwarded: for=10.9.8.7;host=evil.example',
        'Accept: application/json',
        'If-None-Match: "v0"',
        'Content-Type: application/json',
        'Content-Length: 11',
        '',
        '{"a":"b12"}',
      ].join('\r\n'),
    );
    expect(res.status, res.text).toBe(200);
    expect(seen).toHaveLength(1);
    const got = seen[0]!;
    const expected = `Basic ${Buffer.from(`admin:${HOSTILE_PASSWORD}`).toString('base64')}`;
    expect(got.authorization).toBe(expected);
    expect(JSON.stringify(got)).not.toContain(token);
    for (const name of [
      'cookie',
      'proxy-authorization',
      'x-hop',
      'accept-language',
      'keep-alive',
      'te',
      'upgrade',
      'x-forwarded-for',
      'x-forwarded-host',
      'forwarded',
    ]) {
      expect(got[name], name).toBeUndefined();
    }
    expect(got.host).toBe(new URL(hostile.baseUrl).host);
    expect(got.accept).toBe('application/json');
    expect(got['if-none-match']).toBe('"v0"');
    expect(got['content-length']).toBe('11');
    expect(got.via).toBe('1.1 command-center-proxy');
    expect(got['x-request-id']).toBe(res.headers['x-request-id']);
    // And back: only safe headers of the device's answer.
    expect(res.headers.etag).toBe('"v1"');
    for (const name of [
      'x-device-secret',
      'keep-alive',
      'proxy-authenticate',
      'set-cookie',
      'www-authenticate',
      'server',
    ]) {
      expect(res.headers[name], name).toBeUndefined();
    }
    expect(res.json).toEqual({ ok: true });
  });

  describe('refuses', () => {
    it('a call without a token, with a session cookie or with a bad token: 401', async () => {
      const none = await call('GET', '/devices/px-01/ws/v1/status', { token: null });
      expectRefused(none, 401, 'UNAUTHENTICATED');
      expect(none.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      const cookie = await call('GET', '/devices/px-01/ws/v1/status', {
        token: null,
        headers: { cookie: api.sessionCookie! },
      });
      expectRefused(cookie, 401, 'UNAUTHENTICATED');
      const bad = await call('GET', '/devices/px-01/ws/v1/status', {
        token: 'cc_0000000000000000_nope',
      });
      expectRefused(bad, 401, 'UNAUTHENTICATED');
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      const basic = await call('GET', '/devices/px-01/ws/v1/status', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from('admin:' + PASSWORD).toString('base64')}` },
      });
      expectRefused(basic, 401, 'UNAUTHENTICATED');
    });

    it('a token without proxy scope: 403 PROXY_SCOPE_REQUIRED', async () => {
      expectRefused(
        await call('GET', '/devices/px-01/ws/v1/status', { token: tokens.noProxy }),
        403,
        'PROXY_SCOPE_REQUIRED',
      );
    });

    it('a device outside the scope, a method outside it, a path outside it: 403', async () => {
      expectRefused(
        await call('GET', '/devices/px-02/ws/v1/status'),
        403,
        'PROXY_DEVICE_FORBIDDEN',
      );
      expectRefused(
        await call('DELETE', '/devices/px-01/ws/v1/status'),
        403,
        'PROXY_METHOD_FORBIDDEN',
      );
      expectRefused(
        await call('PUT', '/devices/px-01/ws/v1/status', { body: '{}' }),
        403,
        'PROXY_METHOD_FORBIDDEN',
      );
      expectRefused(
        await call('POST', '/devices/px-01/ws/v1/status', { token: tokens.everyDevice }),
        403,
        'PROXY_METHOD_FORBIDDEN',
      );
      for (const path of [
        '/ws/v1/alerts',
        '/ws/v1/statusx',
        '/ws/v1/stat',
        '/ws/v1/firmware/status',
        '/ws/v1/identity',
      ]) {
        expectRefused(await call('GET', `/devices/px-01${path}`), 403, 'PROXY_PATH_FORBIDDEN');
      }
      // A path tucked under an allowed one is still the device's path, not a way out.
      expectRefused(
        await call('GET', '/devices/px-01/ws/v1/st%61tusx'),
        403,
        'PROXY_PATH_FORBIDDEN',
      );
    });

    it('methods the proxy never forwards: 405 with Allow', async () => {
      const options = await call('OPTIONS', '/devices/px-01/ws/v1/status');
      expectRefused(options, 405, 'METHOD_NOT_ALLOWED');
      expect(options.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
      const trace = await raw(
        `TRACE /devices/px-01/ws/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expectRefused(trace, 405, 'METHOD_NOT_ALLOWED');
    });

    it.each([
      ['dot-dot', '/devices/px-01/ws/v1/status/../alerts'],
      ['dot-dot out of the device', '/devices/px-01/ws/v1/../../px-02/ws/v1/status'],
      ['dot', '/devices/px-01/ws/v1/./alerts'],
      ['encoded dot-dot', '/devices/px-01/ws/v1/status/%2e%2e/alerts'],
      ['upper-case encoded dot-dot', '/devices/px-01/ws/v1/status/%2E%2E/alerts'],
      ['encoded slash', '/devices/px-01/ws/v1/status%2F..%2Falerts'],
      ['encoded backslash', '/devices/px-01/ws/v1/status%5C..%5Calerts'],
      ['backslash', '/devices/px-01/ws/v1/status\\..\\alerts'],
      ['double slash', '/devices/px-01/ws/v1//status'],
      ['leading double slash', '//devices/px-01/ws/v1/status'],
      ['encoded NUL', '/devices/px-01/ws/v1/status%00'],
      ['double encoding', '/devices/px-01/ws/v1/status/%252e%252e/alerts'],
      ['overlong UTF-8 dot', '/devices/px-01/ws/v1/status/%C0%AE%C0%AE/alerts'],
      ['absolute form to another host', 'http://evil.example/devices/px-01/ws/v1/status'],
      ['absolute form to the device', `https://${BLOCK}.11:443/ws/v1/status`],
      ['asterisk form', '*'],
    ])('path tricks (%s): 400 PROXY_BAD_TARGET', async (_name, target) => {
      expectRefused(await rawGet(target), 400, 'PROXY_BAD_TARGET');
    });

    it('CONNECT: 400, no tunnel', async () => {
      const res = await raw(
        `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      expectRefused(res, 400, 'PROXY_BAD_TARGET');
      const toDevice = await raw(
        `CONNECT ${BLOCK}.11:443 HTTP/1.1\r\nHost: ${BLOCK}.11:443\r\n\r\n`,
      );
      expectRefused(toDevice, 400, 'PROXY_BAD_TARGET');
    });

    it('a forged Host: 421, and the destination never comes from the request', async () => {
      seen.length = 0;
      const forged = await raw(
        `GET /devices/hostile-01/ws/v1/echo HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expectRefused(forged, 421, 'PROXY_MISDIRECTED');
      const device = await raw(
        `GET /devices/hostile-01/ws/v1/echo HTTP/1.1\r\nHost: ${BLOCK}.11\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expectRefused(device, 421, 'PROXY_MISDIRECTED');
      expect(seen).toHaveLength(0);
      // Forwarding headers naming another host change nothing: the registry's address is used.
      const res = await call('GET', '/devices/hostile-01/ws/v1/echo', {
        headers: { 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example' },
      });
      expect(res.status, res.text).toBe(200);
      expect(seen[0]?.host).toBe(new URL(hostile.baseUrl).host);
    });

    it('other routes: 404 JSON', async () => {
      expectRefused(await call('GET', '/'), 404, 'ROUTE_NOT_FOUND');
      expectRefused(await call('GET', '/api/v1/devices'), 404, 'ROUTE_NOT_FOUND');
      expectRefused(await call('GET', '/devices/px-01/ws/v2/status'), 404, 'ROUTE_NOT_FOUND');
    });

    it('an unregistered device, a device outside the sites, an MQTT-only or unapproved device', async () => {
      const t = tokens.everyDevice;
      const unknown = await call('GET', '/devices/nobody-99/ws/v1/status', { token: t });
      expectRefused(unknown, 404, 'DEVICE_NOT_FOUND');
      // hall-a's device looks exactly like one that does not exist to a hall-b token.
      const outside = await call('GET', '/devices/px-01/ws/v1/status', { token: tokens.hallB });
      expectRefused(outside, 404, 'DEVICE_NOT_FOUND');
      expect((outside.json as { error: { message: string } }).error.message).toBe(
        (
          (await call('GET', '/devices/nobody-98/ws/v1/status', { token: tokens.hallB })).json as {
            error: { message: string };
          }
        ).error.message.replace('nobody-98', 'px-01'),
      );
      expect(
        (await call('GET', '/devices/px-02/ws/v1/status', { token: tokens.hallB })).status,
      ).toBe(200);
      await until('mq-01 known over MQTT', async () =>
        (await api.get('/api/v1/devices/mq-01')).status === 200 ? true : undefined,
      );
      expectRefused(
        await call('GET', '/devices/mq-01/ws/v1/status', { token: t }),
        409,
        'DEVICE_NO_WEB_SERVICES',
      );
      expectRefused(
        await call('GET', '/devices/pending-01/ws/v1/status', { token: t }),
        409,
        'DEVICE_NOT_APPROVED',
      );
      expect(pending.requests.filter((r) => r.authorization !== undefined)).toHaveLength(0);
    });
  });

  describe('limits', () => {
    it('a device that never answers: 504 in bounded time; more calls than its cap: 503', async () => {
      const t0 = Date.now();
      const replies = await Promise.all([
        call('GET', '/devices/hostile-01/ws/v1/slow'),
        call('GET', '/devices/hostile-01/ws/v1/slow'),
        // The third finds both of the device's slots taken (apiProxy.concurrencyPerDevice = 2).
        new Promise((r) => setTimeout(r, 200)).then(() =>
          call('GET', '/devices/hostile-01/ws/v1/slow'),
        ),
      ]);
      const elapsed = Date.now() - t0;
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([503, 504, 504]);
      for (const r of replies) {
        if (r.status === 504) expectRefused(r, 504, 'DEVICE_TIMEOUT');
        else {
          expectRefused(r, 503, 'PROXY_DEVICE_BUSY');
          expect(r.headers['retry-after']).toBe('1');
        }
      }
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
    });

    it('a device sending 50 MB: 502 without reading it, announced or chunked', async () => {
      const heapBefore = process.memoryUsage().arrayBuffers;
      const announced = await call('GET', '/devices/hostile-01/ws/v1/huge');
      expectRefused(announced, 502, 'DEVICE_RESPONSE_TOO_LARGE');
      const chunked = await call('GET', '/devices/hostile-01/ws/v1/huge-chunked');
      expectRefused(chunked, 502, 'DEVICE_RESPONSE_TOO_LARGE');
      // The proxy stopped reading: the device could only fill socket buffers, far from 50 MB.
      expect(streamed.announced).toBeLessThan(16 * MB);
      expect(streamed.chunked).toBeLessThan(16 * MB);
      expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * MB);
    });

    it('a device redirect: 502, not followed', async () => {
      const res = await call('GET', '/devices/hostile-01/ws/v1/redirect');
      expectRefused(res, 502, 'DEVICE_BAD_RESPONSE');
      expect(res.headers.location).toBeUndefined();
    });

    it("a device refusing the server's credential: 502, its challenge not passed on", async () => {
      const res = await call('GET', '/devices/hostile-01/ws/v1/denied');
      expectRefused(res, 502, 'DEVICE_AUTH_FAILED');
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('request bodies: forwarded within the limit, 413 beyond it (announced or chunked)', async () => {
      const ok = await call('POST', '/devices/hostile-01/ws/v1/upload', {
        body: 'x'.repeat(MAX_BODY),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.json).toEqual({ received: MAX_BODY });
      const before = hostile.requests.length;
      const big = await call('POST', '/devices/hostile-01/ws/v1/upload', {
        body: 'x'.repeat(MAX_BODY + 1),
      });
      expectRefused(big, 413, 'PAYLOAD_TOO_LARGE');
      expect(hostile.requests.length).toBe(before);
      const chunk = 'y'.repeat(1000);
      const chunked = await raw(
        [
          'POST /devices/hostile-01/ws/v1/upload HTTP/1.1',
          'Host: localhost',
          `Authorization: Bearer ${token}`,
          'Transfer-Encoding: chunked',
          'Connection: close',
          '',
          ...Array.from({ length: 6 }, () => `${(1000).toString(16)}\r\n${chunk}`),
          '0',
          '',
          '',
        ].join('\r\n'),
      );
      expectRefused(chunked, 413, 'PAYLOAD_TOO_LARGE');
      expectRefused(
        await call('GET', '/devices/hostile-01/ws/v1/upload', { body: 'x' }),
        400,
        'BAD_REQUEST',
      );
    });

    it('a token calling too often: 429 with Retry-After', async () => {
      const answers: number[] = [];
      const t0 = Date.now();
      while (answers.length < 3 * RATE && !answers.includes(429)) {
        // Refused calls count too: a token cannot probe the scope at full speed either.
        const res = await call('GET', '/devices/px-01/ws/v1/alerts', { token: tokens.rate });
        answers.push(res.status);
        if (res.status === 429) {
          expectRefused(res, 429, 'RATE_LIMITED');
          expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        }
      }
      const refilled = Math.ceil(((Date.now() - t0) / 60_000) * RATE) + 1;
      expect(answers.at(-1)).toBe(429);
      // A burst of RATE, plus what refilled meanwhile, and not one call more.
      expect(answers.length - 1).toBeGreaterThanOrEqual(RATE);
      expect(answers.length - 1).toBeLessThanOrEqual(RATE + refilled);
      expect(answers.slice(0, -1).every((s) => s === 403)).toBe(true);
      // Other tokens are not affected.
      expect((await call('GET', '/devices/px-01/ws/v1/status')).status).toBe(200);
    });
  });

  it('refuses a device whose certificate changed', async () => {
    const px2 = fleet.devices().find((d) => d.id === 'px-02')!;
    expect(
      (await call('GET', '/devices/px-02/ws/v1/status', { token: tokens.everyDevice })).status,
    ).toBe(200);
    await px2.rotateCertificate();
    const first = await call('GET', '/devices/px-02/ws/v1/status', { token: tokens.everyDevice });
    expect([502, 409]).toContain(first.status);
    expect(['DEVICE_CERTIFICATE_MISMATCH', 'DEVICE_NOT_APPROVED']).toContain(errorCode(first));
    // The proxy's observation stops trust like the poller's: the device waits for re-approval.
    const reg = await until('mismatch recorded', async () => {
      const r = (await api.get('/api/v1/devices/px-02/registration')).body as { pinState: string };
      return r.pinState === 'mismatch' ? r : undefined;
    });
    expect(reg.pinState).toBe('mismatch');
    expectRefused(
      await call('GET', '/devices/px-02/ws/v1/status', { token: tokens.everyDevice }),
      409,
      'DEVICE_NOT_APPROVED',
    );
  });

  it('audits every call, folding identical reads', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await call('GET', '/devices/px-01/ws/v1/consumables', { token: tokens.reader });
      expect(res.status, res.text).toBe(200);
    }
    const reads = await audit('&target=px-01');
    const consumables = reads.filter((e) => e.details.path === '/ws/v1/consumables');
    expect(consumables).toHaveLength(1); // the rest are counted in the window's summary
    expect(consumables[0]).toMatchObject({
      actor: 'admin (token)',
      outcome: 'ok',
      source: '127.0.0.1',
      details: { method: 'GET', status: 200 },
    });
    expect(consumables[0]!.details.bytes).toEqual(expect.any(Number));
    expect(consumables[0]!.details.ms).toEqual(expect.any(Number));
    const pauses = reads.filter((e) => e.details.method === 'POST');
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    expect(pauses.every((e) => e.actor === 'admin (token)')).toBe(true);
    const refused = reads.filter((e) => e.outcome === 'refused');
    expect(refused.map((e) => e.details.code)).toEqual(
      expect.arrayContaining(['PROXY_PATH_FORBIDDEN', 'PROXY_METHOD_FORBIDDEN', 'RATE_LIMITED']),
    );
    const hostileCalls = await audit('&target=hostile-01');
    expect(
      hostileCalls.some((e) => e.outcome === 'failed' && e.details.code === 'DEVICE_TIMEOUT'),
    ).toBe(true);
    expect(
      hostileCalls.some(
        (e) => e.outcome === 'failed' && e.details.code === 'DEVICE_RESPONSE_TOO_LARGE',
      ),
    ).toBe(true);
    const all = await audit('');
    expect(all.some((e) => e.actor === 'anonymous' && e.details.code === 'UNAUTHENTICATED')).toBe(
      true,
    );
    // Refused before authentication (path tricks, CONNECT): anonymous, folded per source and code.
    expect(all.some((e) => e.actor === 'anonymous' && e.details.code === 'PROXY_BAD_TARGET')).toBe(
      true,
    );
    const metrics = await app.metrics.metrics();
    expect(metrics).toMatch(/cc_proxy_requests_total\{outcome="ok"\} \d+/);
    expect(metrics).toMatch(/cc_proxy_requests_total\{outcome="refused"\} \d+/);
    expect(metrics).toMatch(/cc_proxy_request_duration_seconds_bucket/);
  });

  it('works with curl, and curl cannot use it as a forward proxy or tunnel', async () => {
    const certPath = started.certificate.certPath;
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      certPath,
      '-H',
      `Authorization: Bearer ${tokens.reader}`,
      '-w',
      '\n%{http_code}',
      `${base()}/devices/px-01/ws/v1/status`,
    ]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(body!)).toMatchObject({ state: expect.any(String) as string });

    const traversal = await run('curl', [
      '-sS',
      '--path-as-is',
      '--cacert',
      certPath,
      '-H',
      `Authorization: Bearer ${token}`,
      '-w',
      '\n%{http_code}',
      `${base()}/devices/px-01/ws/v1/status/../alerts`,
    ]);
    expect(traversal.stdout.split('\n')[1]).toBe('400');

    const forward = await run('curl', [
      '-sS',
      '-x',
      base(),
      '--proxy-cacert',
      certPath,
      '--proxy-header',
      `Authorization: Bearer ${token}`,
      '-w',
      '\n%{http_code}',
      'http://example.invalid/devices/px-01/ws/v1/status',
    ]);
    expect(forward.stdout.split('\n')[1]).toBe('400');

    const tunnel = await run('curl', [
      '-sS',
      '-p',
      '-x',
      base(),
      '--proxy-cacert',
      certPath,
      '-w',
      '%{http_connect}',
      'https://example.invalid/',
    ]).then(
      (r) => r.stdout,
      (err: unknown) => (err as { stdout?: string }).stdout ?? '',
    );
    expect(tunnel).toContain('400');
  });

  // Last: it leaves this test's address briefly blocked.
  it('slows down an address that keeps failing to authenticate', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      const res = await call('GET', '/devices/px-01/ws/v1/status', {
        token: `cc_${'0'.repeat(16)}_${'x'.repeat(43)}`,
      });
      statuses.push(res.status);
      if (res.status === 429) expectRefused(res, 429, 'RATE_LIMITED');
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    // While blocked, even a good token from that address waits.
    expect(
      (await call('GET', '/devices/px-01/ws/v1/status', { token: tokens.reader })).status,
    ).toBe(429);
  });
});

describe('API Proxy disabled', () => {
  it('does not listen when apiProxy.enabled is false', async () => {
    const data = await makeTempDir();
    const app = createApp(testConfig(data.dir, { CC_API_PROXY__ENABLED: 'false' }), silentLogger());
    try {
      const started = await app.start();
      expect(started.ports.apiProxy).toBeUndefined();
      expect(started.urls.apiProxy).toBeUndefined();
    } finally {
      await app.stop();
      await data.cleanup();
    }
  });
});
