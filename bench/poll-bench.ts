// Poll benchmark: N Web-Services-only simulated devices (each on its own loopback address, served by
// a separate process) polled every 5 s by the full server — pinned TLS, keep-alive, answer
// validation, merge into fleet state, SQLite writes — beside a bare HTTPS client making the same
// requests on the same schedule in the same run as the baseline.

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram, Registry } from 'prom-client';
import { Agent, Pool, fetch } from 'undici';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/observability/index.js';
import { adminToken } from './bench-api.js';
import { numberArg } from './bench-args.js';
import type { FleetReady, FleetTask } from './device-fleet.js';

const FLEET = fileURLToPath(new URL('./device-fleet.ts', import.meta.url));
const PASSWORD = 'bench-device-password';
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const PATHS = ['/ws/v1/status', '/ws/v1/consumables', '/ws/v1/alerts', '/ws/v1/jobs'];

interface Shape {
  devices: number;
  intervalMs: number;
  jitter: number;
  seconds: number;
}

interface Phase {
  polls: number;
  errors: number;
  seconds: number;
  lagP99Ms: number;
  cpuMs: number;
  rssMiB: number;
}

type Endpoint = FleetReady['endpoints'][number];

async function startFleet(devices: number): Promise<{ child: ChildProcess; ready: FleetReady }> {
  const child = fork(FLEET, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const task: FleetTask = {
    devices,
    firstAddress: `127.${60 + Math.floor(Math.random() * 100)}.0.11`,
    password: PASSWORD,
  };
  child.send(task);
  const [reply] = (await once(child, 'message')) as [FleetReady | { error: string }];
  if ('error' in reply) throw new Error(`device fleet failed: ${reply.error}`);
  return { child, ready: reply };
}

/** p-quantile of a bucketed histogram, interpolated linearly inside the bucket (as Prometheus does). */
function quantile(buckets: Array<{ le: number; count: number }>, q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return prevLe + (b.le - prevLe) * (inBucket === 0 ? 0 : (rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

async function lagBuckets(
  registry: Registry,
  name: string,
): Promise<Array<{ le: number; count: number }>> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => (v as { metricName?: string }).metricName === `${name}_bucket`)
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }));
}

function minus(
  after: Array<{ le: number; count: number }>,
  before: Array<{ le: number; count: number }>,
): Array<{ le: number; count: number }> {
  return after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
}

async function counter(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) out[String(v.labels.outcome)] = v.value;
  return out;
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Two intervals: the first round's TLS handshakes are over and polls run at their steady pace. */
const warmUpMs = (shape: Shape) => 2 * shape.intervalMs + 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The same four GETs per device on the same jittered schedule, by a bare keep-alive client. */
async function bareClient(endpoints: Endpoint[], shape: Shape): Promise<Phase> {
  const registry = new Registry();
  const lag = new Histogram({
    name: 'bare_lag_seconds',
    help: 'lag',
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
  const pools = endpoints.map(
    (e) =>
      new Pool(e.url, {
        connections: 2,
        connect: { rejectUnauthorized: false },
        keepAliveTimeout: 30_000,
      }),
  );
  let measuring = false;
  let stop = false;
  let polls = 0;
  let errors = 0;
  const timers = new Set<NodeJS.Timeout>();
  const jittered = () => shape.intervalMs * (1 + (Math.random() * 2 - 1) * shape.jitter);

  function arm(i: number, dueAt: number): void {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (stop) return;
        const late = Math.max(0, Date.now() - dueAt) / 1000;
        void Promise.all(
          PATHS.map(async (path) => {
            const res = await pools[i]!.request({
              method: 'GET',
              path,
              headers: { authorization: auth },
            });
            const body: unknown = await res.body.json();
            if (res.statusCode !== 200 || body === null) throw new Error(String(res.statusCode));
          }),
        ).then(
          () => {
            if (measuring) {
              polls += 1;
              lag.observe(late);
            }
          },
          () => {
            if (measuring) errors += 1;
          },
        );
        arm(i, Date.now() + jittered());
      },
      Math.max(0, dueAt - Date.now()),
    );
    timers.add(timer);
  }

  const start = Date.now();
  endpoints.forEach((_, i) => arm(i, start + Math.random() * shape.intervalMs));
  await sleep(warmUpMs(shape));
  measuring = true;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await sleep(shape.seconds * 1000);
  measuring = false;
  const seconds = (performance.now() - began) / 1000;
  const cpuMs = cpuMsSince(cpu);
  stop = true;
  for (const t of timers) clearTimeout(t);
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  await Promise.all(pools.map((p) => p.destroy()));
  const buckets = await lagBuckets(registry, 'bare_lag_seconds');
  return { polls, errors, seconds, lagP99Ms: quantile(buckets, 0.99) * 1000, cpuMs, rssMiB };
}

async function fullServer(endpoints: Endpoint[], shape: Shape): Promise<Phase & { addMs: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cc-bench-'));
  const base = 20000 + Math.floor(Math.random() * 4000) * 10;
  const { config } = loadConfig({
    env: {
      CC_DATA_DIR: dataDir,
      CC_BIND_HOST: '127.0.0.1',
      CC_PUBLIC_HOST: '127.0.0.1',
      CC_PORTS__HTTPS: `${base}-${base + 2}`,
      CC_PORTS__HTTP: `${base + 3}-${base + 5}`,
      CC_PORTS__MQTT: `${base + 6}-${base + 8}`,
      CC_LOG__LEVEL: 'silent',
      CC_DEVICES__POLL_ACTIVE_MS: String(shape.intervalMs),
      CC_DEVICES__POLL_IDLE_MS: String(shape.intervalMs),
      CC_DEVICES__POLL_JITTER_PERCENT: String(Math.round(shape.jitter * 100)),
      CC_DEVICES__OFFLINE_AFTER_MS: String(Math.max(60_000, shape.intervalMs * 4)),
    },
  });
  const app = createApp(config, silentLogger());
  const started = await app.start();
  try {
    const httpsBase = `https://127.0.0.1:${started.ports.https}`;
    const token = await adminToken(httpsBase, started.setupUrl ?? '');
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false }, connections: 16 });
    const addStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < endpoints.length) {
          const e = endpoints[next++]!;
          const res = await fetch(`${httpsBase}/api/v1/devices`, {
            method: 'POST',
            dispatcher,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({
              url: e.url,
              username: 'admin',
              password: PASSWORD,
              fingerprint: e.fingerprint256,
            }),
          });
          if (res.status !== 201) throw new Error(`adding ${e.id}: ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
    const addMs = performance.now() - addStarted;
    await dispatcher.close();
    await sleep(warmUpMs(shape));
    const okBefore = await counter(app.metrics, 'cc_device_polls_total');
    const lagBefore = await lagBuckets(app.metrics, 'cc_device_poll_lag_seconds');
    const cpu = process.cpuUsage();
    const began = performance.now();
    await sleep(shape.seconds * 1000);
    const seconds = (performance.now() - began) / 1000;
    const cpuMs = cpuMsSince(cpu);
    const okAfter = await counter(app.metrics, 'cc_device_polls_total');
    const lagAfter = await lagBuckets(app.metrics, 'cc_device_poll_lag_seconds');
    const polls = (okAfter.ok ?? 0) - (okBefore.ok ?? 0);
    const all = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
    const errors = all(okAfter) - all(okBefore) - polls;
    const p99 = quantile(minus(lagAfter, lagBefore), 0.99) * 1000;
    return {
      polls,
      errors,
      seconds,
      lagP99Ms: p99,
      cpuMs,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      addMs,
    };
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export async function runPollBench(args: string[]): Promise<void> {
  const shape: Shape = {
    devices: numberArg(args, 'devices', 1000, 1, 5000),
    intervalMs: numberArg(args, 'interval', 5, 1, 60) * 1000,
    jitter: numberArg(args, 'jitter', 20, 0, 50) / 100,
    seconds: numberArg(args, 'seconds', 30, 5, 300),
  };
  const target = shape.devices / (shape.intervalMs / 1000);
  process.stdout.write(
    `poll benchmark: ${shape.devices} Web-Services-only devices, one poll (4 GETs) each every ` +
      `${shape.intervalMs / 1000} s ±${fmt(shape.jitter * 100)}%, measured over ${shape.seconds} s ` +
      `after two intervals of warm-up; target ${fmt(target)} polls/s\n`,
  );
  process.stdout.write('starting the simulated fleet in its own process …\n');
  const { child, ready } = await startFleet(shape.devices);
  process.stdout.write(
    `fleet up in ${fmt(ready.startMs / 1000, 1)} s on ${new Set(ready.endpoints.map((e) => new URL(e.url).hostname)).size} loopback addresses\n`,
  );
  try {
    process.stdout.write('baseline: bare undici client, keep-alive, no pinning or validation …\n');
    const bare = await bareClient(ready.endpoints, shape);
    process.stdout.write('server: full Command Center polling the same fleet …\n');
    const full = await fullServer(ready.endpoints, shape);
    const rate = (p: Phase) => p.polls / p.seconds;
    const rows = [
      ['', 'bare client', 'Command Center', 'ratio'],
      ['polls/s achieved', fmt(rate(bare), 1), fmt(rate(full), 1), fmt(rate(full) / rate(bare), 2)],
      [
        'of target',
        fmt((rate(bare) / target) * 100, 1) + '%',
        fmt((rate(full) / target) * 100, 1) + '%',
        '',
      ],
      ['failed polls', String(bare.errors), String(full.errors), ''],
      ['poll lag p99 (ms)', fmt(bare.lagP99Ms, 1), fmt(full.lagP99Ms, 1), ''],
      [
        'CPU per poll (ms)',
        fmt(bare.cpuMs / Math.max(1, bare.polls), 2),
        fmt(full.cpuMs / Math.max(1, full.polls), 2),
        fmt(full.cpuMs / Math.max(1, full.polls) / (bare.cpuMs / Math.max(1, bare.polls)), 2),
      ],
      [
        'CPU (% of one core)',
        fmt((bare.cpuMs / (bare.seconds * 1000)) * 100, 1),
        fmt((full.cpuMs / (full.seconds * 1000)) * 100, 1),
        '',
      ],
      ['process RSS (MiB)', fmt(bare.rssMiB), fmt(full.rssMiB), ''],
      ['devices added via API (s)', '-', fmt(full.addMs / 1000, 1), ''],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const row of rows) {
      process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);
    }
    process.stdout.write(
      'lag: how late a poll started after it was due, p99 from the lag histogram (same buckets ' +
        'for both, interpolated); RSS of the measuring process after each phase (the fleet runs ' +
        'in another process)\n',
    );
  } finally {
    child.send('stop');
    await once(child, 'exit');
  }
}
