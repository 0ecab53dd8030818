import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBroker, issueDeviceToken, type EmbeddedBroker } from '../broker/index.js';
import {
  ALERT_SEVERITIES,
  CONSUMABLE_STATUSES,
  DEVICE_KINDS,
  DEVICE_STATES,
  JOB_STATES,
} from '../domain/index.js';
import type { DeviceChannel, IngestOutcome } from '../ingest/ingest-types.js';
import { createMetricsRegistry, silentLogger } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import { planFleet } from './fleet-plan.js';
import { createSimulator, type Simulator } from './simulator.js';

// Schemas of the device payloads (domain/device-messages.ts), strict about extra fields.
const literals = (values: readonly string[]): TSchema =>
  Type.Union(values.map((v) => Type.Literal(v)));
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
const State = Type.Object(
  {
    ts: Time,
    kind: literals(DEVICE_KINDS),
    model: Type.String(),
    serial: Type.String(),
    name: Type.String(),
    firmwareVersion: Type.String(),
    state: literals(DEVICE_STATES),
    job: Type.Optional(Type.Union([Job, Type.Null()])),
    consumables: Type.Optional(Type.Array(Consumable)),
    alerts: Type.Optional(Type.Array(Alert)),
  },
  strict,
);
const Telemetry = Type.Object(
  { ts: Time, metrics: Type.Record(Type.String(), Type.Number()) },
  strict,
);
const Event = Type.Union([
  Type.Object({ type: Type.Literal('job.updated'), ts: Time, job: Job }, strict),
  Type.Object({ type: Type.Literal('alert.raised'), ts: Time, alert: Alert }, strict),
  Type.Object({ type: Type.Literal('alert.cleared'), ts: Time, alertId: Type.String() }, strict),
  Type.Object(
    { type: Type.Literal('consumable.updated'), ts: Time, consumable: Consumable },
    strict,
  ),
]);
const SCHEMAS: Record<Exclude<DeviceChannel, 'status'>, TSchema> = {
  state: State,
  telemetry: Telemetry,
  events: Event,
};

interface Call {
  deviceId: string;
  channel: DeviceChannel;
  text: string;
}

/** Records every message; refuses (and the test then fails) payloads that break the schemas. */
class RecordingIngest {
  readonly calls: Call[] = [];
  readonly invalid: Call[] = [];
  private readonly events = new EventEmitter();

  handle(deviceId: string, channel: DeviceChannel, payload: Buffer): Promise<IngestOutcome> {
    const call = { deviceId, channel, text: payload.toString('utf8') };
    this.calls.push(call);
    this.events.emit('call');
    const valid =
      channel === 'status'
        ? call.text === 'online' || call.text === 'offline'
        : Value.Check(SCHEMAS[channel], JSON.parse(call.text));
    if (valid) return Promise.resolve({ accepted: true });
    this.invalid.push(call);
    return Promise.resolve({ accepted: false, code: 'SCHEMA_INVALID', message: 'invalid' });
  }

  async waitFor(match: (calls: Call[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    while (!match(this.calls)) await once(this.events, 'call', { signal });
  }
}

const has = (deviceId: string, channel: DeviceChannel, text?: string) => (calls: Call[]) =>
  calls.some(
    (c) =>
      c.deviceId === deviceId && c.channel === channel && (text === undefined || c.text === text),
  );

/** Sockets and timers open in this process, by kind. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

describe('simulator against the embedded broker', () => {
  let dir: string;
  let store: Store;
  let broker: EmbeddedBroker;
  let simulator: Simulator;
  const ingest = new RecordingIngest();
  const plan = planFleet(4, 11);
  let baseline: Record<string, number> = {};

  beforeAll(async () => {
    baseline = handles();
    dir = await mkdtemp(join(tmpdir(), 'cc-sim-'));
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    broker = createEmbeddedBroker(
      {
        logger: silentLogger(),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        credentials: store.deviceCredentials,
        ingest,
      },
      { host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024, keepaliveLimitSeconds: 120 },
    );
    await broker.start();
    const devices = [];
    for (const d of plan) {
      devices.push({ ...d, token: await issueDeviceToken(store.deviceCredentials, d.id) });
    }
    simulator = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${broker.address().port}`,
      devices,
      logger: silentLogger(),
      telemetryIntervalMs: 50,
      speed: 300,
      seed: 11,
    });
  });

  afterAll(async () => {
    await simulator.stop();
    await broker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes status, state, telemetry and events that match the payload schemas', async () => {
    await simulator.start();
    expect(simulator.devices().every((d) => d.connected)).toBe(true);
    for (const { id } of plan) {
      await ingest.waitFor(has(id, 'status', 'online'));
      await ingest.waitFor(has(id, 'state'));
      await ingest.waitFor(has(id, 'telemetry'));
    }
    await ingest.waitFor((calls) =>
      calls.some((c) => c.channel === 'events' && c.text.includes('"job.updated"')),
    );
    await ingest.waitFor((calls) =>
      calls.some((c) => c.channel === 'events' && c.text.includes('"consumable.updated"')),
    );
    expect(ingest.invalid).toEqual([]);
    const kinds = new Set(
      ingest.calls
        .filter((c) => c.channel === 'state')
        .map((c) => (JSON.parse(c.text) as { kind: string }).kind),
    );
    expect(kinds).toEqual(new Set(['printer', 'processing-station', 'build-unit']));
  });

  it('answers a command on its result topic', async () => {
    const results: unknown[] = [];
    let resultArrived: () => void = () => undefined;
    const gotResult = new Promise<void>((resolve) => (resultArrived = resolve));
    const unsubscribe = await broker.subscribe(
      'cc/v1/devices/printer-01/commands/+/result',
      (_topic, payload) => {
        results.push(JSON.parse(payload.toString()));
        resultArrived();
      },
    );
    const answered = new Promise<void>((resolve) => {
      const off = simulator.on('command', (deviceId) => {
        if (deviceId === 'printer-01') {
          off();
          resolve();
        }
      });
    });
    await broker.publish(
      'cc/v1/devices/printer-01/commands',
      JSON.stringify({ id: 'cmd-1', action: 'cancel' }),
      { qos: 1, retain: false },
    );
    await answered;
    await gotResult;
    await unsubscribe();
    expect(results[0]).toMatchObject({ commandId: 'cmd-1', action: 'cancel' });
    expect(typeof (results[0] as { ok: unknown }).ok).toBe('boolean');
  });

  it('answers commands that name a job or an alert, refusing unknown ones', async () => {
    const results = new Map<string, { ok: boolean; message: string }>();
    const arrived = new EventEmitter();
    const unsubscribe = await broker.subscribe(
      'cc/v1/devices/printer-02/commands/+/result',
      (_topic, payload) => {
        const result = JSON.parse(payload.toString()) as {
          commandId: string;
          ok: boolean;
          message: string;
        };
        results.set(result.commandId, result);
        arrived.emit('result');
      },
    );
    const send = async (body: { id: string } & Record<string, unknown>) => {
      await broker.publish('cc/v1/devices/printer-02/commands', JSON.stringify(body), {
        qos: 1,
        retain: false,
      });
      const signal = AbortSignal.timeout(10_000);
      while (!results.has(body.id)) await once(arrived, 'result', { signal });
      return results.get(body.id);
    };
    try {
      expect(await send({ id: 'c-1', action: 'pause', jobId: 'job-nobody-ran' })).toMatchObject({
        ok: false,
        message: 'unknown job job-nobody-ran',
      });
      expect(await send({ id: 'c-2', action: 'acknowledge' })).toMatchObject({
        ok: false,
        message: 'acknowledge needs an alertId',
      });
      expect(await send({ id: 'c-3', action: 'acknowledge', alertId: 'al-x' })).toMatchObject({
        ok: false,
        message: 'unknown alert al-x',
      });
      const device = simulator.devices().find((d) => d.id === 'printer-02')!;
      const active = () => {
        const job = device.model.snapshot().job;
        return job && ['queued', 'printing', 'paused'].includes(job.state) ? job : undefined;
      };
      await ingest.waitFor(() => active() !== undefined);
      const job = active()!;
      expect(await send({ id: 'c-4', action: 'cancel', jobId: job.id })).toMatchObject({
        ok: true,
        message: 'cancelled',
      });
      expect(device.model.jobsChangedSince(-Infinity)).toContainEqual(
        expect.objectContaining({ id: job.id, state: 'cancelled' }),
      );
    } finally {
      await unsubscribe();
    }
  });

  it('triggers the last will when its socket dies, then reconnects', async () => {
    const device = simulator.devices().find((d) => d.id === 'station-01')!;
    const reconnected = new Promise<void>((resolve) => {
      const off = simulator.on('connect', (id) => {
        if (id === device.id) {
          off();
          resolve();
        }
      });
    });
    const before = ingest.calls.length;
    device.dropConnection();
    await ingest.waitFor((calls) => has(device.id, 'status', 'offline')(calls.slice(before)));
    await reconnected;
    await ingest.waitFor((calls) => has(device.id, 'status', 'online')(calls.slice(before)));
  });

  it('stops cleanly: every device says offline and no socket or timer is left', async () => {
    const before = ingest.calls.length;
    const sim = simulator;
    await sim.stop();
    for (const { id } of plan) {
      await ingest.waitFor((calls) => has(id, 'status', 'offline')(calls.slice(before)));
    }
    expect(sim.devices().every((d) => !d.connected)).toBe(true);
    await broker.stop();
    // Closed handles leave the list on a later turn of the event loop: give it a few turns.
    const watched = ['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap', 'Timeout'];
    const leftover = (): string[] =>
      watched.filter((kind) => (handles()[kind] ?? 0) !== (baseline[kind] ?? 0));
    for (let turn = 0; turn < 100 && leftover().length > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(leftover()).toEqual([]);
  });
});

describe('simulator without a reachable broker', () => {
  it('starts, keeps retrying and stops cleanly when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sim = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      devices: [{ id: 'printer-01', token: 'x' }],
      logger: silentLogger(),
      telemetryIntervalMs: 20,
    });
    const baseline = handles();
    await sim.start();
    expect(sim.devices()[0]!.connected).toBe(false);
    expect(sim.devices()[0]!.kind).toBe('printer');
    await sim.stop();
    for (let turn = 0; turn < 100 && (handles().Timeout ?? 0) > (baseline.Timeout ?? 0); turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(handles().Timeout ?? 0).toBe(baseline.Timeout ?? 0);
    expect(handles().TCPSocketWrap ?? 0).toBe(baseline.TCPSocketWrap ?? 0);
  });
});
