import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TS,
  at,
  counterValue,
  json,
  startHarness,
  statePayload,
  type Harness,
} from './ingest-test-harness.js';

const JOB = { id: 'j1', name: 'bracket', owner: 'ana', state: 'printing', progress: 40 };
const ALERT = { id: 'a1', code: 'E42', severity: 'error', message: 'door open', raisedAt: TS };

describe('ingest on a real SQLite store', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('stores an accepted state snapshot and emits the device change', async () => {
    const out = await h.ingest.handle(
      'p1',
      'state',
      statePayload(TS, {
        state: 'printing',
        job: JOB,
        consumables: [{ slot: 'A', type: 'agent', level: 70, status: 'ok' }],
        alerts: [ALERT],
      }),
    );
    expect(out).toEqual({ accepted: true });
    expect(await h.store.devices.get('p1')).toMatchObject({ state: 'printing', stateAt: TS });
    expect(await h.store.jobs.get('j1')).toMatchObject({ progress: 40, deviceId: 'p1' });
    expect(await h.store.alerts.open()).toMatchObject([{ id: 'a1', deviceId: 'p1' }]);
    expect(await h.store.consumables.forDevice('p1')).toMatchObject([{ slot: 'A', level: 70 }]);
    expect(h.changes.map((c) => c.type).sort()).toEqual(['alert', 'device', 'job']);
    expect(h.ingest.fleet.get('p1')?.currentJob?.id).toBe('j1');
    expect(await counterValue(h.registry, 'cc_ingest_messages_total', { channel: 'state' })).toBe(
      1,
    );
  });

  it('stores telemetry samples and events, and marks a device offline', async () => {
    await h.ingest.handle('p1', 'state', statePayload(TS));
    await h.ingest.handle('p1', 'telemetry', json({ ts: at(1), metrics: { temp: 210.5 } }));
    await h.ingest.handle('p1', 'events', json({ type: 'job.updated', ts: at(2), job: JOB }));
    await h.ingest.handle('p1', 'status', Buffer.from('offline'));
    const series = await h.store.metrics.query({
      deviceId: 'p1',
      names: ['temp'],
      from: TS,
      to: at(10),
      stepSeconds: 60,
    });
    expect(series[0]?.points[0]?.avg).toBe(210.5);
    expect(await h.store.jobs.get('j1')).toMatchObject({ state: 'printing' });
    expect(await h.store.devices.get('p1')).toMatchObject({ state: 'offline' });
    expect(h.ingest.fleet.get('p1')?.metrics['temp']?.value).toBe(210.5);
  });

  it('does not duplicate a job or an alert delivered twice', async () => {
    await h.ingest.handle('p1', 'state', statePayload(TS));
    const raised = json({ type: 'alert.raised', ts: at(1), alert: ALERT });
    const job = json({ type: 'job.updated', ts: at(1), job: JOB });
    for (let i = 0; i < 2; i++) {
      await h.ingest.handle('p1', 'events', raised);
      await h.ingest.handle('p1', 'events', job);
    }
    expect((await h.store.alerts.list({ limit: 10, offset: 0 })).total).toBe(1);
    expect((await h.store.jobs.list({ limit: 10, offset: 0 })).total).toBe(1);
    expect(h.changes.filter((c) => c.type === 'alert')).toHaveLength(1);
  });

  it('keeps events of a device not seen yet and shows it after its first state', async () => {
    await h.ingest.handle('p9', 'events', json({ type: 'job.updated', ts: at(1), job: JOB }));
    expect(h.ingest.fleet.get('p9')).toBeUndefined();
    expect(await h.store.jobs.get('j1')).toMatchObject({ deviceId: 'p9' });
    await h.ingest.handle('p9', 'state', statePayload(TS));
    expect(h.ingest.fleet.get('p9')?.currentJob?.id).toBe('j1');
  });

  it('loads the fleet back from the store on start', async () => {
    await h.ingest.handle('p1', 'state', statePayload(TS, { job: JOB, alerts: [ALERT] }));
    const { createIngest } = await import('./ingest.js');
    const { silentLogger, createMetricsRegistry } = await import('../observability/index.js');
    const again = createIngest(
      {
        store: h.store,
        logger: silentLogger(),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
      },
      { batchDelayMs: 1, batchMaxSize: 10, malformedLogIntervalMs: 1000, metricsRetentionDays: 1 },
    );
    await again.start();
    expect(again.fleet.get('p1')).toMatchObject({
      currentJob: { id: 'j1' },
      openAlerts: [{ id: 'a1' }],
    });
    await again.stop();
  });

  it('acknowledges an open alert once, and a cleared one from history', async () => {
    await h.ingest.handle('p1', 'state', statePayload(TS, { alerts: [ALERT] }));
    expect(await h.ingest.acknowledgeAlert('a1', 'ana')).toMatchObject({ acknowledgedBy: 'ana' });
    expect(await h.ingest.acknowledgeAlert('a1', 'bob')).toMatchObject({ acknowledgedBy: 'ana' });
    expect(await h.store.alerts.get('a1')).toMatchObject({ acknowledgedBy: 'ana' });
    expect(await h.ingest.acknowledgeAlert('nope', 'ana')).toBeUndefined();
    await h.ingest.handle(
      'p1',
      'events',
      json({ type: 'alert.raised', ts: at(1), alert: { ...ALERT, id: 'a2' } }),
    );
    await h.ingest.handle(
      'p1',
      'events',
      json({ type: 'alert.cleared', ts: at(2), alertId: 'a2' }),
    );
    expect(await h.ingest.acknowledgeAlert('a2', 'bob')).toMatchObject({
      acknowledgedBy: 'bob',
      clearedAt: at(2),
    });
  });

  it('keeps ingesting when a change listener throws', async () => {
    h.ingest.onChange(() => {
      throw new Error('listener bug');
    });
    expect(await h.ingest.handle('p1', 'state', statePayload(TS))).toEqual({ accepted: true });
    expect(h.changes).toHaveLength(1);
    expect(h.logLines().some((l) => l['msg'] === 'fleet change listener failed')).toBe(true);
  });
});

describe('ingest: malformed payloads', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ malformedLogIntervalMs: 60_000 });
  });
  afterEach(async () => {
    await h.close();
  });

  const hostile: [string, 'state' | 'telemetry' | 'events', Buffer, string][] = [
    ['malformed JSON', 'state', Buffer.from('{"ts"'), 'MALFORMED_JSON'],
    ['wrong types', 'state', statePayload(TS, { state: 7 }), 'SCHEMA_INVALID'],
    ['a huge payload', 'telemetry', Buffer.alloc(300 * 1024, 0x61), 'PAYLOAD_TOO_LARGE'],
    ['NaN via a string', 'telemetry', json({ ts: TS, metrics: { t: 'NaN' } }), 'SCHEMA_INVALID'],
    [
      'Infinity via a string',
      'telemetry',
      json({ ts: TS, metrics: { t: 'Infinity' } }),
      'SCHEMA_INVALID',
    ],
    [
      'a __proto__ key',
      'events',
      Buffer.from(`{"__proto__":{"x":1},"type":"alert.cleared","ts":"${TS}","alertId":"a"}`),
      'SCHEMA_INVALID',
    ],
    [
      '10k-deep nesting',
      'events',
      Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)),
      'SCHEMA_INVALID',
    ],
    ['binary garbage', 'state', Buffer.from([0x00, 0xff, 0x13, 0x37, 0xc3]), 'MALFORMED_JSON'],
  ];

  it('drops each with its code and counts it, while a good device is unaffected', async () => {
    let second = 0;
    for (const [, channel, payload, code] of hostile) {
      const bad = await h.ingest.handle('evil', channel, payload);
      expect(bad).toMatchObject({ accepted: false, code });
      second++;
      const good = await h.ingest.handle(
        'good',
        'telemetry',
        json({ ts: at(second), metrics: { t: second } }),
      );
      expect(good).toEqual({ accepted: true });
    }
    await h.ingest.handle('good', 'state', statePayload(TS));
    expect(h.ingest.fleet.get('good')?.metrics['t']?.value).toBe(hostile.length);
    expect(h.ingest.fleet.get('evil')).toBeUndefined();
    expect(await h.store.devices.get('evil')).toBeUndefined();
    expect(
      await counterValue(h.registry, 'cc_ingest_malformed_total', {
        channel: 'telemetry',
        reason: 'SCHEMA_INVALID',
      }),
    ).toBe(2);
    expect(
      await counterValue(h.registry, 'cc_ingest_malformed_total', { reason: 'MALFORMED_JSON' }),
    ).toBe(2);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('logs a device’s malformed payloads once per interval with the suppressed count', async () => {
    const warn = () =>
      h.logLines().filter((l) => l['msg'] === 'dropped a malformed device payload');
    for (let i = 0; i < 5; i++) await h.ingest.handle('evil', 'state', Buffer.from('nope'));
    await h.ingest.handle('other', 'events', Buffer.from('nope'));
    expect(warn().map((l) => [l['deviceId'], l['channel'], l['reason']])).toEqual([
      ['evil', 'state', 'MALFORMED_JSON'],
      ['other', 'events', 'MALFORMED_JSON'],
    ]);
    h.clock.now += 60_000;
    await h.ingest.handle('evil', 'telemetry', json({ ts: 'x', metrics: {} }));
    expect(warn()).toHaveLength(3);
    expect(warn()[2]).toMatchObject({ deviceId: 'evil', reason: 'SCHEMA_INVALID', suppressed: 4 });
    expect(await counterValue(h.registry, 'cc_ingest_malformed_total', { channel: 'state' })).toBe(
      5,
    );
  });

  it('refuses an unknown channel and an invalid device id without throwing', async () => {
    const channel = 'firmware' as unknown as 'state';
    expect(await h.ingest.handle('p1', channel, json({}))).toMatchObject({
      code: 'UNKNOWN_CHANNEL',
    });
    expect(await h.ingest.handle('../etc', 'state', statePayload(TS))).toMatchObject({
      code: 'INVALID_DEVICE_ID',
    });
  });
});

describe('ingest: group commit', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('groups many concurrent messages into few transactions and resolves all after commit', async () => {
    h = await startHarness({ batchDelayMs: 20, batchMaxSize: 100 });
    await h.ingest.handle('p1', 'state', statePayload(TS));
    const before = h.batches.length;
    const all = Array.from({ length: 250 }, (_, i) =>
      h.ingest.handle(
        'p1',
        'events',
        json({ type: 'job.updated', ts: at(i + 1), job: { ...JOB, progress: i % 100 } }),
      ),
    );
    const outcomes = await Promise.all(all);
    expect(outcomes.every((o) => o.accepted)).toBe(true);
    const used = h.batches.slice(before);
    expect(used.length).toBeGreaterThanOrEqual(3);
    expect(used.length).toBeLessThanOrEqual(5);
    // The same job and device updated 100 times in one batch are written once (the latest).
    expect(used[0]?.jobs).toHaveLength(1);
    expect(used[0]?.devices).toHaveLength(1);
    expect(await h.store.jobs.get('j1')).toMatchObject({ progress: 249 % 100, updatedAt: at(250) });
  });

  it('flushes pending writes on stop', async () => {
    h = await startHarness({ batchDelayMs: 1000, batchMaxSize: 1000 });
    const pending = h.ingest.handle('p1', 'state', statePayload(TS));
    await h.ingest.stop();
    expect(await pending).toEqual({ accepted: true });
    expect(await h.store.devices.get('p1')).toMatchObject({ id: 'p1' });
  });

  it('retries a failed commit, and rejects when the store keeps failing', async () => {
    h = await startHarness();
    h.failNext(1);
    expect(await h.ingest.handle('p1', 'state', statePayload(TS))).toEqual({ accepted: true });
    h.failNext(3);
    await expect(h.ingest.handle('p1', 'state', statePayload(at(1)))).rejects.toThrow(
      'disk unavailable',
    );
    expect(await h.store.devices.get('p1')).toMatchObject({ stateAt: TS });
    // The device resends after the failure: the same message is written this time.
    expect(await h.ingest.handle('p1', 'state', statePayload(at(1)))).toEqual({ accepted: true });
    expect(await h.store.devices.get('p1')).toMatchObject({ stateAt: at(1) });
  });
});
