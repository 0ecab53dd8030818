// Staged firmware rollouts end to end: 20 simulated devices serving real Web Services over TLS on
// loopback addresses of this file's own, added with certificate pinning, a package signed by a
// vendor key made here and admitted to the real catalog, the real push client, and the rollout API
// behind the real route guard, followed live over its event stream. One fleet is updated whole
// (canary first, within the concurrency limit, progress in order); another has two devices whose
// installation fails, which pauses the rollout at the threshold until it is resumed. Abort, the
// API's refusals and site scoping are checked on the way.

import { createReadStream } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate, startHarness, type Harness } from '../src/api/api-test-harness.js';
import type { ApiApp } from '../src/api/api-types.js';
import { registerErrorHandling, registerNotFound } from '../src/api/error-handler.js';
import { registerRouteGuard } from '../src/api/route-guard.js';
import { registerRolloutRoutes } from '../src/api/routes/rollouts.js';
import { createTrustPolicy } from '../src/firmware/index.js';
import { createRolloutService, type RolloutService } from '../src/firmware/rollouts/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createFirmwareKit, type FirmwareKit } from '../src/simulator/firmware-test-harness.js';
import { createSimulator, FLASH_WRITE_ERROR, type Simulator } from '../src/simulator/index.js';
import type { RolloutDevice } from '../src/store/index.js';

const DEVICE_PASSWORD = 'device-secret-123';
/** A loopback block of this file's own, so parallel test files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;
const FLEET_SIZE = 20;
const IN_FLIGHT = ['transferring', 'verifying', 'installing'];
const ORDER = ['queued', 'transferring', 'verifying', 'installing', 'done'];

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

interface RolloutBody {
  id: string;
  state: string;
  pausedReason: string | null;
  total: number;
  counts: Record<string, number>;
  devices: RolloutDevice[];
  excluded?: { deviceId: string; reason: string }[];
  limitedToSites?: string[] | null;
}

interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/** An event stream being read: every event so far, and the end of the stream. */
interface Follow {
  events: StreamEvent[];
  ended: Promise<void>;
  /** Resolves with the first event (so far or to come) that `predicate` accepts. */
  until(predicate: (e: StreamEvent) => boolean, ms?: number): Promise<StreamEvent>;
  close(): void;
}

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Fixture {
  harness: Harness;
  simulator: Simulator;
  kit: FirmwareKit;
  rollouts: RolloutService;
  app: ApiApp;
  ids: string[];
  models: string[];
  /** The admin's session cookie. */
  admin: string;
  call(
    method: string,
    path: string,
    options?: { body?: unknown; cookie?: string },
  ): Promise<Answer>;
  follow(path: string, cookie?: string): Promise<Follow>;
  /** Packs, signs and admits a package for every model of the fleet; returns its catalog id. */
  publish(version: string): Promise<string>;
  close(): Promise<void>;
}

async function startFixture(options: {
  prefix: string;
  firstHost: number;
  failInstall?: string[];
  siteOf?: (index: number) => string;
}): Promise<Fixture> {
  const kit = await createFirmwareKit();
  const harness = await startHarness({
    devices: { pollActiveMs: 500, pollIdleMs: 1000, requestTimeoutMs: 3000 },
    firmware: { trust: createTrustPolicy([kit.vendor.key]) },
  });
  const admin = await harness.setupAdmin();
  const ids = Array.from(
    { length: FLEET_SIZE },
    (_, i) => `${options.prefix}-${String(i + 1).padStart(2, '0')}`,
  );
  const simulator = createSimulator({
    devices: ids.map((id) => ({ id, token: '', kind: 'printer' as const })),
    channels: 'web-services',
    webServices: {
      firstAddress: `${BLOCK}.${options.firstHost}`,
      port: 0,
      password: DEVICE_PASSWORD,
    },
    firmware: {
      vendorKeys: [kit.vendor.key],
      // Long enough for the server to see every phase; two seconds per device.
      installMs: 2000,
      failInstall: options.failInstall ?? [],
    },
    logger: silentLogger(),
    seed: 11,
  });
  await simulator.start();
  const sites = [...new Set(ids.map((_, i) => options.siteOf?.(i) ?? 'hall-a'))];
  await harness.createSites(...sites);
  for (const [i, d] of simulator.devices().entries()) {
    await harness.devices.registry.add(
      {
        url: d.webServicesUrl!,
        username: 'admin',
        password: DEVICE_PASSWORD,
        fingerprint: d.certificateFingerprint!,
        siteId: options.siteOf?.(i) ?? 'hall-a',
      },
      { name: 'admin', source: null },
    );
  }
  await until('the whole fleet polled', () => {
    const views = ids.map((id) => harness.ingest.fleet.get(id));
    return views.every((v) => v !== undefined && v.state !== 'offline' && v.lastSeenAt !== null)
      ? true
      : undefined;
  });
  const models = [...new Set(simulator.devices().map((d) => d.model.identity.model))];

  const rollouts = createRolloutService(
    {
      store: harness.store,
      fleet: harness.ingest.fleet,
      push: harness.devices.firmware,
      firmwareDir: `${harness.dir}/firmware`,
      audit: harness.auth.audit,
      logger: silentLogger(),
    },
    { pushTimeoutMs: 30_000, maxConcurrency: 16 },
  );
  await rollouts.start();

  // The rollout routes behind the real route guard, error handling and session cookies.
  const { cert, key } = await generateCertificate();
  const app = Fastify({
    https: { cert, key },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiApp;
  registerErrorHandling(app, silentLogger());
  registerNotFound(app);
  await app.register(fastifyCookie);
  registerRouteGuard(app, harness.auth);
  registerRolloutRoutes(app, { rollouts, ingest: harness.ingest, store: harness.store });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const agent = new Agent({ connect: { ca: cert } });
  const streams = new Set<Follow>();

  return {
    harness,
    simulator,
    kit,
    rollouts,
    app,
    ids,
    models,
    admin,
    async call(method, path, o = {}) {
      const res = await request(`${base}${path}`, {
        method: method as 'GET',
        headers: {
          cookie: o.cookie ?? admin,
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
        dispatcher: agent,
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
    },
    async follow(path, cookie = admin) {
      const controller = new AbortController();
      const res = await request(`${base}${path}`, {
        method: 'GET',
        headers: { cookie, accept: 'text/event-stream' },
        dispatcher: agent,
        signal: controller.signal,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      const events: StreamEvent[] = [];
      const waiters = new Set<() => void>();
      const ended = (async () => {
        let buffer = '';
        try {
          for await (const chunk of res.body) {
            buffer += (chunk as Buffer).toString('utf8');
            let cut: number;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              const event = /^event: (.+)$/m.exec(block)?.[1];
              const data = /^data: (.+)$/m.exec(block)?.[1];
              if (event && data) {
                events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
                for (const wake of waiters) wake();
              }
            }
          }
        } catch {
          // Closed by the test.
        }
        for (const wake of waiters) wake();
      })();
      let done = false;
      void ended.then(() => (done = true));
      const follow: Follow = {
        events,
        ended,
        async until(predicate, ms = 30_000) {
          const deadline = Date.now() + ms;
          for (;;) {
            const found = events.find(predicate);
            if (found) return found;
            if (done) throw new Error('the event stream ended');
            if (Date.now() > deadline) throw new Error('timed out waiting for an event');
            await new Promise<void>((resolve) => {
              const wake = () => {
                waiters.delete(wake);
                clearTimeout(timer);
                resolve();
              };
              const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
              waiters.add(wake);
            });
          }
        },
        close() {
          controller.abort();
        },
      };
      streams.add(follow);
      return follow;
    },
    async publish(version) {
      const file = await kit.pack({ version, models });
      const admitted = await harness.firmware.admit(
        createReadStream(file),
        { name: 'admin', source: null },
        { origin: 'upload' },
      );
      return admitted.package.id;
    },
    async close() {
      for (const s of streams) s.close();
      await rollouts.stop();
      await app.close();
      await agent.close();
      await simulator.stop();
      await harness.close();
      await kit.cleanup();
    },
  };
}

/** Each device's statuses as the stream showed them, repeats folded. */
function statusesByDevice(events: readonly StreamEvent[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const e of events) {
    if (e.event !== 'device') continue;
    const d = e.data as unknown as RolloutDevice;
    const list = seen.get(d.deviceId) ?? [];
    if (list.at(-1) !== d.status) list.push(d.status);
    seen.set(d.deviceId, list);
  }
  return seen;
}

/** Most devices in flight at once, replaying the stream from its snapshot. */
function peakInFlight(events: readonly StreamEvent[]): number {
  const status = new Map<string, string>();
  let peak = 0;
  for (const e of events) {
    if (e.event === 'snapshot') {
      for (const d of (e.data as unknown as RolloutBody).devices) status.set(d.deviceId, d.status);
    } else if (e.event === 'device') {
      const d = e.data as unknown as RolloutDevice;
      status.set(d.deviceId, d.status);
    }
    peak = Math.max(peak, [...status.values()].filter((s) => IN_FLIGHT.includes(s)).length);
  }
  return peak;
}

describe('a staged rollout over 20 simulated devices', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture({
      prefix: 'fa',
      firstHost: 11,
      siteOf: (i) => (i < 10 ? 'hall-a' : 'hall-b'),
    });
  }, 60_000);

  afterAll(async () => {
    await fx.close();
  }, 60_000);

  it('updates every device, canary group first, with live progress in order', async () => {
    const packageId = await fx.publish('5.0.0');
    const created = await fx.call('POST', '/api/v1/firmware/rollouts', {
      body: { packageId, selection: {}, canarySize: 3, concurrency: 5, failureThreshold: 1 },
    });
    expect(created.status).toBe(201);
    const rollout = created.body as unknown as RolloutBody;
    expect(rollout).toMatchObject({ state: 'running', total: 20, excluded: [] });
    const canary = rollout.devices.filter((d) => d.stage === 'canary').map((d) => d.deviceId);
    expect(canary).toEqual(['fa-01', 'fa-02', 'fa-03']);

    const stream = await fx.follow(`/api/v1/firmware/rollouts/${rollout.id}/events`);
    // Progress is visible in the API while it runs.
    const live = await until('a device in flight', async () => {
      const res = await fx.call('GET', `/api/v1/firmware/rollouts/${rollout.id}`);
      const body = res.body as unknown as RolloutBody;
      return body.devices.some((d) => IN_FLIGHT.includes(d.status) && d.stage === 'canary')
        ? body
        : undefined;
    });
    expect(live.state).toBe('running');

    await stream.until((e) => e.event === 'rollout' && e.data.state === 'completed', 90_000);
    await stream.ended;
    const events = stream.events;
    expect(events[0]?.event).toBe('snapshot');

    // No device of the rest started before every canary device was done.
    const firstRest = events.findIndex(
      (e) =>
        e.event === 'device' &&
        (e.data as unknown as RolloutDevice).stage === 'rest' &&
        (e.data as unknown as RolloutDevice).status === 'transferring',
    );
    expect(firstRest).toBeGreaterThan(0);
    const before = statusesByDevice(events.slice(0, firstRest));
    for (const id of canary) expect(before.get(id)?.at(-1)).toBe('done');
    expect(peakInFlight(events)).toBeLessThanOrEqual(5);
    expect(peakInFlight(events)).toBeGreaterThan(1);

    // Every device went through the phases in order, ending done; installing was seen.
    const byDevice = statusesByDevice(events);
    expect([...byDevice.keys()].sort()).toEqual(fx.ids);
    for (const [id, statuses] of byDevice) {
      const ranks = statuses.map((s) => ORDER.indexOf(s));
      expect(ranks, id).toEqual([...ranks].sort((a, b) => a - b));
      expect(statuses[0], id).toBe('transferring');
      expect(statuses.at(-1), id).toBe('done');
    }
    expect([...byDevice.values()].some((s) => s.includes('installing'))).toBe(true);
    // Percentages only grow within a phase.
    for (const id of fx.ids) {
      const points = events
        .filter((e) => e.event === 'device' && e.data.deviceId === id)
        .map((e) => e.data as unknown as RolloutDevice);
      for (let i = 1; i < points.length; i += 1) {
        const [a, b] = [points[i - 1]!, points[i]!];
        if (a.status === b.status && a.progress !== null && b.progress !== null) {
          expect(b.progress).toBeGreaterThanOrEqual(a.progress);
        }
      }
    }

    const done = (await fx.call('GET', `/api/v1/firmware/rollouts/${rollout.id}`))
      .body as unknown as RolloutBody;
    expect(done).toMatchObject({ state: 'completed', counts: { done: 20, failed: 0 } });
    for (const d of fx.simulator.devices()) expect(d.model.identity.firmwareVersion).toBe('5.0.0');
    await until('the fleet showing 5.0.0', () =>
      fx.ids.every((id) => fx.harness.ingest.fleet.get(id)?.firmwareVersion === '5.0.0')
        ? true
        : undefined,
    );

    const audit = await fx.harness.store.audit.list({
      action: 'firmware.rollout.*',
      limit: 100,
      offset: 0,
    });
    const actions = audit.items.map((a) => a.action);
    expect(actions.filter((a) => a === 'firmware.rollout.device-installed')).toHaveLength(20);
    expect(actions).toContain('firmware.rollout.create');
    expect(actions).toContain('firmware.rollout.complete');
    expect(audit.items.find((a) => a.action === 'firmware.rollout.create')?.actor).toBe('admin');

    const list = await fx.call('GET', '/api/v1/firmware/rollouts');
    expect(list.body).toMatchObject({ total: 1, items: [{ id: rollout.id, state: 'completed' }] });
    // A finished rollout's stream gives its snapshot and ends.
    const again = await fx.follow(`/api/v1/firmware/rollouts/${rollout.id}/events`);
    await again.ended;
    expect(again.events.map((e) => e.event)).toEqual(['snapshot']);
  }, 120_000);

  it('answers bad requests with clear errors', async () => {
    const packageId = await fx.publish('5.1.0');
    const post = (body: unknown, cookie?: string) =>
      fx.call('POST', '/api/v1/firmware/rollouts', { body, ...(cookie ? { cookie } : {}) });
    const cases: [unknown, number, string, RegExp?][] = [
      [{ packageId: 'f'.repeat(64), selection: {} }, 404, 'NOT_FOUND', /no firmware package/],
      [{ packageId, selection: {}, concurrency: 0 }, 400, 'VALIDATION_FAILED'],
      [{ packageId, selection: {}, concurrency: 17 }, 400, 'VALIDATION_FAILED', /from 1 to 16/],
      [{ packageId, selection: {}, failureThreshold: 'two' }, 400, 'VALIDATION_FAILED'],
      [{ packageId, selection: { colour: ['red'] } }, 400, 'VALIDATION_FAILED'],
      [{ packageId, selection: { models: ['Fusion X9'] } }, 409, 'CONFLICT', /no device/],
      [{ packageId, selection: { devices: ['fa-99'] } }, 404, 'DEVICE_NOT_FOUND'],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error?.code).toBe(code);
      if (message) expect(res.body.error?.message).toMatch(message);
    }
    const operator = await fx.harness.loginAs('operator', 'olga');
    expect((await post({ packageId, selection: {} }, operator)).status).toBe(403);
    expect((await fx.call('GET', '/api/v1/firmware/rollouts', { cookie: operator })).status).toBe(
      200,
    );
    expect((await fx.call('POST', '/api/v1/firmware/rollouts/nope/pause')).status).toBe(404);
    expect((await fx.call('GET', '/api/v1/firmware/rollouts/nope')).status).toBe(404);
  });

  it('keeps a site-scoped user to its sites, and aborts a rollout', async () => {
    const packageId = (await fx.harness.store.firmware.findByNameVersion('fusion-fw', '5.1.0'))[0]!
      .id;
    const hallB = await fx.harness.loginAs('admin', 'bea', { sites: ['hall-b'] });
    const hallA = await fx.harness.loginAs('user', 'ana', { sites: ['hall-a'] });

    const created = await fx.call('POST', '/api/v1/firmware/rollouts', {
      cookie: hallB,
      body: { packageId, selection: {}, canarySize: 0, concurrency: 2 },
    });
    expect(created.status).toBe(201);
    const rollout = created.body as unknown as RolloutBody;
    expect(rollout.limitedToSites).toEqual(['hall-b']);
    expect(rollout.devices.map((d) => d.deviceId)).toEqual(fx.ids.slice(10));
    // Another site's user does not see it at all; the unscoped admin does.
    expect(
      (await fx.call('GET', `/api/v1/firmware/rollouts/${rollout.id}`, { cookie: hallA })).status,
    ).toBe(404);
    expect(
      (await fx.call('GET', '/api/v1/firmware/rollouts', { cookie: hallA })).body,
    ).toMatchObject({ total: 1 });

    const stream = await fx.follow(`/api/v1/firmware/rollouts/${rollout.id}/events`, hallB);
    await stream.until(
      () =>
        [...statusesByDevice(stream.events).values()].filter((s) => IN_FLIGHT.includes(s.at(-1)!))
          .length === 2,
    );
    const aborted = await fx.call('POST', `/api/v1/firmware/rollouts/${rollout.id}/abort`, {
      cookie: hallB,
    });
    expect(aborted.status).toBe(200);
    const body = aborted.body as unknown as RolloutBody;
    expect(body.state).toBe('aborted');
    const reasons = body.devices.map((d) => `${d.status}: ${d.reason ?? ''}`);
    expect(reasons.filter((r) => r === 'skipped: rollout aborted').length).toBeGreaterThanOrEqual(
      7,
    );
    expect(reasons.filter((r) => /^skipped: rollout aborted while /.test(r)).length).toBe(2);
    await stream.ended;
    expect(
      (await fx.call('POST', `/api/v1/firmware/rollouts/${rollout.id}/resume`, { cookie: hallB }))
        .body.error?.code,
    ).toBe('CONFLICT');
    const audit = await fx.harness.store.audit.list({
      action: 'firmware.rollout.abort',
      limit: 10,
      offset: 0,
    });
    expect(audit.items[0]).toMatchObject({ actor: 'bea', target: rollout.id });

    // A rollout reaching beyond a scoped user's sites is not the user's to change.
    const wide = await fx.call('POST', '/api/v1/firmware/rollouts', {
      body: { packageId, selection: { devices: ['fa-01', 'fa-20'] }, canarySize: 0 },
    });
    expect(wide.status).toBe(201);
    const wideId = (wide.body as unknown as RolloutBody).id;
    const refused = await fx.call('POST', `/api/v1/firmware/rollouts/${wideId}/pause`, {
      cookie: hallB,
    });
    expect(refused.status).toBe(403);
    const partial = (await fx.call('GET', `/api/v1/firmware/rollouts/${wideId}`, { cookie: hallB }))
      .body as unknown as RolloutBody;
    expect(partial.devices.map((d) => d.deviceId)).toEqual(['fa-20']);
    expect(partial.total).toBe(1);
    expect((await fx.call('POST', `/api/v1/firmware/rollouts/${wideId}/abort`)).status).toBe(200);
  }, 60_000);
});

describe('a staged rollout over 20 simulated devices, two of which fail', () => {
  let fx: Fixture;
  const failing = ['fb-08', 'fb-14'];

  beforeAll(async () => {
    fx = await startFixture({ prefix: 'fb', firstHost: 61, failInstall: failing });
  }, 60_000);

  afterAll(async () => {
    await fx.close();
  }, 60_000);

  it('pauses at the failure threshold, then finishes the rest when resumed', async () => {
    const packageId = await fx.publish('5.0.0');
    const created = await fx.call('POST', '/api/v1/firmware/rollouts', {
      body: { packageId, selection: {}, canarySize: 2, concurrency: 4, failureThreshold: 2 },
    });
    expect(created.status).toBe(201);
    const { id } = created.body as unknown as RolloutBody;
    const stream = await fx.follow(`/api/v1/firmware/rollouts/${id}/events`);

    const pause = await stream.until(
      (e) => e.event === 'rollout' && e.data.state === 'paused',
      90_000,
    );
    expect(pause.data.pausedReason).toBe(
      'failure threshold reached: 2 of 20 devices failed (threshold 2)',
    );
    const atPause = stream.events.indexOf(pause);
    const statusAtPause = new Map<string, string>();
    for (const e of stream.events.slice(0, atPause + 1)) {
      if (e.event === 'snapshot') {
        for (const d of (e.data as unknown as RolloutBody).devices) {
          statusAtPause.set(d.deviceId, d.status);
        }
      }
      if (e.event === 'device') statusAtPause.set(String(e.data.deviceId), String(e.data.status));
    }
    const queuedAtPause = [...statusAtPause].filter(([, s]) => s === 'queued').map(([d]) => d);
    const inFlightAtPause = [...statusAtPause]
      .filter(([, s]) => IN_FLIGHT.includes(s))
      .map(([d]) => d);
    expect(queuedAtPause.length).toBeGreaterThan(0);

    // Pushes under way finish; no queued device starts while paused.
    const paused = await until('the pushes under way to finish', async () => {
      const body = (await fx.call('GET', `/api/v1/firmware/rollouts/${id}`))
        .body as unknown as RolloutBody;
      return body.devices.some((d) => IN_FLIGHT.includes(d.status)) ? undefined : body;
    });
    expect(paused.state).toBe('paused');
    for (const deviceId of inFlightAtPause) {
      expect(paused.devices.find((d) => d.deviceId === deviceId)?.status).toBe('done');
    }
    for (const deviceId of queuedAtPause) {
      expect(paused.devices.find((d) => d.deviceId === deviceId)?.status).toBe('queued');
    }
    for (const deviceId of failing) {
      expect(paused.devices.find((d) => d.deviceId === deviceId)).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining(FLASH_WRITE_ERROR) as unknown,
      });
    }
    const failures = await fx.harness.store.audit.list({
      action: 'firmware.rollout.device-failed',
      limit: 10,
      offset: 0,
    });
    expect(failures.items.map((a) => a.target).sort()).toEqual(failing);
    expect(failures.items.every((a) => a.outcome === 'failed')).toBe(true);

    const resumed = await fx.call('POST', `/api/v1/firmware/rollouts/${id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ state: 'running', pausedReason: null });
    await stream.until((e) => e.event === 'rollout' && e.data.state === 'completed', 90_000);
    const done = (await fx.call('GET', `/api/v1/firmware/rollouts/${id}`))
      .body as unknown as RolloutBody;
    expect(done.counts).toMatchObject({ done: 18, failed: 2, queued: 0 });
    for (const d of fx.simulator.devices()) {
      expect(d.model.identity.firmwareVersion === '5.0.0').toBe(!failing.includes(d.id));
    }
    // No device that was queued at the pause started before the resume.
    const resumeAt = stream.events.findIndex(
      (e) => e.event === 'rollout' && e.data.state === 'running',
    );
    const startedWhilePaused = stream.events
      .slice(atPause, resumeAt)
      .filter((e) => e.event === 'device' && e.data.status === 'transferring');
    expect(startedWhilePaused).toEqual([]);
    const audit = await fx.harness.store.audit.list({
      action: 'firmware.rollout.*',
      limit: 100,
      offset: 0,
    });
    const actions = audit.items.map((a) => a.action);
    expect(actions).toContain('firmware.rollout.pause');
    expect(actions).toContain('firmware.rollout.resume');
    expect(audit.items.find((a) => a.action === 'firmware.rollout.complete')?.outcome).toBe(
      'failed',
    );
  }, 150_000);
});
