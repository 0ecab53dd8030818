// HTTP benchmark: the HTTPS API's cost per request (TLS keep-alive, request ids, security headers,
// the route guard and token lookup, response schemas, metrics hooks) for a public, an authenticated,
// a data and a refused request, beside a bare Fastify HTTPS server with the same certificate and TLS
// options as the baseline in the same run. The closed-loop load comes from this module forked, so
// the client does not share the servers' event loop. Afterwards the product's own /metrics must
// have counted every answer the load received.

import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { Agent, Pool, fetch } from 'undici';
import { createApp } from '../src/app.js';
import { ensureTlsCertificate, tlsServerOptions } from '../src/net/index.js';
import { silentLogger } from '../src/observability/index.js';
import { makeTempDir, testConfig } from '../test/fixtures/test-config.js';
import { adminToken, postJson } from './bench-api.js';
import { numberArg } from './bench-args.js';

const LOAD_ENV = 'CC_BENCH_HTTP_LOAD';

interface Shape {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  devices: number;
  maxRequests: number;
  json: boolean;
}

/** One kind of request, driven on its own pool of keep-alive connections. */
interface Target {
  label: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  status: number;
  /** The route pattern and status the product records its answers under (none: the baseline). */
  metric?: { route: string; status: string };
}

/** The parent's requests to the load process, one at a time. */
type LoadRequest =
  | { type: 'setup'; ca: string; connections: number; targets: Target[] }
  | { type: 'load'; target: number; ms: number; maxRequests: number; record: boolean }
  | { type: 'report' }
  | { type: 'close' };

interface Loaded {
  /** Requests that got an answer, whatever its status (the server measured each of them). */
  answered: number;
  errors: number;
  firstError: string | null;
  ms: number;
  bodyBytes: number;
  /** CPU time of the load process over the slot. */
  cpuMicros: number;
}

interface Latency {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

type LoadReply =
  | { type: 'ready' }
  | ({ type: 'loaded' } & Loaded)
  | { type: 'report'; latencies: Latency[] }
  | { type: 'closed' }
  | { type: 'error'; error: string };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank quantile of sorted values, in the unit of the values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs in the forked load process: keeps one pool per target and drives it on request. */
function serveLoad(): void {
  let connections = 1;
  let targets: Target[] = [];
  let pools: Pool[] = [];
  let samples: number[][] = [];

  async function drive(index: number, ms: number, maxRequests: number, record: boolean) {
    const target = targets[index]!;
    const pool = pools[index]!;
    const sink = record ? samples[index]! : null;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const deadline = started + ms;
    const result: Loaded = {
      answered: 0,
      errors: 0,
      firstError: null,
      ms: 0,
      bodyBytes: 0,
      cpuMicros: 0,
    };
    let issued = 0;
    // Closed loop: each connection sends its next request when the previous answer is read.
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (issued < maxRequests && performance.now() < deadline) {
          issued += 1;
          const sent = performance.now();
          try {
            const res = await pool.request({
              method: 'GET',
              path: target.path,
              headers: target.headers,
            });
            const body = await res.body.arrayBuffer();
            sink?.push(performance.now() - sent);
            result.answered += 1;
            result.bodyBytes = body.byteLength;
            if (res.statusCode !== target.status) {
              result.errors += 1;
              result.firstError ??= `answered ${res.statusCode}, expected ${target.status}`;
            }
          } catch (err) {
            result.errors += 1;
            result.firstError ??= String(err);
          }
        }
      }),
    );
    result.ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    result.cpuMicros = used.user + used.system;
    return result;
  }

  async function handle(message: LoadRequest): Promise<LoadReply> {
    switch (message.type) {
      case 'setup':
        connections = message.connections;
        targets = message.targets;
        pools = targets.map(
          (t) =>
            new Pool(t.origin, {
              connections,
              connect: { ca: message.ca },
              keepAliveTimeout: 30_000,
            }),
        );
        samples = targets.map(() => []);
        return { type: 'ready' };
      case 'load':
        return {
          type: 'loaded',
          ...(await drive(message.target, message.ms, message.maxRequests, message.record)),
        };
      case 'report':
        return {
          type: 'report',
          latencies: samples.map((values) => {
            const sorted = Float64Array.from(values).sort();
            const at = (q: number) => quantile(sorted, q);
            return { samples: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
          }),
        };
      case 'close':
        await Promise.all(pools.map((p) => p.close()));
        pools = [];
        return { type: 'closed' };
    }
  }

  // A parent that went away (stopped, crashed) leaves no load process behind.
  process.once('disconnect', () => {
    for (const pool of pools) void pool.destroy();
  });

  process.on('message', (message: LoadRequest) => {
    handle(message).then(
      (reply) => {
        process.send?.(reply);
        if (reply.type === 'closed') process.disconnect();
      },
      (err: unknown) => process.send?.({ type: 'error', error: String(err) } satisfies LoadReply),
    );
  });
}

/** The load generator in its own process; one request to it at a time. */
class LoadProcess {
  private waiting: { resolve: (r: LoadReply) => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: LoadReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (reply.type === 'error') waiting?.reject(new Error(`load process: ${reply.error}`));
      else waiting?.resolve(reply);
    });
    child.on('exit', (code) => {
      this.waiting?.reject(new Error(`the load process exited with code ${String(code)}`));
      this.waiting = undefined;
    });
  }

  static async start(ca: string, connections: number, targets: Target[]): Promise<LoadProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [LOAD_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const load = new LoadProcess(child);
    try {
      await load.ask({ type: 'setup', ca, connections, targets }, 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return load;
  }

  ask(message: LoadRequest, timeoutMs: number): Promise<LoadReply> {
    return new Promise<LoadReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`the load process did not answer "${message.type}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      try {
        this.child.send(message);
      } catch (err) {
        this.waiting.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.ask({ type: 'close' }, 10_000).catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The baseline: plain Fastify on the product's certificate and TLS options, one JSON route. */
async function startBare(tls: { cert: string; key: string }): Promise<FastifyInstance> {
  const bare = Fastify({ https: tlsServerOptions(tls) });
  bare.get('/bare', () => ({ status: 'ok' }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  return bare;
}

/** A busy printer, as most rows of a production fleet look: a job, consumables, an open alert. */
function stateSnapshot(id: string, i: number): string {
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  return JSON.stringify({
    ts: iso(0),
    kind: 'printer',
    model: 'Bench P1',
    serial: `SN-${id}`,
    name: `Printer ${id}`,
    firmwareVersion: '1.0.0',
    state: 'printing',
    job: {
      id: `${id}-job-1`,
      name: `Bracket batch ${i}`,
      owner: 'operator',
      state: 'printing',
      progress: (i * 7) % 100,
      startedAt: iso(-3_600_000),
      estimatedEndAt: iso(3_600_000),
      layer: 120 + i,
      layers: 800,
      materialUsedG: 41.5,
    },
    consumables: ['agent-a', 'agent-b', 'printhead-1', 'material'].map((slot, n) => ({
      slot,
      type: slot.split('-')[0],
      level: 90 - n * 15,
      status: 'ok',
      expiresAt: n === 3 ? iso(30 * 86_400_000) : null,
    })),
    alerts: [
      {
        id: `${id}-alert-1`,
        code: 'FILTER_DUE',
        severity: 'warning',
        message: 'Air filter change due within 50 hours',
        raisedAt: iso(-600_000),
      },
    ],
  });
}

function telemetry(): string {
  return JSON.stringify({
    ts: new Date().toISOString(),
    metrics: { nozzleTemp: 212.5, bedTemp: 60.2, chamberTemp: 38.9, printSpeed: 92 },
  });
}

/** Issues each device an MQTT token through the API; each device announces itself once. */
async function provisionFleet(
  origin: string,
  auth: Record<string, string>,
  dispatcher: Agent,
  mqttPort: number,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = `bench-${String(i).padStart(3, '0')}`;
    const issued = await postJson(
      dispatcher,
      `${origin}/api/v1/devices/${id}/mqtt-token`,
      {},
      auth,
    );
    const token = (issued.json as { token?: string }).token;
    if (issued.status !== 201 || !token) throw new Error(`issuing a token for ${id} failed`);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: id,
      username: id,
      password: token,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    // QoS 1 is acknowledged once ingest has applied and stored the message.
    await client.publishAsync(`cc/v1/devices/${id}/state`, stateSnapshot(id, i), {
      qos: 1,
      retain: true,
    });
    await client.publishAsync(`cc/v1/devices/${id}/telemetry`, telemetry(), { qos: 1 });
    await client.endAsync();
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${origin}/api/v1/devices?limit=1`, { dispatcher, headers: auth });
    const { total } = (await res.json()) as { total?: number };
    if (total === count) return;
    if (Date.now() > deadline) throw new Error(`the fleet lists ${total} of ${count} devices`);
    await sleep(100);
  }
}

/** Sum of the samples of `name` whose labels include every one of `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const found = new Map(
      [...line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function scrape(origin: string, auth: Record<string, string>, dispatcher: Agent) {
  const res = await fetch(`${origin}/metrics`, { dispatcher, headers: auth });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

interface Row {
  label: string;
  status: number;
  requests: number;
  errors: number;
  firstError: string | null;
  capped: boolean;
  seconds: number;
  perSecond: number;
  latency: Latency;
  cpuMicrosPerRequest: number;
  /** CPU of the servers' process and of the load process, in shares of one core. */
  serverCpuShare: number;
  loadCpuShare: number;
  bodyBytes: number;
  /** Answers sent in all, warm-up included: what /metrics should have recorded. */
  answered: number;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) {
    const line = row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
    process.stdout.write(`${line.trimEnd()}\n`);
  }
}

/** Warm-up, then `rounds` rounds over every target (each starting with the next), one pool each. */
async function measure(load: LoadProcess, targets: Target[], shape: Shape): Promise<Row[]> {
  const budget = targets.map(() => Math.floor(shape.maxRequests / targets.length));
  const rows = targets.map((t): Row => ({
    label: t.label,
    status: t.status,
    requests: 0,
    errors: 0,
    firstError: null,
    capped: false,
    seconds: 0,
    perSecond: 0,
    latency: { samples: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN },
    cpuMicrosPerRequest: 0,
    serverCpuShare: 0,
    loadCpuShare: 0,
    bodyBytes: 0,
    answered: 0,
  }));
  const cpuMicros = targets.map(() => 0);
  const loadCpuMicros = targets.map(() => 0);
  const slot = async (i: number, ms: number, record: boolean): Promise<void> => {
    if (budget[i]! <= 0) return;
    const cpu = process.cpuUsage();
    const reply = await load.ask(
      { type: 'load', target: i, ms, maxRequests: budget[i]!, record },
      ms + 60_000,
    );
    const used = process.cpuUsage(cpu);
    if (reply.type !== 'loaded') throw new Error(`unexpected answer ${reply.type}`);
    const row = rows[i]!;
    budget[i]! -= reply.answered + reply.errors;
    if (budget[i]! <= 0) row.capped = true;
    row.answered += reply.answered;
    row.bodyBytes = reply.bodyBytes;
    row.firstError ??= reply.firstError;
    row.errors += reply.errors;
    if (!record) return;
    row.requests += reply.answered;
    row.seconds += reply.ms / 1000;
    cpuMicros[i]! += used.user + used.system;
    loadCpuMicros[i]! += reply.cpuMicros;
  };
  for (let i = 0; i < targets.length; i++) await slot(i, shape.warmupSeconds * 1000, false);
  const ms = (shape.seconds * 1000) / shape.rounds;
  for (let r = 0; r < shape.rounds; r++) {
    for (let k = 0; k < targets.length; k++) await slot((r + k) % targets.length, ms, true);
  }
  const report = await load.ask({ type: 'report' }, 60_000);
  if (report.type !== 'report') throw new Error(`unexpected answer ${report.type}`);
  rows.forEach((row, i) => {
    row.perSecond = row.requests / row.seconds;
    row.latency = report.latencies[i]!;
    row.cpuMicrosPerRequest = cpuMicros[i]! / row.requests;
    row.serverCpuShare = cpuMicros[i]! / 1e6 / row.seconds;
    row.loadCpuShare = loadCpuMicros[i]! / 1e6 / row.seconds;
  });
  return rows;
}

export async function runHttpBench(args: string[]): Promise<void> {
  const shape: Shape = {
    connections: numberArg(args, 'connections', 16, 1, 256),
    seconds: numberArg(args, 'seconds', 5, 1, 60),
    warmupSeconds: numberArg(args, 'warmup', 1, 0, 10),
    rounds: numberArg(args, 'rounds', 3, 1, 10),
    devices: numberArg(args, 'devices', 20, 1, 500),
    maxRequests: numberArg(args, 'max-requests', 1_000_000, 1000, 10_000_000),
    json: args.includes('--json'),
  };
  const loadBefore = loadavg();
  const work = await makeTempDir('cc-bench-http-');
  const cleanups: (() => Promise<unknown>)[] = [() => work.cleanup()];
  try {
    const config = testConfig(work.dir);
    // The certificate the server generates on first start, made first by the same function so
    // that the baseline can present it too; the server then finds it and reuses it.
    const tls = await ensureTlsCertificate({
      dataDir: config.dataDir,
      hostNames: [config.publicHost ?? '127.0.0.1'],
    });
    const app = createApp(config, silentLogger());
    cleanups.push(() => app.stop());
    const started = await app.start();
    if (started.certificate.fingerprint256 !== tls.fingerprint256) {
      throw new Error('the server did not reuse the benchmark certificate');
    }
    const bare = await startBare(tls);
    cleanups.push(() => bare.close());
    const origin = `https://127.0.0.1:${started.ports.https}`;
    const bareAddress = bare.server.address();
    if (bareAddress === null || typeof bareAddress === 'string') throw new Error('no bare port');
    const bareOrigin = `https://127.0.0.1:${bareAddress.port}`;

    const token = await adminToken(origin, started.setupUrl ?? '');
    const auth = { authorization: `Bearer ${token}` };
    const dispatcher = new Agent({ connect: { ca: tls.cert } });
    cleanups.push(() => dispatcher.close());
    await provisionFleet(origin, auth, dispatcher, started.ports.mqtt, shape.devices);

    const targets: Target[] = [
      {
        label: 'bare Fastify GET /bare',
        origin: bareOrigin,
        path: '/bare',
        headers: {},
        status: 200,
      },
      {
        label: 'GET /healthz',
        origin,
        path: '/healthz',
        headers: {},
        status: 200,
        metric: { route: '/healthz', status: '200' },
      },
      {
        label: 'GET /api/v1/auth/me (token)',
        origin,
        path: '/api/v1/auth/me',
        headers: auth,
        status: 200,
        metric: { route: '/api/v1/auth/me', status: '200' },
      },
      {
        // The server's default page is 50 rows.
        label: `GET /api/v1/devices (token, ${Math.min(shape.devices, 50)} rows)`,
        origin,
        path: '/api/v1/devices',
        headers: auth,
        status: 200,
        metric: { route: '/api/v1/devices', status: '200' },
      },
      {
        label: 'GET /api/v1/devices (no credentials)',
        origin,
        path: '/api/v1/devices',
        headers: {},
        status: 401,
        metric: { route: '/api/v1/devices', status: '401' },
      },
    ];
    const load = await LoadProcess.start(tls.cert, shape.connections, targets);
    cleanups.push(() => load.stop());
    if (!shape.json) {
      process.stdout.write(
        `http benchmark: ${shape.connections} keep-alive connections per target, ` +
          `${shape.seconds} s measured per target in ${shape.rounds} interleaved rounds after ` +
          `${shape.warmupSeconds} s of warm-up; baseline: bare Fastify HTTPS, same certificate ` +
          `and TLS options; load average ${loadBefore.map((n) => n.toFixed(2)).join(' ')}\n`,
      );
    }
    const before = await scrape(origin, auth, dispatcher);
    const rows = await measure(load, targets, shape);
    const after = await scrape(origin, auth, dispatcher);

    const metricName = 'cc_http_request_duration_seconds_count';
    const recorded = targets.map((t) =>
      t.metric === undefined
        ? null
        : metricSum(after, metricName, { method: 'GET', ...t.metric }) -
          metricSum(before, metricName, { method: 'GET', ...t.metric }),
    );
    const unauthenticated = (text: string) =>
      metricSum(text, 'cc_http_errors_total', { code: 'UNAUTHENTICATED' });
    const refused = rows.filter((r) => r.status === 401).reduce((n, r) => n + r.answered, 0);
    const errorsRecorded = unauthenticated(after) - unauthenticated(before);
    const loadAfter = loadavg();

    if (shape.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            shape,
            loadAverage: { before: loadBefore, after: loadAfter },
            rows,
            metrics: {
              requestDuration: targets.map((t, i) => ({
                label: t.label,
                sent: rows[i]!.answered,
                recorded: recorded[i],
              })),
              unauthenticated: { sent: refused, recorded: errorsRecorded },
            },
          },
          null,
          2,
        )}\n`,
      );
      return;
    }
    const base = rows[0]!;
    printTable([
      [
        'target',
        'status',
        'requests',
        'errors',
        'req/s',
        'p50 (ms)',
        'p95 (ms)',
        'p99 (ms)',
        'body (B)',
        'CPU/req (µs)',
        'server / load CPU',
        'req/s ratio',
        'p50 ratio',
        'CPU ratio',
      ],
      ...rows.map((r) => [
        r.label,
        String(r.status),
        `${r.requests}${r.capped ? ' (capped)' : ''}`,
        String(r.errors),
        fmt(r.perSecond),
        fmt(r.latency.p50, 2),
        fmt(r.latency.p95, 2),
        fmt(r.latency.p99, 2),
        String(r.bodyBytes),
        fmt(r.cpuMicrosPerRequest),
        `${fmt(r.serverCpuShare * 100)} / ${fmt(r.loadCpuShare * 100)} %`,
        fmt(r.perSecond / base.perSecond, 2),
        fmt(r.latency.p50 / base.latency.p50, 2),
        fmt(r.cpuMicrosPerRequest / base.cpuMicrosPerRequest, 2),
      ]),
    ]);
    for (const r of rows) {
      if (r.firstError !== null)
        process.stdout.write(`  ${r.label}: first error: ${r.firstError}\n`);
    }
    process.stdout.write(
      'CPU/req: CPU time of the servers’ process per answered request; server / load CPU: the ' +
        'servers’ process and the load process, % of one core\n\n/metrics cross-check: increase of cc_http_request_duration_seconds_count ' +
        'against the answers the load received (warm-up included)\n',
    );
    const check = (sent: number, seen: number) => (sent === seen ? 'yes' : 'NO');
    printTable([
      ['series', 'answers received', 'recorded', 'match'],
      ...targets.flatMap((t, i) =>
        t.metric === undefined
          ? []
          : [
              [
                `GET ${t.metric.route} ${t.metric.status}`,
                String(rows[i]!.answered),
                String(recorded[i]),
                check(rows[i]!.answered, recorded[i] ?? -1),
              ],
            ],
      ),
      [
        'cc_http_errors_total{code="UNAUTHENTICATED"}',
        String(refused),
        String(errorsRecorded),
        check(refused, errorsRecorded),
      ],
    ]);
    process.stdout.write(`load average after: ${loadAfter.map((n) => n.toFixed(2)).join(' ')}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => {
        process.stderr.write(`http: cleanup failed: ${String(err)}\n`);
      });
    }
  }
}

if (process.env[LOAD_ENV] === '1') serveLoad();
