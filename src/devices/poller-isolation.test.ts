// One bad device never hurts another: a device whose Web Services answer garbage, errors,
// redirects, floods or silence is backed off and counted while a good device beside it keeps
// updating — and once the bad one behaves, it is polled into the fleet like any other.

import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../api/api-test-harness.js';
import { json, startFakeDevice, type FakeDeviceServer } from './fake-device-server.js';

const identity = (id: string) => ({
  id,
  kind: 'printer',
  model: 'Fusion P5',
  serial: `SN-${id}`,
  name: id,
  firmwareVersion: '1.0.0',
  apiVersion: 1,
});

const now = () => new Date().toISOString();

function serveGood(device: FakeDeviceServer, state = 'printing'): void {
  const job = {
    id: `job-${device.baseUrl.split(':').at(-1)}`,
    name: 'Bracket',
    owner: 'olivia',
    state: 'printing',
    progress: 40,
    startedAt: now(),
    estimatedEndAt: null,
    endedAt: null,
    layer: 10,
    layers: 100,
    materialUsedG: 12,
  };
  device.on('/ws/v1/status', (_req, res) =>
    json(res, 200, {
      ts: now(),
      state,
      name: 'Good',
      firmwareVersion: '1.0.0',
      job: state === 'printing' ? job : null,
    }),
  );
  device.on('/ws/v1/consumables', (_req, res) => json(res, 200, { ts: now(), consumables: [] }));
  device.on('/ws/v1/alerts', (_req, res) => json(res, 200, { ts: now(), alerts: [] }));
  device.on('/ws/v1/jobs', (_req, res) =>
    json(res, 200, { ts: now(), jobs: state === 'printing' ? [job] : [] }),
  );
}

/** Each status request gets the next kind of misbehaviour. */
const HOSTILE: Array<(res: ServerResponse) => void> = [
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ts": "2026-11-25T10:00:00Z", "state": ');
  },
  (res) =>
    json(res, 200, { ts: 12, state: ['printing'], name: null, firmwareVersion: {}, job: 'yes' }),
  (res) => json(res, 500, { error: { code: 'INTERNAL', message: 'boom' } }),
  (res) => {
    res.writeHead(301, { location: 'https://127.0.0.1:1/ws/v1/status' });
    res.end();
  },
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 50 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  },
  () => undefined, // accepts and never answers
];

describe('poller isolation', () => {
  let h: Harness;
  let admin: string;
  let good: FakeDeviceServer;
  let bad: FakeDeviceServer;

  beforeAll(async () => {
    h = await startHarness({
      devices: {
        pollActiveMs: 200,
        pollIdleMs: 200,
        requestTimeoutMs: 500,
        backoffMaxMs: 400,
        maxResponseBytes: 256 * 1024,
      },
    });
    admin = await h.setupAdmin();
    good = await startFakeDevice({ identity: identity('good-01') });
    bad = await startFakeDevice({ identity: identity('bad-01') });
    serveGood(good);
    serveGood(bad);
    let n = 0;
    bad.on('/ws/v1/status', (_req, res) => {
      const misbehave = HOSTILE[n % HOSTILE.length]!;
      n += 1;
      misbehave(res);
    });
    for (const d of [good, bad]) {
      const res = await h.call('POST', '/api/v1/devices', {
        cookie: admin,
        body: {
          url: d.baseUrl,
          username: 'admin',
          password: 'pw',
          fingerprint: d.fingerprint256,
        },
      });
      expect(res.status, res.text).toBe(201);
    }
  });

  afterAll(async () => {
    await h.close();
    await good.close();
    await bad.close();
  });

  async function seen(id: string): Promise<{ state: string; lastSeenAt: string } | undefined> {
    const res = await h.call('GET', `/api/v1/devices/${id}`, { cookie: admin });
    return res.status === 200 ? (res.json as { state: string; lastSeenAt: string }) : undefined;
  }

  async function outcomes(): Promise<Record<string, number>> {
    const metric = await h.metrics.getSingleMetric('cc_device_polls_total')?.get();
    const out: Record<string, number> = {};
    for (const v of metric?.values ?? []) out[String(v.labels.outcome)] = v.value;
    return out;
  }

  it('keeps the good device fresh while the bad one cycles through every misbehaviour', async () => {
    await expect
      .poll(async () => (await seen('good-01'))?.state, { timeout: 5000 })
      .toBe('printing');
    const first = (await seen('good-01'))!.lastSeenAt;
    await expect
      .poll(
        async () => {
          const o = await outcomes();
          return (o.DEVICE_BAD_RESPONSE ?? 0) >= 4 && (o.DEVICE_TIMEOUT ?? 0) >= 1;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    const later = (await seen('good-01'))!.lastSeenAt;
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    // Nothing the bad device said reached the fleet state.
    expect(await seen('bad-01')).toBeUndefined();
    const jobs = await h.call('GET', '/api/v1/jobs?deviceId=bad-01', { cookie: admin });
    expect((jobs.json as { total: number }).total).toBe(0);
    // Memory stayed bounded: the 50 MB answers were cut off, not buffered.
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });

  it('polls the bad device into the fleet once it behaves', async () => {
    serveGood(bad, 'idle');
    await expect.poll(async () => (await seen('bad-01'))?.state, { timeout: 5000 }).toBe('idle');
  });
});
