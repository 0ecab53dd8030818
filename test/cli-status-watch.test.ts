// The terminal client against a real server and a simulated fleet over MQTT: `status` prints the
// fleet (table, JSON, filters), `watch` follows the live stream (NDJSON and human lines), survives
// a dropped connection and stops cleanly on a signal; refused credentials, an untrusted
// certificate and an unreachable server end both with a clear message.

import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createSimulator, planFleet, type Simulator } from '../src/simulator/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { ApiClient } from './fixtures/https-client.js';
import { execCli, runCli } from './fixtures/server-process.js';
import { makeTempDir, testConfig, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'a long enough admin password';
const STACK_TRACE = /at .*\.(ts|js):\d+/;

interface DeviceItem {
  id: string;
  state: string;
  currentJob: unknown;
}

/** A TCP relay in front of the server, so a test can cut every connection through it. */
async function startRelay(
  target: number,
): Promise<{ port: number; dropAll(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    port: address.port,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A running CLI child with its output so far, and a way to wait for what it prints. */
function follow(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split('\n').filter((l) => l !== ''),
    async until(what: string, test: () => boolean, timeoutMs = 20_000): Promise<void> {
      await expect
        .poll(test, { timeout: timeoutMs, interval: 100, message: `${what}\n${stdout}\n${stderr}` })
        .toBe(true);
    },
    async stop(signal: NodeJS.Signals): Promise<number | null> {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

describe('status and watch from the CLI', { timeout: 120_000 }, () => {
  let data: TestDataDir;
  let app: App;
  let started: StartedApp;
  let fleet: Simulator;
  let api: ApiClient;
  /** What beforeAll started, stopped in reverse order even when it failed halfway. */
  const stops: (() => Promise<unknown>)[] = [];
  let env: Record<string, string>;
  const plan = planFleet(7, 3);
  const ids = plan.map((d) => d.id).sort();

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    execCli(args, { ...env, ...extra }, 60_000);

  async function devices(query = ''): Promise<DeviceItem[]> {
    const res = await api.get(`/api/v1/devices?limit=500${query}`);
    return (res.body as { items: DeviceItem[] }).items;
  }

  beforeAll(async () => {
    data = await makeTempDir();
    stops.push(() => data.cleanup());
    const config = testConfig(data.dir);
    app = createApp(config, silentLogger());
    started = await app.start();
    stops.push(() => app.stop());
    const store = await createSqliteStore({
      file: join(data.dir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    const tokens = new Map<string, string>();
    for (const d of plan) tokens.set(d.id, await issueDeviceToken(store.deviceCredentials, d.id));
    await store.close();
    fleet = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      devices: plan.map((d) => ({ ...d, token: tokens.get(d.id)! })),
      logger: silentLogger(),
      speed: 50,
      telemetryIntervalMs: 200,
      seed: 3,
    });
    await fleet.start();
    stops.push(() => fleet.stop());

    const server = `https://127.0.0.1:${started.ports.https}`;
    api = await ApiClient.trusting(server, started.certificate.certPath);
    stops.push(() => api.close());
    const setupToken = new URL(started.setupUrl!).hash.replace('#token=', '');
    expect(
      (
        await api.post('/api/v1/setup', {
          token: setupToken,
          username: 'admin',
          password: PASSWORD,
        })
      ).status,
    ).toBe(201);
    expect(
      (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
    ).toBe(200);
    const created = await api.post('/api/v1/tokens', {
      name: 'cli-status-watch',
      expiresInDays: 1,
    });
    expect(created.status).toBe(201);
    env = {
      XDG_CONFIG_HOME: join(data.dir, 'xdg'),
      CC_SERVER: server,
      CC_CA: started.certificate.certPath,
      CC_TOKEN: (created.body as { token: string }).token,
    };
    // Every device has reported before the first test runs.
    await vi.waitFor(async () => expect((await devices()).map((d) => d.id).sort()).toEqual(ids), {
      timeout: 20_000,
      interval: 100,
    });
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('prints help for status and watch', async () => {
    const [status, watch] = await Promise.all([
      cli(['status', '--help']),
      cli(['watch', '--help']),
    ]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Usage: command-center status/);
    for (const option of ['--site', '--kind', '--state', '--search', '--json', '--token']) {
      expect(status.stdout).toContain(option);
    }
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/Usage: command-center watch/);
    for (const option of ['--device', '--json', '--server', '--ca']) {
      expect(watch.stdout).toContain(option);
    }
  });

  it('status shows every device under the counts per state', async () => {
    const res = await cli(['status']);
    expect(res.code, res.stderr).toBe(0);
    const [counts, blank, header, ...rows] = res.stdout.trimEnd().split('\n');
    expect(counts).toMatch(new RegExp(`^${ids.length} devices: \\d+ \\w+`));
    const perState = [...counts!.split(':')[1]!.matchAll(/(\d+) (\w+)/g)].map((m) => Number(m[1]));
    expect(perState.reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect(blank).toBe('');
    expect(header).toMatch(
      /^ID\s+NAME\s+KIND\s+STATE\s+JOB\s+PROGRESS\s+ETA\s+LOW CONSUMABLES\s+ALERTS\s+LAST SEEN$/,
    );
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(ids);
    // Seen within the last minute, said in words; no colour in a pipe.
    for (const row of rows) expect(row).toMatch(/(just now|\d+ s ago)$/);
    expect(res.stdout).not.toMatch(/\u001b\[/);
  });

  it('status --json prints every device view', async () => {
    const res = await cli(['status', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const items = JSON.parse(res.stdout) as DeviceItem[];
    expect(items.map((d) => d.id).sort()).toEqual(ids);
    for (const d of items) expect(d).toHaveProperty('currentJob');
  });

  it('status --state printing shows only printing devices', async () => {
    await expect
      .poll(async () => (await devices('&state=printing')).length, { timeout: 20_000 })
      .toBeGreaterThan(0);
    const res = await cli(['status', '--state', 'printing']);
    expect(res.code, res.stderr).toBe(0);
    const [counts, , header, ...rows] = res.stdout.trimEnd().split('\n');
    expect(counts).toMatch(/^(\d+) devices?: \1 printing$/);
    const state = header!.indexOf('STATE');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.slice(state).split(/\s+/)[0]).toBe('printing');
      expect(row).toMatch(/^printer-/);
      expect(row).toMatch(/\d+%/);
    }
  });

  it('refuses a bad token, an untrusted certificate and an unreachable server with clear messages', async () => {
    const nowhere = `https://127.0.0.1:${await closedPort()}`;
    // A certificate, but not the server's.
    const stranger = join(data.dir, 'stranger.crt');
    const pems = await generate([{ name: 'commonName', value: 'stranger' }], {
      keyType: 'ec',
      algorithm: 'sha256',
    });
    await writeFile(stranger, pems.cert);
    const [statusToken, watchToken, untrusted, unreachable, badState] = await Promise.all([
      cli(['status'], { CC_TOKEN: 'cc_nope_not-a-real-token' }),
      cli(['watch'], { CC_TOKEN: 'cc_nope_not-a-real-token' }),
      cli(['status'], { CC_CA: stranger }),
      cli(['watch', '--json'], { CC_SERVER: nowhere }),
      cli(['status', '--state', 'melting']),
    ]);
    for (const res of [statusToken, watchToken]) {
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/UNAUTHENTICATED: .*run `command-center login`/);
    }
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/TLS_INVALID: the certificate of .* is not trusted .*--ca/);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/cannot reach the server at https:\/\/127\.0\.0\.1:\d+/);
    expect(unreachable.stdout).toBe('');
    expect(badState.code).not.toBe(0);
    expect(badState.stderr).toMatch(/--state "melting" is not one of idle, printing/);
    for (const res of [statusToken, watchToken, untrusted, unreachable, badState]) {
      expect(res.stderr).not.toMatch(STACK_TRACE);
    }
  });

  it('watch --json prints the stream as NDJSON, reconnects after a drop and exits 0 on SIGTERM', async () => {
    const relay = await startRelay(started.ports.https);
    try {
      const watch = follow(
        runCli(['watch', '--json'], { ...env, CC_SERVER: `https://127.0.0.1:${relay.port}` }),
      );
      const messages = () =>
        watch.lines().map((l) => JSON.parse(l) as { type: string; devices?: DeviceItem[] });
      const count = (type: string) => messages().filter((m) => m.type === type).length;
      await watch.until('hello, snapshot and device updates', () => count('device') >= 3);
      const [hello, snapshot] = messages();
      expect(hello).toMatchObject({ type: 'hello', protocol: 1, user: { username: 'admin' } });
      expect(snapshot?.type).toBe('snapshot');
      expect(snapshot?.devices?.map((d) => d.id).sort()).toEqual(ids);

      relay.dropAll();
      await watch.until('a reconnect', () => count('hello') === 2 && count('snapshot') === 2);
      expect(watch.stderr()).toMatch(/connection lost \(1006\); reconnecting in \d+ s/);
      expect(watch.stderr()).toMatch(/reconnected to https:\/\/127\.0\.0\.1:\d+/);
      const devicesBefore = count('device');
      await watch.until('updates after the reconnect', () => count('device') > devicesBefore);

      expect(await watch.stop('SIGTERM')).toBe(0);
      expect(watch.stderr()).not.toMatch(STACK_TRACE);
    } finally {
      await relay.close();
    }
  });

  it('watch --device prints a readable line per change of those devices, and exits 0 on Ctrl+C', async () => {
    const printers = ids.filter((id) => id.startsWith('printer-'));
    const watch = follow(runCli(['watch', ...printers.flatMap((id) => ['--device', id])], env));
    await watch.until('the fleet line', () =>
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d {2}fleet +${printers.length} devices: \\d`, 'm').test(
        watch.stdout(),
      ),
    );
    await vi.waitFor(
      async () => expect((await devices('&state=printing')).length).toBeGreaterThan(0),
      { timeout: 20_000, interval: 100 },
    );
    const printer = (await devices('&state=printing'))[0]!;
    // An operator pauses the job: the request, its result and the new state show up.
    const job = (await api.get(`/api/v1/devices/${printer.id}`)).body as DeviceItem;
    const jobId = (job.currentJob as { id: string } | null)?.id;
    expect(jobId).toBeDefined();
    const paused = await api.post(`/api/v1/jobs/${jobId!}/pause`);
    expect(paused.status, paused.text).toBe(200);
    const { status } = paused.body as { status: string };
    await watch.until('the command and its result', () =>
      watch.lines().some((l) => new RegExp(`pause job ".+": ${status.replace('-', ' ')}`).test(l)),
    );
    expect(watch.stdout()).toMatch(/pause job ".+" requested by admin via mqtt/);
    if (status === 'accepted') {
      await watch.until('the pause', () => / {2}state printing → paused$/m.test(watch.stdout()));
      expect(watch.stdout()).toMatch(/job ".+" paused at \d+%/);
      expect((await api.post(`/api/v1/jobs/${jobId!}/resume`)).status).toBe(200);
      await watch.until('the resume', () => / {2}state paused → printing$/m.test(watch.stdout()));
    }
    for (const line of watch.lines()) {
      expect(line).toMatch(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d {2}(fleet|${printers.join('|')}) +\\S`),
      );
    }
    expect(watch.stderr()).toMatch(/watching https:\/\/127\.0\.0\.1:\d+ as admin \(admin\)/);
    expect(await watch.stop('SIGINT')).toBe(0);
  });
});
