// The WebSocket live stream over real TLS: authentication before the upgrade, Origin check for
// cookies, snapshot then live changes, coalescing per device, and disconnection of a client that
// stops reading, with server-side memory bounded by the fleet size.

import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceView, job, startHarness, type Harness } from './api-test-harness.js';

interface Message {
  type: string;
  device?: { id: string; name: string };
  devices?: Array<{ id: string }>;
  job?: { id: string };
}

let h: Harness;
let cookie: string;
const COALESCE_MS = 40;

beforeEach(async () => {
  h = await startHarness({
    stream: { coalesceMs: COALESCE_MS, maxBufferedBytes: 64 * 1024, slowClientGraceMs: 300 },
  });
  cookie = await h.setupAdmin();
  h.ingest.devices.set('p1', deviceView('p1'));
  h.ingest.devices.set('p2', deviceView('p2'));
});
afterEach(async () => {
  await h.close();
});

function streamUrl(): string {
  return `${h.server.urls.https.replace('https:', 'wss:')}/api/v1/stream`;
}

/** Opens a stream client and collects its messages; resolves once open. */
async function connect(headers: Record<string, string>) {
  const ws = new WebSocket(streamUrl(), { ca: h.certPem, headers });
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (raw: Buffer) => {
    messages.push(JSON.parse(raw.toString()) as Message);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  /** Waits until a collected message satisfies `pred`. */
  async function next(pred: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message in ${JSON.stringify(messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  return { ws, messages, next };
}

/** Attempts an upgrade that should be refused; resolves with the HTTP status. */
function refusedStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(streamUrl(), { ca: h.certPem, headers });
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('live stream', () => {
  it('refuses an unauthenticated upgrade with 401 and a cross-origin cookie with 403', async () => {
    expect(await refusedStatus({})).toBe(401);
    expect(await refusedStatus({ cookie: 'cc_session=forged' })).toBe(401);
    expect(await refusedStatus({ cookie, origin: 'https://evil.example' })).toBe(403);
    expect(h.server.stream.stats().clients).toBe(0);
  });

  it('sends hello and a snapshot, then a live change within the coalesce interval', async () => {
    const { ws, messages, next } = await connect({ cookie, origin: h.server.urls.https });
    await next((m) => m.type === 'snapshot');
    expect(messages[0]).toMatchObject({
      type: 'hello',
      user: { username: 'admin', role: 'admin' },
    });
    expect(messages[1]?.devices?.map((d) => d.id).sort()).toEqual(['p1', 'p2']);
    const sentAt = Date.now();
    h.ingest.emit({ type: 'device', device: deviceView('p1', { name: 'renamed' }) });
    await next((m) => m.device?.name === 'renamed');
    expect(Date.now() - sentAt).toBeLessThan(COALESCE_MS * 2 + 250);
    const metrics = await h.call('GET', '/metrics', { cookie });
    expect(metrics.text).toMatch(/cc_stream_clients 1/);
    ws.close();
    await waitUntil(() => h.server.stream.stats().clients === 0);
  });

  it('accepts an API token in the Authorization header', async () => {
    const created = await h.call('POST', '/api/v1/tokens', { cookie, body: { name: 'script' } });
    const { token } = created.json as { token: string };
    const { ws, next } = await connect({ authorization: `Bearer ${token}` });
    await next((m) => m.type === 'snapshot');
    ws.close();
  });

  it('coalesces 100 updates of one device into one or two messages, latest last; jobs in order', async () => {
    const { ws, messages, next } = await connect({ cookie });
    await next((m) => m.type === 'snapshot');
    for (let i = 1; i <= 100; i++) {
      h.ingest.emit({ type: 'device', device: deviceView('p1', { name: `v${i}` }) });
    }
    for (const id of ['j1', 'j2', 'j3']) h.ingest.emit({ type: 'job', job: job(id) });
    await next((m) => m.device?.name === 'v100');
    h.ingest.emit({ type: 'job', job: job('marker') });
    await next((m) => m.job?.id === 'marker');
    const updates = messages.filter((m) => m.type === 'device');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(2);
    expect(updates.at(-1)?.device?.name).toBe('v100');
    expect(messages.filter((m) => m.type === 'job').map((m) => m.job?.id)).toEqual([
      'j1',
      'j2',
      'j3',
      'marker',
    ]);
    ws.close();
  });

  it('disconnects a client that stops reading, keeping at most one pending update per device', async () => {
    const fleetSize = 200;
    const { ws, next } = await connect({ cookie });
    await next((m) => m.type === 'snapshot');
    const fast = await connect({ cookie });
    await fast.next((m) => m.type === 'snapshot');
    const rawSocket = (ws as unknown as { _socket: Socket })._socket;
    rawSocket.pause();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

    const bulk = 'x'.repeat(8000);
    let round = 0;
    let maxPending = 0;
    const producer = setInterval(() => {
      round += 1;
      for (let i = 0; i < fleetSize; i++) {
        h.ingest.emit({
          type: 'device',
          device: deviceView(`d${i}`, { name: `r${round}`, model: bulk }),
        });
      }
      maxPending = Math.max(maxPending, h.server.stream.stats().pendingDevices);
    }, 10);
    try {
      await waitUntil(() => h.server.stream.stats().slowDisconnects === 1, 20_000);
    } finally {
      clearInterval(producer);
    }
    // Two clients: at most one pending update per device each.
    expect(maxPending).toBeLessThanOrEqual(2 * fleetSize);
    expect(h.server.stream.stats().clients).toBe(1);
    rawSocket.resume();
    expect([1006, 1013]).toContain(await closed);
    // The client that keeps reading stays connected and up to date.
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
    h.ingest.emit({ type: 'device', device: deviceView('p2', { name: 'still here' }) });
    await fast.next((m) => m.device?.name === 'still here');
    fast.ws.close();
  });
});
