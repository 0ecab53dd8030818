// Devices, device metric history, jobs and alerts: filters, pagination, validation, not-found and
// acknowledgement, over real HTTPS with a real SQLite store.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, deviceView, job, startHarness, type Harness } from './api-test-harness.js';

let h: Harness;
let cookie: string;
const now = Date.now();

beforeAll(async () => {
  h = await startHarness();
  cookie = await h.setupAdmin();
  const views = [
    deviceView('p1', { name: 'Alpha', state: 'printing' }),
    deviceView('p2', { name: 'Bravo', siteId: 'site-b' }),
    deviceView('s1', { name: 'Charlie', kind: 'processing-station', state: 'error' }),
  ];
  for (const v of views) h.ingest.devices.set(v.id, v);
  const { currentJob: _j, consumables: _c, openAlerts: _a, metrics: _m, ...p1 } = views[0]!;
  const metrics = [];
  for (let i = 0; i < 120; i++) {
    metrics.push({
      deviceId: 'p1',
      name: 'chamberTemp',
      ts: new Date(now - 30 * 60_000 + i * 10_000).toISOString(),
      value: 20 + i,
    });
  }
  await h.store.applyBatch({
    devices: [p1],
    jobs: [job('j1'), job('j2', { owner: 'bob', state: 'completed', progress: 100 })],
    alerts: [
      alert('a1'),
      alert('a2', { severity: 'critical', clearedAt: '2024-03-01T13:00:00.000Z' }),
    ],
    consumables: [],
    metrics,
  });
});
afterAll(async () => {
  await h.close();
});

type DevicePage = { items: Array<{ id: string }>; total: number; limit: number; offset: number };
const ids = (body: unknown) => (body as DevicePage).items.map((d) => d.id);

describe('devices', () => {
  it('lists with filters, sort and pagination', async () => {
    const all = await h.call('GET', '/api/v1/devices', { cookie });
    expect(all.json).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect(ids(all.json)).toEqual(['p1', 'p2', 's1']);
    expect(
      ids((await h.call('GET', '/api/v1/devices?kind=processing-station', { cookie })).json),
    ).toEqual(['s1']);
    expect(ids((await h.call('GET', '/api/v1/devices?siteId=site-b', { cookie })).json)).toEqual([
      'p2',
    ]);
    expect(ids((await h.call('GET', '/api/v1/devices?state=error', { cookie })).json)).toEqual([
      's1',
    ]);
    expect(ids((await h.call('GET', '/api/v1/devices?q=BRAV', { cookie })).json)).toEqual(['p2']);
    expect(
      ids((await h.call('GET', '/api/v1/devices?sort=name&order=desc', { cookie })).json),
    ).toEqual(['s1', 'p2', 'p1']);
    const page = await h.call('GET', '/api/v1/devices?limit=1&offset=1', { cookie });
    expect(page.json).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(ids(page.json)).toEqual(['p2']);
  });

  it('answers one device or 404 DEVICE_NOT_FOUND', async () => {
    const one = await h.call('GET', '/api/v1/devices/p1', { cookie });
    expect(one.json).toMatchObject({ id: 'p1', name: 'Alpha', currentJob: null, metrics: {} });
    const missing = await h.call('GET', '/api/v1/devices/nope', { cookie });
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: { code: 'DEVICE_NOT_FOUND' } });
  });
});

describe('device metrics', () => {
  it('defaults to the last hour with at most about 500 points', async () => {
    const res = await h.call('GET', '/api/v1/devices/p1/metrics', { cookie });
    expect(res.status).toBe(200);
    const body = res.json as {
      stepSeconds: number;
      series: Array<{ name: string; points: unknown[] }>;
    };
    expect(body.stepSeconds).toBe(8);
    expect(body.series[0]?.name).toBe('chamberTemp');
    expect(body.series[0]!.points.length).toBeGreaterThan(50);
    expect(body.series[0]!.points.length).toBeLessThanOrEqual(500);
  });

  it('honours names and an explicit step', async () => {
    const res = await h.call(
      'GET',
      '/api/v1/devices/p1/metrics?names=chamberTemp,humidity&step=600',
      { cookie },
    );
    const body = res.json as { series: Array<{ name: string; points: unknown[] }> };
    expect(body.series.map((s) => s.name)).toEqual(['chamberTemp', 'humidity']);
    expect(body.series[1]!.points).toEqual([]);
  });

  it.each([
    ['from after to', 'from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z'],
    ['an empty range', 'from=2024-03-01T00:00:00Z&to=2024-03-01T00:00:00Z'],
    ['a huge range', 'from=1990-01-01T00:00:00Z&to=2024-03-01T00:00:00Z'],
    ['too many points', 'from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z&step=1'],
    ['a zero step', 'step=0'],
    ['a fractional step', 'step=1.5'],
    ['a non-time', 'from=yesterday'],
    ['a hostile name', "names=temp';DROP TABLE x"],
    ['too many names', `names=${Array.from({ length: 40 }, (_, i) => `m${i}`).join(',')}`],
    ['an unknown parameter', 'evil=1'],
  ])('refuses %s with 400', async (_why, query) => {
    const res = await h.call('GET', `/api/v1/devices/p1/metrics?${query}`, { cookie });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('answers 404 for an unknown device', async () => {
    expect((await h.call('GET', '/api/v1/devices/zz/metrics', { cookie })).status).toBe(404);
  });
});

describe('jobs and alerts', () => {
  it('lists jobs with filters; users see only their own', async () => {
    const all = await h.call('GET', '/api/v1/jobs', { cookie });
    expect(all.json).toMatchObject({ total: 2 });
    const done = await h.call('GET', '/api/v1/jobs?state=completed', { cookie });
    expect(ids(done.json)).toEqual(['j2']);
    const bob = await h.loginAs('user', 'bob');
    const own = await h.call('GET', '/api/v1/jobs?owner=alice', { cookie: bob });
    expect(ids(own.json)).toEqual(['j2']);
  });

  it('lists alerts with filters and acknowledges one', async () => {
    const open = await h.call('GET', '/api/v1/alerts?status=open', { cookie });
    expect(ids(open.json)).toEqual(['a1']);
    expect(ids((await h.call('GET', '/api/v1/alerts?severity=critical', { cookie })).json)).toEqual(
      ['a2'],
    );
    const operator = await h.loginAs('operator', 'olga');
    const ack = await h.call('POST', '/api/v1/alerts/a1/ack', { cookie: operator, body: {} });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ id: 'a1', acknowledgedBy: 'olga' });
    const missing = await h.call('POST', '/api/v1/alerts/nope/ack', { cookie: operator, body: {} });
    expect(missing.status).toBe(404);
  });
});
