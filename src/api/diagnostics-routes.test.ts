// The network doctor over HTTPS: an admin starts a run against local stand-ins (a closed port, a
// port that accepts and never answers, an HTTPS server), sees its checks appear while it runs, is
// refused a second run meanwhile, and reads the finished report with causes and fixes; the start is
// audited; other roles are refused; a body with anything in it is a 400.

import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/fixtures/forward-proxy.js';
import type { DiagnosticsRun } from '../diagnostics/index.js';
import { startHarness, type Harness } from './api-test-harness.js';

let h: Harness;
let admin: string;
let operator: string;
let silent: Server;
const sockets = new Set<Socket>();
let closedPort = 0;
let silentPort = 0;

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  silentPort = (silent.address() as AddressInfo).port;
  closedPort = await freePort();
  h = await startHarness({
    diagnostics: {
      endpoints: [
        { host: '127.0.0.1', port: closedPort, kind: 'https' },
        { host: '127.0.0.1', port: silentPort, kind: 'https' },
      ],
      timeoutMs: 800,
    },
  });
  admin = await h.setupAdmin();
  operator = await h.loginAs('operator', 'olga');
});

afterAll(async () => {
  await h.close();
  for (const socket of sockets) socket.destroy();
  silent.close();
});

async function latest(): Promise<DiagnosticsRun | null> {
  const res = await h.call('GET', '/api/v1/diagnostics', { cookie: admin });
  expect(res.status).toBe(200);
  return (res.json as { run: DiagnosticsRun | null }).run;
}

describe('GET/POST /api/v1/diagnostics', () => {
  it('has no run before the first one', async () => {
    expect(await latest()).toBeNull();
  });

  it('runs the doctor, shows progress, refuses a second run meanwhile, and reports causes', async () => {
    const started = await h.call('POST', '/api/v1/diagnostics', { cookie: admin, body: {} });
    expect(started.status).toBe(202);
    const run = (started.json as { run: DiagnosticsRun }).run;
    expect(run).toMatchObject({
      state: 'running',
      startedBy: 'admin',
      proxy: null,
      exitCode: null,
    });
    // Two endpoints (dns, tcp, tls, https each), the data directory and the database.
    expect(run.total).toBe(10);

    const again = await h.call('POST', '/api/v1/diagnostics', { cookie: admin, body: {} });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'DIAGNOSTICS_RUNNING' } });

    let seenRunning = false;
    let done: DiagnosticsRun | null = null;
    for (let i = 0; i < 100 && done === null; i++) {
      const now = await latest();
      if (now?.state === 'running') seenRunning = true;
      if (now?.state === 'done') done = now;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seenRunning).toBe(true);
    expect(done).not.toBeNull();
    const report = done as DiagnosticsRun;
    expect(report.id).toBe(run.id);
    expect(report.finishedAt).not.toBeNull();
    expect(report.checks).toHaveLength(report.total);
    expect(report.exitCode).toBe(2);
    const refused = report.checks.find(
      (c) => c.subject === `127.0.0.1:${String(closedPort)}` && c.name === 'tcp',
    );
    expect(refused).toMatchObject({ status: 'fail', path: 'direct' });
    expect(refused?.cause).toContain('nothing listens');
    const held = report.checks.find(
      (c) => c.subject === `127.0.0.1:${String(silentPort)}` && c.name === 'tls',
    );
    expect(held?.status).toBe('fail');
    expect(held?.cause).toContain('never answers the TLS handshake');
    expect(report.checks.filter((c) => c.path === 'local').map((c) => c.name)).toEqual([
      'disk',
      'database',
    ]);
    expect(report.summary?.workingPaths).toEqual({
      [`127.0.0.1:${String(closedPort)}`]: [],
      [`127.0.0.1:${String(silentPort)}`]: [],
    });

    const audit = await h.call('GET', '/api/v1/audit?action=diagnostics.run', { cookie: admin });
    expect(JSON.stringify(audit.json)).toContain(run.id);
  }, 30_000);

  it('is for admins only', async () => {
    expect((await h.call('GET', '/api/v1/diagnostics', { cookie: operator })).status).toBe(403);
    expect((await h.call('POST', '/api/v1/diagnostics', { cookie: operator })).status).toBe(403);
    expect((await h.call('GET', '/api/v1/diagnostics')).status).toBe(401);
  });

  it('refuses a body with unknown fields', async () => {
    const res = await h.call('POST', '/api/v1/diagnostics', {
      cookie: admin,
      body: { endpoints: ['evil.example:443'] },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
