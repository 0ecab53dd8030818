// GET /metrics of the whole server, after real traffic (HTTPS API, WebSocket, a device over MQTT),
// read by Prometheus's own parser and linter (`promtool check metrics`), and holding the families
// an administrator alerts on with sensible values.

import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { silentLogger } from '../src/observability/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { makeTempDir, testConfig } from './fixtures/test-config.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE = 'printer-metrics-01';
const PROMTOOL = 'promtool';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function promtoolInstalled(): boolean {
  const probe = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/** Runs `promtool check metrics` with the exposition on standard input. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

const SAMPLE_LINE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function samplesOf(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A request line Node's HTTP parser refuses before Fastify sees it; resolves with the answer. */
function sendMalformedRequest(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.write('NOT A REQUEST LINE\r\n\r\n');
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
  });
}

/** Opens the live stream, waits for its first message, closes it. */
async function openStream(url: string, ca: string, headers: Record<string, string>): Promise<void> {
  const ws = new WebSocket(url, { ca, headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close();
  await closed;
}

/** Attempts the live stream without credentials; resolves with the refusal's status. */
function refusedStream(url: string, ca: string): Promise<number> {
  const ws = new WebSocket(url, { ca });
  return new Promise((resolve, reject) => {
    // terminate() ends the handshake with an error event, after the promise is settled.
    ws.on('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('open', () => reject(new Error('the stream accepted a client without credentials')));
  });
}

describe('Prometheus exposition of /metrics', () => {
  /** What beforeAll opened, closed in reverse order whatever happened. */
  const cleanups: (() => Promise<unknown>)[] = [];
  let text: string;
  let samples: Sample[];

  const find = (name: string, labels: Record<string, string> = {}): Sample[] =>
    samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  const valueOf = (name: string, labels: Record<string, string> = {}): number | undefined =>
    find(name, labels)[0]?.value;

  beforeAll(async () => {
    const data = await makeTempDir();
    cleanups.push(() => data.cleanup());
    const app = createApp(testConfig(data.dir), silentLogger());
    cleanups.push(() => app.stop());
    const started = await app.start();
    const base = `https://127.0.0.1:${started.ports.https}`;
    const ca = await readFile(started.certificate.certPath, 'utf8');
    const api = await ApiClient.trusting(base, started.certificate.certPath);
    cleanups.push(() => api.close());
    const anonymous = await ApiClient.trusting(base, started.certificate.certPath);
    cleanups.push(() => anonymous.close());

    // 401 before any account exists, then the first admin and a session.
    expect((await anonymous.get('/api/v1/devices')).status).toBe(401);
    const setupToken = new URL(started.setupUrl!).hash.replace('#token=', '');
    const setup = await api.post('/api/v1/setup', {
      token: setupToken,
      username: 'admin',
      password: PASSWORD,
    });
    expect(setup.status, setup.text).toBe(201);
    // 400: the body misses the password.
    expect((await anonymous.post('/api/v1/auth/login', { username: 'admin' })).status).toBe(400);
    const login = await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
    expect(login.status, login.text).toBe(200);

    // A device connects over MQTT and reports its state; QoS 1 is acknowledged once committed.
    const issued = await api.post(`/api/v1/devices/${DEVICE}/mqtt-token`);
    expect(issued.status, issued.text).toBe(201);
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.ports.mqtt}`, {
      clientId: DEVICE,
      username: DEVICE,
      password: (issued.body as { token: string }).token,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    cleanups.push(() => device.endAsync());
    await device.publishAsync(
      `cc/v1/devices/${DEVICE}/state`,
      JSON.stringify({
        ts: new Date().toISOString(),
        kind: 'printer',
        model: 'Jet Fusion 5200',
        serial: 'SN-METRICS-01',
        name: 'Metrics printer',
        firmwareVersion: '1.2.3',
        state: 'printing',
      }),
      { qos: 1 },
    );

    // Successes, each on its route pattern.
    expect((await api.get('/api/v1/devices')).status).toBe(200);
    expect((await api.get(`/api/v1/devices/${DEVICE}`)).status).toBe(200);
    // 404 from a route (DEVICE_NOT_FOUND) and from no route at all (ROUTE_NOT_FOUND).
    expect((await api.get('/api/v1/devices/no-such-device')).status).toBe(404);
    expect((await api.get('/api/v1/no-such-route/12345')).status).toBe(404);
    // Refused by Node's HTTP parser, answered before any route runs.
    expect(await sendMalformedRequest(started.ports.https, ca)).toMatch(/^HTTP\/1\.1 400 /);
    // An accepted live-stream session, and an upgrade refused for want of credentials.
    const streamUrl = `wss://127.0.0.1:${started.ports.https}/api/v1/stream`;
    await openStream(streamUrl, ca, { cookie: api.sessionCookie!, origin: base });
    expect(await refusedStream(streamUrl, ca)).toBe(401);

    // Scrapers authenticate with an admin's API token.
    const created = await api.post('/api/v1/tokens', { name: 'prometheus' });
    expect(created.status, created.text).toBe(201);
    const scraper = await ApiClient.trusting(base, started.certificate.certPath);
    cleanups.push(() => scraper.close());
    scraper.useToken((created.body as { token: string }).token);
    const scrape = await scraper.get('/metrics');
    expect(scrape.status, scrape.text).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = scrape.text;
    samples = samplesOf(text);
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it.skipIf(!promtoolInstalled() && !process.env.CI)(
    'passes promtool check metrics with no lint finding',
    async () => {
      if (!promtoolInstalled()) {
        throw new Error(
          'promtool is not installed: install the Debian package "prometheus" (.ci/run does)',
        );
      }
      const { code, output } = await promtoolCheck(text);
      expect(output).toBe('');
      expect(code).toBe(0);
    },
  );

  it.each([
    ['cc_http_request_duration_seconds', 'histogram'],
    ['cc_http_errors_total', 'counter'],
    ['cc_ingest_messages_total', 'counter'],
    ['cc_mqtt_connected_clients', 'gauge'],
    ['cc_devices_online', 'gauge'],
    ['cc_devices', 'gauge'],
    ['cc_device_poll_lag_seconds', 'histogram'],
    ['cc_device_polls_total', 'counter'],
    ['cc_uplink_outbox_depth', 'gauge'],
    ['cc_uplink_outbox_dropped_total', 'counter'],
    ['cc_uplink_delivery_attempts_total', 'counter'],
    ['cc_mqtt_auth_failures_total', 'counter'],
    ['cc_process_process_cpu_seconds_total', 'counter'],
    ['cc_process_nodejs_eventloop_lag_seconds', 'gauge'],
  ])('describes %s as a %s with HELP and TYPE', (name, type) => {
    expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*$`, 'm'));
    expect(text).toContain(`\n# TYPE ${name} ${type}\n`);
  });

  it('measures request latency by route pattern, never by raw URL', () => {
    const route = { method: 'GET', route: '/api/v1/devices/:id' };
    const ok = { ...route, status: '200' };
    expect(valueOf('cc_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(1);
    expect(valueOf('cc_http_request_duration_seconds_count', ok)).toBe(1);
    expect(valueOf('cc_http_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
    const notFound = { ...route, status: '404' };
    expect(valueOf('cc_http_request_duration_seconds_count', notFound)).toBe(1);
    // Buckets are cumulative and end at the count.
    const buckets = find('cc_http_request_duration_seconds_bucket', ok).map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(1);

    const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
    expect(valueOf('cc_http_request_duration_seconds_count', unmatched)).toBe(1);
    expect(text).not.toContain('no-such-device');
    expect(text).not.toContain('no-such-route');
  });

  it('measures refused WebSocket upgrades but not accepted stream sessions', () => {
    const stream = { method: 'GET', route: '/api/v1/stream' };
    expect(valueOf('cc_http_request_duration_seconds_count', { ...stream, status: '401' })).toBe(1);
    expect(find('cc_http_request_duration_seconds_count', { ...stream, status: '200' })).toEqual(
      [],
    );
  });

  it('counts error answers by their error code', () => {
    const codes = Object.fromEntries(
      find('cc_http_errors_total').map((s) => [s.labels.code ?? '', s.value] as const),
    );
    expect(codes).toEqual({
      // The anonymous GET and the anonymous WebSocket upgrade.
      UNAUTHENTICATED: 2,
      VALIDATION_FAILED: 1,
      DEVICE_NOT_FOUND: 1,
      ROUTE_NOT_FOUND: 1,
      BAD_REQUEST: 1,
    });
  });

  it('shows the connected device, its message and the fleet by state', () => {
    expect(valueOf('cc_mqtt_connected_clients')).toBe(1);
    expect(valueOf('cc_ingest_messages_total', { channel: 'state' })).toBe(1);
    expect(valueOf('cc_devices_online')).toBe(1);
    expect(valueOf('cc_devices', { state: 'printing' })).toBe(1);
    expect(valueOf('cc_devices', { state: 'offline' })).toBe(0);
  });

  it('shows an empty outbox while the server is not enrolled', () => {
    expect(valueOf('cc_uplink_outbox_depth')).toBe(0);
  });
});
