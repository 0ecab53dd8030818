// The simulator's device Web Services over real TLS on loopback addresses of this file's own: the
// /ws/v1 contract (anonymous identity, Basic auth, shapes, `since`, actions and their refusals,
// errors), each device's self-signed certificate (fingerprint, rotation, persistence), a device
// that goes away and comes back, and one device state behind both MQTT and Web Services.

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmbeddedBroker,
  issueDeviceToken,
  type EmbeddedBroker,
} from '../src/broker/index.js';
import {
  ALERT_SEVERITIES,
  CONSUMABLE_STATUSES,
  DEVICE_KINDS,
  DEVICE_STATES,
  FIRMWARE_STATES,
  JOB_STATES,
  type WsActionResult,
  type WsAlerts,
  type WsConsumables,
  type WsFirmwareStatus,
  type WsIdentity,
  type WsJobs,
  type WsStatus,
} from '../src/domain/index.js';
import { createMetricsRegistry, silentLogger } from '../src/observability/index.js';
import { createSimulator, type Simulator, type VirtualDevice } from '../src/simulator/index.js';
import { createSqliteStore, type Store } from '../src/store/index.js';

const PASSWORD = 'sim-device-pass-42';
/** A loopback block of this file's own, so parallel test files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

// Schemas of domain/web-services.ts, strict about extra fields.
const literals = <const V extends string[]>(values: readonly [...V]) => Type.Enum(values);
const strict = { additionalProperties: false };
const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Optional(Type.Union([Time, Type.Null()]));
const NullableNumber = Type.Optional(Type.Union([Type.Number(), Type.Null()]));
const Job = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    owner: Type.String(),
    state: literals(JOB_STATES),
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    startedAt: NullableTime,
    estimatedEndAt: NullableTime,
    endedAt: NullableTime,
    layer: NullableNumber,
    layers: NullableNumber,
    materialUsedG: NullableNumber,
  },
  strict,
);
const Consumable = Type.Object(
  {
    slot: Type.String(),
    type: Type.String(),
    level: Type.Number({ minimum: 0, maximum: 100 }),
    status: literals(CONSUMABLE_STATUSES),
    expiresAt: NullableTime,
  },
  strict,
);
const Alert = Type.Object(
  {
    id: Type.String(),
    code: Type.String(),
    severity: literals(ALERT_SEVERITIES),
    message: Type.String(),
    raisedAt: Time,
  },
  strict,
);
const Identity = Type.Object(
  {
    id: Type.String(),
    kind: literals(DEVICE_KINDS),
    model: Type.String(),
    serial: Type.String(),
    name: Type.String(),
    firmwareVersion: Type.String(),
    apiVersion: Type.Literal(1),
  },
  strict,
);
const Status = Type.Object(
  {
    ts: Time,
    state: literals(DEVICE_STATES),
    name: Type.String(),
    firmwareVersion: Type.String(),
    job: Type.Union([Job, Type.Null()]),
  },
  strict,
);
const Consumables = Type.Object({ ts: Time, consumables: Type.Array(Consumable) }, strict);
const Alerts = Type.Object({ ts: Time, alerts: Type.Array(Alert) }, strict);
const Jobs = Type.Object({ ts: Time, jobs: Type.Array(Job) }, strict);
const ActionResult = Type.Object(
  { accepted: Type.Literal(true), message: Type.String(), ts: Time },
  strict,
);
const FirmwareStatus = Type.Object(
  {
    ts: Time,
    firmwareVersion: Type.String(),
    state: literals(FIRMWARE_STATES),
    message: Type.Union([Type.String(), Type.Null()]),
    progress: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
    code: Type.Union([Type.String(), Type.Null()]),
  },
  strict,
);
const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, strict) },
  strict,
);
// The schemas describe the contract types: a drift between them fails type checking.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contract: [
  Same<Static<typeof Identity>['apiVersion'], 1>,
  Static<typeof Status> extends WsStatus ? true : false,
  Static<typeof Consumables> extends WsConsumables ? true : false,
  Static<typeof Alerts> extends WsAlerts ? true : false,
  Static<typeof Jobs> extends WsJobs ? true : false,
  Static<typeof ActionResult> extends WsActionResult ? true : false,
  Static<typeof FirmwareStatus> extends WsFirmwareStatus ? true : false,
  Static<typeof Identity> extends WsIdentity ? true : false,
] = [true, true, true, true, true, true, true, true];

function check<T extends TSchema>(schema: T, value: unknown): Static<T> {
  if (!Value.Check(schema, value)) {
    throw new Error(`unexpected shape: ${JSON.stringify([...Value.Errors(schema, value)])}`);
  }
  return value;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
  fingerprint: string;
  reused: boolean;
  socket: TLSSocket;
}

const basic = (credential: string) => `Basic ${Buffer.from(credential).toString('base64')}`;

/** One HTTPS request; `auth: null` sends no credential. */
function call(
  baseUrl: string,
  path: string,
  options: { method?: string; auth?: string | null; body?: Buffer; agent?: Agent } = {},
): Promise<Answer> {
  const url = new URL(path, baseUrl);
  const auth = options.auth === undefined ? `admin:${PASSWORD}` : options.auth;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        rejectUnauthorized: false,
        headers: {
          ...(auth !== null ? { authorization: basic(auth) } : {}),
          ...(options.body ? { 'content-length': options.body.length } : {}),
        },
        signal: AbortSignal.timeout(5000),
      },
      (res) => {
        const socket = res.socket;
        if (!(socket instanceof TLSSocket)) {
          reject(new Error('not a TLS connection'));
          return;
        }
        const fingerprint = new X509Certificate(socket.getPeerCertificate(true).raw).fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(text) as unknown,
              fingerprint,
              reused: req.reusedSocket,
              socket,
            });
          } catch {
            reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function errorOf(answer: Answer): { code: string; message: string } {
  return check(ErrorBody, answer.body).error;
}

describe('simulated device Web Services', () => {
  let simulator: Simulator;
  let offset = 0;
  const now = () => Date.now() + offset;
  const agent = new Agent({ keepAlive: true });
  const device = (id: string): VirtualDevice => simulator.devices().find((d) => d.id === id)!;
  const url = (id: string): string => device(id).webServicesUrl!;

  beforeAll(async () => {
    simulator = createSimulator({
      devices: [
        { id: 'ws-01', token: '', kind: 'printer' },
        { id: 'ws-02', token: '', kind: 'printer' },
        { id: 'ws-03', token: '', kind: 'cooling-unit' },
      ],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: PASSWORD },
      logger: silentLogger(),
      speed: 300,
      telemetryIntervalMs: 50,
      seed: 3,
      now,
    });
    await simulator.start();
  });

  afterAll(async () => {
    agent.destroy();
    await simulator.stop();
  });

  it('serves each device on its own loopback address, without MQTT', () => {
    expect(contract.every(Boolean)).toBe(true);
    const urls = simulator.devices().map((d) => new URL(d.webServicesUrl!));
    expect(urls.map((u) => u.hostname)).toEqual([`${BLOCK}.11`, `${BLOCK}.12`, `${BLOCK}.13`]);
    for (const d of simulator.devices()) {
      expect(d.webServicesUrl).toMatch(/^https:\/\/127(\.\d+){3}:\d+$/);
      expect(d.connected).toBe(false);
    }
  });

  it('answers identity without a credential', async () => {
    const res = await call(url('ws-01'), '/ws/v1/identity', { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const identity = check(Identity, res.body);
    expect(identity).toMatchObject({ id: 'ws-01', kind: 'printer', apiVersion: 1 });
    const cooling = check(Identity, (await call(url('ws-03'), '/ws/v1/identity')).body);
    expect(cooling).toMatchObject({ id: 'ws-03', kind: 'cooling-unit' });
  });

  it.each([
    ['GET', '/ws/v1/status', null],
    ['GET', '/ws/v1/jobs', `admin:wrong-${PASSWORD}`],
    ['GET', '/ws/v1/alerts', `root:${PASSWORD}`],
    ['GET', '/ws/v1/consumables', 'admin'],
    ['GET', '/ws/v1/firmware/status', `admin:${PASSWORD}x`],
    ['POST', '/ws/v1/jobs/job-1/pause', null],
    ['POST', '/ws/v1/alerts/al-1/acknowledge', 'admin:'],
  ])('refuses %s %s with credential %j', async (method, path, auth) => {
    const res = await call(url('ws-01'), path, { method, auth });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="device"');
    expect(errorOf(res).code).toBe('UNAUTHORIZED');
  });

  it('reports status, consumables, alerts and firmware in the contract shapes', async () => {
    const base = url('ws-01');
    const identity = check(Identity, (await call(base, '/ws/v1/identity')).body);
    const status = check(Status, (await call(base, '/ws/v1/status')).body);
    expect(status.name).toBe(identity.name);
    expect(Math.abs(Date.parse(status.ts) - now())).toBeLessThan(5000);
    const consumables = check(Consumables, (await call(base, '/ws/v1/consumables')).body);
    expect(consumables.consumables.map((c) => c.slot)).toContain('material');
    check(Alerts, (await call(base, '/ws/v1/alerts')).body);
    const firmware = check(FirmwareStatus, (await call(base, '/ws/v1/firmware/status')).body);
    expect(firmware).toMatchObject({
      firmwareVersion: identity.firmwareVersion,
      state: 'idle',
      message: null,
    });
  });

  it('lists the jobs changed at or after `since`, oldest first', async () => {
    const base = url('ws-01');
    const status = async () => check(Status, (await call(base, '/ws/v1/status')).body);
    const first = await until('a first job', async () => (await status()).job ?? undefined);
    const cancelled = await call(base, `/ws/v1/jobs/${first.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    const at = check(ActionResult, cancelled.body).ts;
    const next = await until('the next job', async () => {
      offset += 200;
      const job = (await status()).job;
      return job && job.id !== first.id ? job : undefined;
    });
    const jobs = async (query: string) =>
      check(Jobs, (await call(base, `/ws/v1/jobs${query}`)).body).jobs.map((j) => j.id);

    const all = await jobs('');
    expect(all.indexOf(first.id)).toBeGreaterThanOrEqual(0);
    expect(all.indexOf(first.id)).toBeLessThan(all.indexOf(next.id));
    expect(await jobs(`?since=${encodeURIComponent(at)}`)).toEqual([first.id, next.id]);
    const later = new Date(Date.parse(at) + 1).toISOString();
    expect(await jobs(`?since=${encodeURIComponent(later)}`)).toEqual([next.id]);
    const offsetForm = new Date(Date.parse(at) + 1).toISOString().replace('Z', '+00:00');
    expect(await jobs(`?since=${encodeURIComponent(offsetForm)}`)).toEqual([next.id]);
    expect(await jobs('?since=2999-01-01T00:00:00Z')).toEqual([]);
    const listed = check(Jobs, (await call(base, '/ws/v1/jobs?since=2000-01-01T00:00:00Z')).body);
    expect(listed.jobs.find((j) => j.id === first.id)?.state).toBe('cancelled');
    expect(Date.parse(listed.ts)).toBeGreaterThanOrEqual(Date.parse(at));
  });

  it.each([
    'yesterday',
    '2026-13-45T00:00:00Z',
    '2026-03-02',
    '2026-03-02T08:00:00',
    '',
    '2026-03-02T08:00:00Z&since=2026-03-02T09:00:00Z',
  ])('refuses since=%j with 400', async (since) => {
    const res = await call(url('ws-01'), `/ws/v1/jobs?since=${since}`);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('BAD_REQUEST');
  });

  it('pauses, resumes and cancels the current job, and says why it refuses', async () => {
    const base = url('ws-02');
    const job = await until('a printing job', async () => {
      const { job } = check(Status, (await call(base, '/ws/v1/status')).body);
      return job?.state === 'printing' ? job : undefined;
    });
    const act = (action: string, jobId = job.id) =>
      call(base, `/ws/v1/jobs/${encodeURIComponent(jobId)}/${action}`, { method: 'POST' });

    const paused = await act('pause');
    expect(paused.status).toBe(200);
    expect(check(ActionResult, paused.body).message).toBe('paused');
    const status = check(Status, (await call(base, '/ws/v1/status')).body);
    expect(status).toMatchObject({ state: 'paused', job: { id: job.id, state: 'paused' } });

    const again = await act('pause');
    expect(again.status).toBe(409);
    expect(errorOf(again)).toEqual({ code: 'REJECTED', message: 'job is paused' });

    expect((await act('resume')).status).toBe(200);
    const unknown = await act('pause', 'job-nobody-ran');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('NOT_FOUND');

    const cancelled = await act('cancel');
    expect(check(ActionResult, cancelled.body).message).toBe('cancelled');
    const twice = await act('cancel');
    expect(twice.status).toBe(409);
    expect(errorOf(twice)).toEqual({ code: 'REJECTED', message: 'job is cancelled' });

    // A cooling unit runs no jobs: any job id is unknown to it.
    const cooling = await call(url('ws-03'), '/ws/v1/jobs/job-1/pause', { method: 'POST' });
    expect(cooling.status).toBe(404);
  });

  it('acknowledges an open alert, which stays open until it clears', async () => {
    const base = url('ws-03');
    const alerts = async () => check(Alerts, (await call(base, '/ws/v1/alerts')).body).alerts;
    const alert = await until('an alert', async () => {
      offset += 200;
      return (await alerts())[0];
    });
    const ack = (alertId: string) =>
      call(base, `/ws/v1/alerts/${encodeURIComponent(alertId)}/acknowledge`, { method: 'POST' });

    const first = await ack(alert.id);
    expect(first.status).toBe(200);
    expect(check(ActionResult, first.body).message).toBe('acknowledged');
    expect(device('ws-03').model.isAcknowledged(alert.id)).toBe(true);
    expect((await alerts()).map((a) => a.id)).toContain(alert.id);
    expect(check(ActionResult, (await ack(alert.id)).body).message).toBe('already acknowledged');

    offset += 10_000; // 50 device minutes: longer than any alert of this kind lasts
    expect((await alerts()).map((a) => a.id)).not.toContain(alert.id);
    const late = await ack(alert.id);
    expect(late.status).toBe(409);
    expect(errorOf(late)).toEqual({
      code: 'REJECTED',
      message: `alert ${alert.id} has already cleared`,
    });
    const unknown = await ack('al-nobody-raised');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('NOT_FOUND');
  });

  it.each([
    ['GET', '/ws/v1/nothing-here', 404, 'NOT_FOUND', undefined],
    ['GET', '/', 404, 'NOT_FOUND', undefined],
    ['GET', '/ws/v1/', 404, 'NOT_FOUND', undefined],
    ['GET', '/ws/v2/status', 404, 'NOT_FOUND', undefined],
    ['POST', '/ws/v1/jobs/job-1/explode', 404, 'NOT_FOUND', undefined],
    ['GET', '/ws/v1/jobs/%E0%A4%A/pause', 404, 'NOT_FOUND', undefined],
    ['POST', '/ws/v1/status', 405, 'METHOD_NOT_ALLOWED', 'GET'],
    ['DELETE', '/ws/v1/identity', 405, 'METHOD_NOT_ALLOWED', 'GET'],
    ['GET', '/ws/v1/jobs/job-1/pause', 405, 'METHOD_NOT_ALLOWED', 'POST'],
    ['PUT', '/ws/v1/alerts/al-1/acknowledge', 405, 'METHOD_NOT_ALLOWED', 'POST'],
  ])('answers %s %s with %i', async (method, path, status, code, allow) => {
    const res = await call(url('ws-01'), path, { method });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(errorOf(res).code).toBe(code);
    expect(res.headers.allow).toBe(allow);
  });

  it('refuses a request body over 64 KiB with 413', async () => {
    const body = Buffer.alloc(64 * 1024 + 1, 'x');
    const res = await call(url('ws-01'), '/ws/v1/jobs/job-1/pause', { method: 'POST', body });
    expect(res.status).toBe(413);
    expect(errorOf(res).code).toBe('PAYLOAD_TOO_LARGE');
    const small = await call(url('ws-01'), '/ws/v1/status', { body: Buffer.alloc(1024, 'x') });
    expect(small.status).toBe(200);
  });

  it('serves the certificate it reports, for its id and address, over keep-alive connections', async () => {
    const ws1 = device('ws-01');
    const first = await call(ws1.webServicesUrl!, '/ws/v1/identity', { agent });
    const second = await call(ws1.webServicesUrl!, '/ws/v1/identity', { agent });
    expect(second.reused).toBe(true);
    expect(first.fingerprint).toBe(ws1.certificateFingerprint);
    expect(ws1.certificateFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const cert = new X509Certificate(first.socket.getPeerCertificate(true).raw);
    expect(cert.subject).toBe('CN=ws-01');
    expect(cert.subjectAltName).toBe(`IP Address:${BLOCK}.11`);
    expect(first.socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    const other = await call(url('ws-02'), '/ws/v1/identity');
    expect(other.fingerprint).toBe(device('ws-02').certificateFingerprint);
    expect(other.fingerprint).not.toBe(first.fingerprint);
  });

  it('goes away on stopWebServices and comes back on the same URL and certificate', async () => {
    const ws2 = device('ws-02');
    const before = { url: ws2.webServicesUrl!, fingerprint: ws2.certificateFingerprint };
    const open = await call(before.url, '/ws/v1/identity', { agent });
    const dropped = once(open.socket, 'close');
    await ws2.stopWebServices();
    await dropped;
    await expect(call(before.url, '/ws/v1/identity')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await ws2.startWebServices();
    expect(ws2.webServicesUrl).toBe(before.url);
    expect(ws2.certificateFingerprint).toBe(before.fingerprint);
    const back = await call(before.url, '/ws/v1/identity', { agent });
    expect(back.status).toBe(200);
    expect(back.fingerprint).toBe(before.fingerprint);
  });

  it('rotates its certificate on the same address and port', async () => {
    const ws3 = device('ws-03');
    const before = { url: ws3.webServicesUrl!, fingerprint: ws3.certificateFingerprint };
    await ws3.rotateCertificate();
    expect(ws3.webServicesUrl).toBe(before.url);
    expect(ws3.certificateFingerprint).not.toBe(before.fingerprint);
    const res = await call(before.url, '/ws/v1/identity');
    expect(res.fingerprint).toBe(ws3.certificateFingerprint);
  });
});

describe('simulated device certificates and addresses', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-sim-ws-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fleet = (stateDir: string) =>
    createSimulator({
      devices: [{ id: 'kept-01', token: '' }],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.101`, port: 0, password: PASSWORD, stateDir },
      logger: silentLogger(),
    });

  it('keeps each device certificate in the state directory across simulator restarts', async () => {
    const stateDir = join(dir, 'state');
    const first = fleet(stateDir);
    await first.start();
    const pinned = first.devices()[0]!.certificateFingerprint;
    await first.stop();
    expect((await stat(join(stateDir, 'kept-01.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'kept-01.crt'))).isFile()).toBe(true);

    const second = fleet(stateDir);
    await second.start();
    const device = second.devices()[0]!;
    expect(device.certificateFingerprint).toBe(pinned);
    expect((await call(device.webServicesUrl!, '/ws/v1/identity')).fingerprint).toBe(pinned);
    await device.rotateCertificate();
    const rotated = device.certificateFingerprint;
    await second.stop();

    const third = fleet(stateDir);
    await third.start();
    expect(third.devices()[0]!.certificateFingerprint).toBe(rotated);
    await third.stop();
    expect(rotated).not.toBe(pinned);
  });

  it('falls back to the first address and an ephemeral port when an address cannot be bound, warning once', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    // 127.255.255.254 is the last loopback address; the next ones (128.0.0.x) are not local.
    const sim = createSimulator({
      devices: [
        { id: 'edge-01', token: '' },
        { id: 'edge-02', token: '' },
        { id: 'edge-03', token: '' },
      ],
      channels: 'web-services',
      webServices: { firstAddress: '127.255.255.254', port: 0, password: PASSWORD },
      logger: pino({ level: 'warn' }, sink),
    });
    await sim.start();
    try {
      const urls = sim.devices().map((d) => new URL(d.webServicesUrl!));
      expect(urls.map((u) => u.hostname)).toEqual(Array(3).fill('127.255.255.254'));
      expect(new Set(urls.map((u) => u.port)).size).toBe(3);
      for (const d of sim.devices()) {
        const res = await call(d.webServicesUrl!, '/ws/v1/identity');
        expect((res.body as { id: string }).id).toBe(d.id);
      }
      expect(lines.filter((l) => l.includes('fall back to ephemeral ports'))).toHaveLength(1);
    } finally {
      await sim.stop();
    }
  });

  it('leaves no listener or connection behind when stopped', async () => {
    const handles = () => {
      const counts: Record<string, number> = {};
      for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    };
    const baseline = handles();
    const sim = fleet(join(dir, 'leak'));
    await sim.start();
    const keepAlive = new Agent({ keepAlive: true });
    await call(sim.devices()[0]!.webServicesUrl!, '/ws/v1/status', { agent: keepAlive });
    await sim.stop();
    const watched = ['TCPServerWrap', 'TCPSocketWrap', 'TLSWrap', 'Timeout'];
    const leftover = () => watched.filter((kind) => (handles()[kind] ?? 0) > (baseline[kind] ?? 0));
    for (let turn = 0; turn < 100 && leftover().length > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(leftover()).toEqual([]);
    keepAlive.destroy();
  });

  it('refuses a first address that is not an IPv4 literal', () => {
    for (const firstAddress of ['localhost', '::1', '127.0.0.300']) {
      expect(() =>
        createSimulator({
          devices: [{ id: 'x-01', token: '' }],
          channels: 'web-services',
          webServices: { firstAddress, port: 0, password: PASSWORD },
          logger: silentLogger(),
        }),
      ).toThrow(/not an IPv4 address/);
    }
  });
});

describe('a device speaking both MQTT and Web Services', () => {
  let dir: string;
  let store: Store;
  let broker: EmbeddedBroker;
  let simulator: Simulator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-sim-both-'));
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    broker = createEmbeddedBroker(
      {
        logger: silentLogger(),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        credentials: store.deviceCredentials,
        ingest: { handle: () => Promise.resolve({ accepted: true }) },
      },
      { host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024, keepaliveLimitSeconds: 120 },
    );
    await broker.start();
    simulator = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${broker.address().port}`,
      devices: [
        {
          id: 'both-01',
          token: await issueDeviceToken(store.deviceCredentials, 'both-01'),
          kind: 'printer',
        },
      ],
      channels: 'both',
      webServices: { firstAddress: `${BLOCK}.201`, port: 0, password: PASSWORD },
      logger: silentLogger(),
      speed: 300,
      telemetryIntervalMs: 50,
      seed: 9,
    });
    await simulator.start();
  });

  afterAll(async () => {
    await simulator.stop();
    await broker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a pause over Web Services in its MQTT state and events, and a resume over MQTT in its Web Services', async () => {
    const device = simulator.devices()[0]!;
    expect(device.connected).toBe(true);
    const base = device.webServicesUrl!;
    const messages: { topic: string; body: unknown }[] = [];
    const arrived = new EventTarget();
    const unsubscribe = await broker.subscribe('cc/v1/devices/both-01/#', (topic, payload) => {
      const text = payload.toString('utf8');
      messages.push({ topic, body: text.startsWith('{') ? (JSON.parse(text) as unknown) : text });
      arrived.dispatchEvent(new Event('message'));
    });
    const seen = async (match: (m: { topic: string; body: unknown }) => boolean) => {
      const signal = AbortSignal.timeout(10_000);
      while (!messages.some(match)) await once(arrived, 'message', { signal });
    };
    try {
      const job = await until('a printing job', async () => {
        const { job } = check(Status, (await call(base, '/ws/v1/status')).body);
        return job?.state === 'printing' ? job : undefined;
      });
      const paused = await call(base, `/ws/v1/jobs/${job.id}/pause`, { method: 'POST' });
      expect(paused.status).toBe(200);
      await seen(
        (m) =>
          m.topic.endsWith('/state') &&
          (m.body as { state?: string; job?: { id: string } }).state === 'paused' &&
          (m.body as { job?: { id: string } }).job?.id === job.id,
      );
      await seen(
        (m) =>
          m.topic.endsWith('/events') &&
          (m.body as { type?: string; job?: { id: string; state: string } }).job?.state ===
            'paused',
      );

      await broker.publish(
        'cc/v1/devices/both-01/commands',
        JSON.stringify({ id: 'cmd-resume', action: 'resume', jobId: job.id }),
        { qos: 1, retain: false },
      );
      await seen((m) => m.topic.endsWith('/commands/cmd-resume/result'));
      const result = messages.find((m) => m.topic.endsWith('/commands/cmd-resume/result'))!;
      expect(result.body).toMatchObject({ commandId: 'cmd-resume', action: 'resume', ok: true });
      const status = check(Status, (await call(base, '/ws/v1/status')).body);
      expect(status.job).toMatchObject({ id: job.id, state: 'printing' });
    } finally {
      await unsubscribe();
    }
  });
});
