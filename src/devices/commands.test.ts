// Remote actions over Web Services through the real API: accepted, rejected with the device's
// reason, timed out against a device that never answers — each stored, listed and audited.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../api/api-test-harness.js';
import { json, startFakeDevice, type FakeDeviceServer } from './fake-device-server.js';

const now = () => new Date().toISOString();
const JOB = {
  id: 'job-cmd-1',
  name: 'Housing',
  owner: 'olivia',
  state: 'printing',
  progress: 10,
  startedAt: null,
  estimatedEndAt: null,
  endedAt: null,
  layer: 1,
  layers: 10,
  materialUsedG: null,
};

interface Command {
  id: string;
  status: string;
  channel: string;
  message: string | null;
  requestedBy: string;
}

describe('job commands over Web Services', () => {
  let h: Harness;
  let admin: string;
  let operator: string;
  let viewer: string;
  let device: FakeDeviceServer;

  beforeAll(async () => {
    h = await startHarness({
      devices: { pollActiveMs: 300, pollIdleMs: 300, commandTimeoutMs: 700 },
    });
    admin = await h.setupAdmin();
    operator = await h.loginAs('operator', 'olivia');
    viewer = await h.loginAs('dashboard', 'wall');
    device = await startFakeDevice({
      identity: {
        id: 'cmd-01',
        kind: 'printer',
        model: 'Fusion P5',
        serial: 'SN-1',
        name: 'Cmd',
        firmwareVersion: '1.0.0',
        apiVersion: 1,
      },
    });
    device.on('/ws/v1/status', (_req, res) =>
      json(res, 200, { ts: now(), state: 'printing', name: 'Cmd', firmwareVersion: '1', job: JOB }),
    );
    device.on('/ws/v1/consumables', (_req, res) => json(res, 200, { ts: now(), consumables: [] }));
    device.on('/ws/v1/alerts', (_req, res) => json(res, 200, { ts: now(), alerts: [] }));
    device.on('/ws/v1/jobs', (_req, res) => json(res, 200, { ts: now(), jobs: [JOB] }));
    const added = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      body: {
        url: device.baseUrl,
        username: 'admin',
        password: 'pw',
        fingerprint: device.fingerprint256,
      },
    });
    expect(added.status, added.text).toBe(201);
    // The first poll brings the device and its job into the fleet.
    for (let i = 0; i < 100; i++) {
      const res = await h.call('GET', '/api/v1/devices/cmd-01', { cookie: admin });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await h.close();
    await device.close();
  });

  const act = async (action: string, cookie: string) =>
    h.call('POST', `/api/v1/jobs/${JOB.id}/${action}`, { cookie });

  it('reports accepted with the device message', async () => {
    device.on(`/ws/v1/jobs/${JOB.id}/pause`, (_req, res) =>
      json(res, 200, { accepted: true, message: 'paused at layer 1', ts: now() }),
    );
    const res = await act('pause', operator);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      status: 'accepted',
      channel: 'web-services',
      message: 'paused at layer 1',
      requestedBy: 'olivia',
    });
  });

  it('reports rejected with the device reason', async () => {
    device.on(`/ws/v1/jobs/${JOB.id}/resume`, (_req, res) =>
      json(res, 409, { error: { code: 'REJECTED', message: 'lid open' } }),
    );
    const res = await act('resume', operator);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: 'rejected', message: 'lid open' });
  });

  it('reports timed out when the device accepts the request and never answers', async () => {
    device.on(`/ws/v1/jobs/${JOB.id}/cancel`, () => undefined);
    const started = Date.now();
    const res = await act('cancel', operator);
    expect(res.status, res.text).toBe(200);
    expect((res.json as Command).status).toBe('timed-out');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('lets operators act and not the wall display; stores, lists and audits every command', async () => {
    const denied = await act('pause', viewer);
    expect(denied.status).toBe(403);
    const list = await h.call('GET', '/api/v1/commands?deviceId=cmd-01', { cookie: admin });
    const items = (list.json as { items: Command[] }).items;
    expect(items.map((c) => c.status).sort()).toEqual(['accepted', 'rejected', 'timed-out']);
    const one = await h.call('GET', `/api/v1/commands/${items[0]!.id}`, { cookie: admin });
    expect(one.json).toMatchObject({ id: items[0]!.id });
    const filtered = await h.call('GET', '/api/v1/commands?status=timed-out', { cookie: admin });
    expect((filtered.json as { items: Command[] }).items).toHaveLength(1);
    const audit = await h.call('GET', '/api/v1/audit?actor=olivia&action=job.*', { cookie: admin });
    const outcomes = (audit.json as { items: { action: string; outcome: string }[] }).items.map(
      (e) => `${e.action}:${e.outcome}`,
    );
    expect(outcomes.sort()).toEqual(['job.cancel:failed', 'job.pause:ok', 'job.resume:refused']);
    expect(
      (await h.call('GET', '/api/v1/commands?status=exploded', { cookie: admin })).status,
    ).toBe(400);
  });
});
