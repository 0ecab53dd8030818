// Site scope over the real API: a site-scoped user or token sees only devices of its sites (lists,
// one device, metrics, jobs, alerts, commands, the live stream), gets the same 404 for a device of
// another site as for one that does not exist, cannot act on it, and manages devices only within
// its sites; a token's sites follow its user's current scope.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  alert,
  deviceView,
  job,
  startHarness,
  type Answer,
  type Harness,
} from './api-test-harness.js';

let h: Harness;
let admin: string;
let olga: string;

const DEVICES = [
  deviceView('pa1', { siteId: 'hall-a' }),
  deviceView('pb1', { siteId: 'hall-b' }),
  deviceView('pn', { siteId: null }),
  deviceView('plegacy', { siteId: 'old-hall' }),
];

function ids(answer: Answer): string[] {
  expect(answer.status, answer.text).toBe(200);
  return (answer.json as { items: { id: string }[] }).items.map((i) => i.id).sort();
}

function expectHidden(answer: Answer, code = 'DEVICE_NOT_FOUND'): void {
  expect(answer.status, answer.text).toBe(404);
  expect(answer.json).toMatchObject({ error: { code } });
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.setupAdmin();
  await h.createSites('hall-a', 'hall-b');
  const { currentJob: _c, consumables: _k, openAlerts: _o, metrics: _m, ...base } = DEVICES[0]!;
  await h.store.applyBatch({
    devices: DEVICES.map(
      ({ currentJob: _j, consumables: _cs, openAlerts: _a, metrics: _ms, ...d }) => ({
        ...base,
        ...d,
      }),
    ),
    jobs: [job('ja', { deviceId: 'pa1' }), job('jb', { deviceId: 'pb1' })],
    alerts: [alert('aa', { deviceId: 'pa1' }), alert('ab', { deviceId: 'pb1' })],
    consumables: [],
    metrics: [],
  });
  for (const device of DEVICES) h.ingest.emit({ type: 'device', device });
  for (const [id, deviceId] of [
    ['ca', 'pa1'],
    ['cb', 'pb1'],
  ] as const) {
    await h.store.commands.create({
      id,
      deviceId,
      action: 'pause',
      targetId: 'j',
      channel: 'mqtt',
      status: 'accepted',
      message: null,
      requestedBy: 'admin',
      requestedAt: new Date().toISOString(),
      completedAt: null,
    });
  }
  olga = await h.loginAs('operator', 'olga', { sites: ['hall-a'] });
});

afterAll(async () => {
  await h.close();
});

describe('a site-scoped operator', () => {
  it('lists only the devices, jobs, alerts, commands and sites of its sites', async () => {
    expect(ids(await h.call('GET', '/api/v1/devices', { cookie: olga }))).toEqual(['pa1']);
    expect(ids(await h.call('GET', '/api/v1/devices?siteId=hall-b', { cookie: olga }))).toEqual([]);
    expect(ids(await h.call('GET', '/api/v1/jobs', { cookie: olga }))).toEqual(['ja']);
    expect(ids(await h.call('GET', '/api/v1/jobs?deviceId=pb1', { cookie: olga }))).toEqual([]);
    expect(ids(await h.call('GET', '/api/v1/alerts', { cookie: olga }))).toEqual(['aa']);
    expect(ids(await h.call('GET', '/api/v1/commands', { cookie: olga }))).toEqual(['ca']);
    expect(ids(await h.call('GET', '/api/v1/sites', { cookie: olga }))).toEqual(['hall-a']);
  });

  it('gets the same 404 for a device of another site as for one that does not exist', async () => {
    const missing = await h.call('GET', '/api/v1/devices/nope', { cookie: olga });
    for (const id of ['pb1', 'pn', 'plegacy']) {
      const hidden = await h.call('GET', `/api/v1/devices/${id}`, { cookie: olga });
      expectHidden(hidden);
      expect((hidden.json as { error: { message: string } }).error.message).toBe(
        `no device with id ${id}`,
      );
      expectHidden(await h.call('GET', `/api/v1/devices/${id}/metrics`, { cookie: olga }));
    }
    expectHidden(missing);
    expect((await h.call('GET', '/api/v1/devices/pa1', { cookie: olga })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/devices/pa1/metrics', { cookie: olga })).status).toBe(200);
    expectHidden(await h.call('GET', '/api/v1/commands/cb', { cookie: olga }), 'NOT_FOUND');
    expect((await h.call('GET', '/api/v1/commands/ca', { cookie: olga })).status).toBe(200);
  });

  it('cannot act on a device of another site', async () => {
    expectHidden(await h.call('POST', '/api/v1/alerts/ab/ack', { cookie: olga }), 'NOT_FOUND');
    expectHidden(await h.call('POST', '/api/v1/jobs/jb/pause', { cookie: olga }), 'NOT_FOUND');
    expect((await h.store.alerts.get('ab'))?.acknowledgedBy).toBeNull();
    const ack = await h.call('POST', '/api/v1/alerts/aa/ack', { cookie: olga });
    expect(ack.status, ack.text).toBe(200);
  });

  it('sees only its sites on the live stream, and a device leaving them as removed', async () => {
    const ws = new WebSocket(`${h.server.urls.https.replace('https:', 'wss:')}/api/v1/stream`, {
      ca: h.certPem,
      headers: { cookie: olga, origin: h.server.urls.https },
    });
    const messages: {
      type: string;
      devices?: { id: string }[];
      device?: { id: string };
      deviceId?: string;
      job?: { id: string };
    }[] = [];
    ws.on('message', (raw: Buffer) => messages.push(JSON.parse(raw.toString()) as never));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const until = async (pred: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(JSON.stringify(messages).slice(0, 800));
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => messages.some((m) => m.type === 'snapshot'));
    expect(messages.find((m) => m.type === 'snapshot')?.devices?.map((d) => d.id)).toEqual(['pa1']);
    h.ingest.emit({
      type: 'device',
      device: deviceView('pb1', { siteId: 'hall-b', state: 'error' }),
    });
    h.ingest.emit({ type: 'job', job: job('jb2', { deviceId: 'pb1' }) });
    h.ingest.emit({ type: 'job', job: job('ja2', { deviceId: 'pa1' }) });
    h.ingest.emit({
      type: 'device',
      device: deviceView('pa1', { siteId: 'hall-a', state: 'printing' }),
    });
    await until(() => messages.some((m) => m.type === 'device' && m.device?.id === 'pa1'));
    h.ingest.emit({ type: 'device', device: deviceView('pa1', { siteId: 'hall-b' }) });
    await until(() => messages.some((m) => m.type === 'device-removed'));
    h.ingest.emit({ type: 'device', device: deviceView('pa1', { siteId: 'hall-a' }) });
    await until(() => messages.filter((m) => m.type === 'device').length >= 2);
    const seen = JSON.stringify(messages);
    expect(seen).not.toContain('pb1');
    expect(seen).not.toContain('jb2');
    expect(messages.some((m) => m.job?.id === 'ja2')).toBe(true);
    expect(messages.find((m) => m.type === 'device-removed')).toEqual({
      type: 'device-removed',
      deviceId: 'pa1',
    });
    ws.terminate();
  });
});

describe('site-scoped API tokens', () => {
  it('see only the token’s sites, narrowed by the user’s current sites', async () => {
    const created = await h.call('POST', '/api/v1/tokens', {
      cookie: admin,
      body: { name: 'hall b kiosk', role: 'dashboard', sites: ['hall-b'] },
    });
    const hallB = (created.json as { token: string }).token;
    expect(ids(await h.call('GET', '/api/v1/devices', { token: hallB }))).toEqual(['pb1']);
    expectHidden(await h.call('GET', '/api/v1/devices/pa1', { token: hallB }));
    expect(ids(await h.call('GET', '/api/v1/alerts', { token: hallB }))).toEqual(['ab']);

    const scopedUser = await h.loginAs('operator', 'oskar', { sites: ['hall-a', 'hall-b'] });
    const own = await h.call('POST', '/api/v1/tokens', {
      cookie: scopedUser,
      body: { name: 'mine', sites: ['hall-b'] },
    });
    const token = (own.json as { token: string }).token;
    expect(ids(await h.call('GET', '/api/v1/devices', { token }))).toEqual(['pb1']);
    const oskar = (await h.store.users.byUsername('oskar'))!.id;
    await h.call('PATCH', `/api/v1/users/${oskar}`, { cookie: admin, body: { sites: ['hall-a'] } });
    // The user lost hall-b: the token, limited to hall-b, now sees nothing.
    expect(ids(await h.call('GET', '/api/v1/devices', { token }))).toEqual([]);
    expectHidden(await h.call('GET', '/api/v1/devices/pb1', { token }));
    await h.call('PATCH', `/api/v1/users/${oskar}`, { cookie: admin, body: { disabled: true } });
    expect((await h.call('GET', '/api/v1/devices', { token })).status).toBe(401);
  });

  it('refuses a token scoped beyond its creator’s sites', async () => {
    const res = await h.call('POST', '/api/v1/tokens', {
      cookie: olga,
      body: { name: 'wide', sites: ['hall-b'] },
    });
    expect(res.status).toBe(403);
  });
});

describe('device administration within scope', () => {
  it('lets a site-scoped admin manage only devices of its sites, into its sites', async () => {
    const ada = await h.loginAs('admin', 'ada', { sites: ['hall-a'] });
    expectHidden(
      await h.call('PATCH', '/api/v1/devices/pb1', { cookie: ada, body: { name: 'x' } }),
    );
    expectHidden(await h.call('DELETE', '/api/v1/devices/pb1', { cookie: ada }));
    expectHidden(await h.call('GET', '/api/v1/devices/pb1/registration', { cookie: ada }));
    expectHidden(await h.call('POST', '/api/v1/devices/pb1/mqtt-token', { cookie: ada }));
    const outside = await h.call('PATCH', '/api/v1/devices/pa1', {
      cookie: ada,
      body: { siteId: 'hall-b' },
    });
    expect(outside.status, outside.text).toBe(400);
    expect(
      (await h.call('PATCH', '/api/v1/devices/pa1', { cookie: ada, body: { siteId: null } }))
        .status,
    ).toBe(400);
    const renamed = await h.call('PATCH', '/api/v1/devices/pa1', {
      cookie: ada,
      body: { name: 'Line A', siteId: 'hall-a' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    const regs = (await h.call('GET', '/api/v1/registrations', { cookie: ada })).json as {
      items: { deviceId: string }[];
    };
    expect(regs.items.map((r) => r.deviceId)).toEqual(['pa1']);
    expect(
      (await h.call('POST', '/api/v1/sites', { cookie: ada, body: { id: 'x', name: 'X' } })).status,
    ).toBe(403);
  });

  it('moves a device only to a site that exists; unscoped users still see legacy sites', async () => {
    const bad = await h.call('PATCH', '/api/v1/devices/pb1', {
      cookie: admin,
      body: { siteId: 'nowhere' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(ids(await h.call('GET', '/api/v1/devices', { cookie: admin }))).toEqual([
      'pa1',
      'pb1',
      'plegacy',
      'pn',
    ]);
  });
});

describe('organization-wide records', () => {
  it('keeps the audit log, settings and cloud from a site-scoped admin', async () => {
    const scoped = await h.loginAs('admin', 'audra', { sites: ['hall-a'] });
    const audit = await h.call('GET', '/api/v1/audit', { cookie: scoped });
    expect(audit.status).toBe(403);
    expect(audit.json).toMatchObject({
      error: { code: 'FORBIDDEN', message: expect.stringContaining('every site') as string },
    });
    const me = (await h.call('GET', '/api/v1/auth/me', { cookie: scoped })).json as {
      permissions: string[];
    };
    expect(me.permissions).toContain('users:manage');
    for (const wide of ['audit:read', 'settings:manage', 'cloud:manage']) {
      expect(me.permissions).not.toContain(wide);
    }
    expect((await h.call('GET', '/api/v1/audit', { cookie: admin })).status).toBe(200);
  });
});
