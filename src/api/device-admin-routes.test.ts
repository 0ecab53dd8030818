// Adding, approving, editing and removing devices, discovery, job actions and the audit log over
// the real API, against a real HTTPS device on loopback — including bad input and bad devices.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startFakeDevice, type FakeDeviceServer } from '../devices/fake-device-server.js';
import { startHarness, type Answer, type Harness } from './api-test-harness.js';

const NOW = () => new Date().toISOString();

let h: Harness;
let admin: string;
let operator: string;
let device: FakeDeviceServer;

function code(answer: Answer): string | undefined {
  return (answer.json as { error?: { code: string } } | undefined)?.error?.code;
}

function expectCleanError(answer: Answer, status: number, errorCode?: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.json).toMatchObject({
    error: { code: expect.any(String) as string, message: expect.any(String) as string },
  });
  if (errorCode !== undefined) expect(code(answer)).toBe(errorCode);
  expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+/);
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.setupAdmin();
  await h.createSites('site-a', 'site-b');
  operator = await h.loginAs('operator', 'olivia');
  device = await startFakeDevice();
  device.on('/ws/v1/status', (_req, res) =>
    json(res, 200, { ts: NOW(), state: 'idle', name: 'Fake', firmwareVersion: '1.0.0', job: null }),
  );
  device.on('/ws/v1/consumables', (_req, res) => json(res, 200, { ts: NOW(), consumables: [] }));
  device.on('/ws/v1/alerts', (_req, res) => json(res, 200, { ts: NOW(), alerts: [] }));
  device.on('/ws/v1/jobs', (_req, res) => json(res, 200, { ts: NOW(), jobs: [] }));
});

afterAll(async () => {
  await h.close();
  await device.close();
});

describe('adding a device', () => {
  it('probes an address and shows identity and fingerprint', async () => {
    const res = await h.call('POST', '/api/v1/devices/probe', {
      cookie: admin,
      body: { url: device.baseUrl },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      baseUrl: device.baseUrl,
      identity: { id: 'fake-01', kind: 'printer' },
      certificate: { fingerprint256: device.fingerprint256, selfSigned: true },
    });
  });

  it('refuses bad input with clear 4xx errors', async () => {
    const bad: unknown[] = [
      { url: 'http://127.0.0.1:1', username: 'admin', password: 'x' },
      { url: `${device.baseUrl}/ws/v1`, username: 'admin', password: 'x' },
      { url: device.baseUrl, username: 'admin' },
      { url: device.baseUrl, username: 'a:b', password: 'x' },
      { url: device.baseUrl, username: 'admin', password: 'x'.repeat(5000) },
      { url: device.baseUrl, username: 'admin', password: 'x', fingerprint: 'not-a-digest' },
      { url: device.baseUrl, username: 'admin', password: 'x', extra: true },
      { url: { host: 'x' }, username: 'admin', password: 'x' },
      [],
    ];
    for (const body of bad) {
      const res = await h.call('POST', '/api/v1/devices', { cookie: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectCleanError(res, 400);
    }
    const garbage = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      raw: '{"url": ',
      headers: { 'content-type': 'application/json' },
    });
    expectCleanError(garbage, 400);
  });

  it('reports an address where nothing answers as unreachable', async () => {
    const res = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      body: { url: '127.0.0.1:1', username: 'admin', password: 'pw' },
    });
    expectCleanError(res, 502, 'DEVICE_UNREACHABLE');
  });

  it('refuses a fingerprint that does not match, and audits it', async () => {
    const res = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      body: {
        url: device.baseUrl,
        username: 'admin',
        password: 'pw',
        fingerprint: 'AB'.repeat(32),
      },
    });
    expectCleanError(res, 409, 'CONFLICT');
    expect(res.text).toContain(device.fingerprint256);
  });

  it('keeps an unconfirmed device pending, then pins on approval', async () => {
    const added = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      body: { url: device.baseUrl, username: 'admin', password: 'pw', name: 'Fake One' },
    });
    expect(added.status, added.text).toBe(201);
    expect(added.json).toMatchObject({
      registration: { deviceId: 'fake-01', pinState: 'pending', fingerprint256: null },
    });
    expect(device.requests.some((r) => r.authorization !== undefined)).toBe(false);

    const again = await h.call('POST', '/api/v1/devices', {
      cookie: admin,
      body: { url: device.baseUrl, username: 'admin', password: 'pw' },
    });
    expectCleanError(again, 409, 'DEVICE_EXISTS');

    const wrong = await h.call('POST', '/api/v1/devices/fake-01/approve', {
      cookie: admin,
      body: { fingerprint: 'CD'.repeat(32) },
    });
    expectCleanError(wrong, 409, 'CONFLICT');

    const approved = await h.call('POST', '/api/v1/devices/fake-01/approve', {
      cookie: admin,
      body: { fingerprint: device.fingerprint256.replace(/:/g, '').toLowerCase() },
    });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json).toMatchObject({
      pinState: 'pinned',
      fingerprint256: device.fingerprint256,
      approvedBy: 'admin',
    });
    await expect
      .poll(
        async () => (await h.call('GET', '/api/v1/devices/fake-01', { cookie: admin })).status,
        {
          timeout: 5000,
        },
      )
      .toBe(200);
    const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
    expect(device.requests.find((r) => r.line === 'GET /ws/v1/status')?.authorization).toBe(auth);
  });

  it('never shows the device password', async () => {
    const regs = await h.call('GET', '/api/v1/registrations', { cookie: admin });
    expect(regs.status).toBe(200);
    expect(regs.text).not.toContain('"pw"');
    expect(regs.text).not.toContain('password');
  });

  it('renames and moves, refusing empty and unknown', async () => {
    const res = await h.call('PATCH', '/api/v1/devices/fake-01', {
      cookie: admin,
      body: { name: 'Line 2 printer', siteId: 'site-b' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ displayName: 'Line 2 printer', siteId: 'site-b' });
    expectCleanError(
      await h.call('PATCH', '/api/v1/devices/fake-01', { cookie: admin, body: {} }),
      400,
    );
    expectCleanError(
      await h.call('PATCH', '/api/v1/devices/nope', { cookie: admin, body: { name: 'x' } }),
      404,
    );
    expectCleanError(
      await h.call('PATCH', '/api/v1/devices/fake-01', {
        cookie: admin,
        body: { name: 'a\u0000b' },
      }),
      400,
    );
  });

  it('lets only admins manage devices', async () => {
    const body = { url: device.baseUrl, username: 'admin', password: 'pw' };
    expectCleanError(await h.call('POST', '/api/v1/devices', { cookie: operator, body }), 403);
    expectCleanError(await h.call('DELETE', '/api/v1/devices/fake-01', { cookie: operator }), 403);
    expectCleanError(await h.call('POST', '/api/v1/devices', { body }), 401);
    expectCleanError(await h.call('GET', '/api/v1/audit', { cookie: operator }), 403);
  });
});

describe('discovery', () => {
  it('finds the device and marks it registered; refuses oversized and malformed targets', async () => {
    const res = await h.call('POST', '/api/v1/devices/discover', {
      cookie: admin,
      body: { targets: [new URL(device.baseUrl).host, '127.0.0.1:1'], timeoutMs: 1000 },
    });
    expect(res.status, res.text).toBe(200);
    const body = res.json as {
      found: { identity: { id: string }; registered: boolean }[];
      probed: number;
    };
    expect(body.probed).toBe(2);
    expect(body.found).toEqual([
      expect.objectContaining({
        identity: expect.objectContaining({ id: 'fake-01' }) as unknown,
        registered: true,
      }),
    ]);
    for (const targets of [['10.0.0.0/8'], ['300.1.2.3'], ['a b'], []]) {
      const bad = await h.call('POST', '/api/v1/devices/discover', {
        cookie: admin,
        body: { targets },
      });
      expectCleanError(bad, 400);
    }
  });
});

describe('job actions', () => {
  it('answers 404 for an unknown job and 400 for an unknown action', async () => {
    expectCleanError(await h.call('POST', '/api/v1/jobs/nope/pause', { cookie: operator }), 404);
    expectCleanError(await h.call('POST', '/api/v1/jobs/nope/explode', { cookie: operator }), 400);
  });
});

describe('removal and audit', () => {
  it('removes the device and records who did what', async () => {
    const res = await h.call('DELETE', '/api/v1/devices/fake-01', { cookie: admin });
    expect(res.status, res.text).toBe(204);
    expectCleanError(await h.call('DELETE', '/api/v1/devices/fake-01', { cookie: admin }), 404);
    const audit = await h.call('GET', '/api/v1/audit?limit=50', { cookie: admin });
    expect(audit.status, audit.text).toBe(200);
    const entries = (
      audit.json as { items: { action: string; outcome: string; actor: string }[] }
    ).items.filter((e) => e.action.startsWith('device.'));
    const seen = entries.map((e) => `${e.action}:${e.outcome}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'device.add:refused',
        'device.add:ok',
        'device.approve:refused',
        'device.approve:ok',
        'device.update:ok',
        'device.remove:ok',
      ]),
    );
    expect(entries.every((e) => e.actor === 'admin')).toBe(true);
    expect(audit.text).not.toContain('"pw"');
  });
});
