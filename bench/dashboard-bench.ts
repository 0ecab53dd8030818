// Dashboard benchmark: the Fleet page in Chromium while N simulated devices (default 500) stream
// updates through the full server — frames per second, long tasks, renderer time, JS heap, and
// MQTT state change → DOM latency — beside the same page with the same fleet idle (no updates) as
// the baseline, and the same measurement with a small fleet (default 12) for comparison.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { build } from 'vite';
import WebSocket from 'ws';
import { createApp, type App, type StartedApp } from '../src/app.js';
import { hashPassword } from '../src/auth/index.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/observability/index.js';
import type { DeviceKind } from '../src/domain/index.js';
import { createSimulator, planFleet, type Simulator } from '../src/simulator/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { browserAvailability, CHROMIUM_PATH } from '../test/fixtures/browser.js';
import { numberArg } from './bench-args.js';

const PASSWORD = 'bench-password-long-enough';
/** A device the bench drives itself, to time a state change from MQTT publish to the page. */
const PROBE_ID = 'bench-probe';
const PROBE_STATES = ['error', 'maintenance'] as const;
/** Telemetry interval of the idle fleet: longer than any run, so nothing is published. */
const IDLE_INTERVAL_MS = 3_600_000;

interface Shape {
  devices: number;
  compare: number;
  seconds: number;
  intervalMs: number;
  speed: number;
  /** Write a CPU profile of the page during each live window (test-artifacts/, for DevTools). */
  profile: boolean;
}

/** What the page measured over one window (see PAGE_PROBE). */
interface PageWindow {
  ms: number;
  frames: number;
  frameGaps: number[];
  longTasks: { start: number; duration: number }[];
  deviceMessages: number;
  bytes: number;
  probeSeen: { state: string; at: number }[];
}

interface Phase {
  label: string;
  fps: number;
  frameP95Ms: number;
  frameMaxMs: number;
  longTaskCount: number;
  longTaskMs: number;
  longTaskMaxMs: number;
  longTaskShare: number;
  updatesPerSecond: number;
  kibPerSecond: number;
  telemetryPerSecond: number;
  busyShare: number;
  /** CPU of this process (the server; the fleet runs in its own), share of one core. */
  nodeCpuShare: number;
  scriptMsPerSecond: number;
  layoutStyleMsPerSecond: number;
  /** How long after the window the page took to answer (its backlog); ~0 when it keeps up. */
  behindMs: number;
  heapStartMiB: number;
  heapGrowthMiB: number;
  latencyP50: number;
  latencyP95: number;
  latencySamples: number;
  latencyMissed: number;
}

// Installed before the app's own scripts (a CDP init script, outside the page's CSP): counts
// frames and the gaps between them, long tasks, stream messages (the app's WebSocket is wrapped),
// and the frame at which the probe device's state first shows in the DOM.
const PAGE_PROBE = `(() => {
  const b = { frames: 0, frameGaps: [], last: 0, longTasks: [], deviceMessages: 0, bytes: 0,
    probeSeen: [], probeEl: null, probeLast: null, t0: performance.now(), until: Infinity };
  window.__ccBench = b;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        if (typeof e.data !== 'string' || performance.now() > b.until) return;
        b.bytes += e.data.length;
        if (e.data.startsWith('{"type":"device"')) b.deviceMessages += 1;
      });
    }
  };
  const frame = (t) => {
    if (t <= b.until) {
      if (b.last) b.frameGaps.push(t - b.last);
      b.last = t;
      b.frames += 1;
    }
    if (!b.probeEl || !b.probeEl.isConnected) {
      b.probeEl = document.querySelector('.device-card[data-device-id="${PROBE_ID}"] [data-state]');
    }
    const state = b.probeEl ? b.probeEl.getAttribute('data-state') : null;
    if (state && state !== b.probeLast) {
      b.probeLast = state;
      b.probeSeen.push({ state, at: performance.timeOrigin + t });
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  // The window closes by itself after windowMs, so a page that falls behind is still measured
  // over the window only, however late it is read.
  b.reset = (windowMs) => {
    b.frames = 0; b.frameGaps = []; b.last = 0; b.longTasks = []; b.deviceMessages = 0;
    b.bytes = 0; b.probeSeen = []; b.t0 = performance.now(); b.until = b.t0 + windowMs;
  };
  b.read = () => ({ ms: Math.min(performance.now(), b.until) - b.t0, frames: b.frames,
    frameGaps: b.frameGaps, deviceMessages: b.deviceMessages, bytes: b.bytes,
    longTasks: b.longTasks.filter((l) => l.start >= b.t0 && l.start < b.until),
    probeSeen: b.probeSeen });
})();`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const preciseNow = (): number => performance.timeOrigin + performance.now();

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function probeState(state: string): string {
  return JSON.stringify({
    ts: new Date().toISOString(),
    kind: 'cooling-unit',
    model: 'Bench C-1',
    serial: 'SN-BENCH-PROBE',
    name: '000 Bench probe',
    firmwareVersion: '1.0.0',
    state,
    job: null,
    consumables: [],
    alerts: [],
  });
}

async function telemetryCount(app: App): Promise<number> {
  const text = await app.metrics
    .getSingleMetricAsString('cc_ingest_messages_total')
    .catch(() => '');
  return [...text.matchAll(/channel="telemetry"[^}]*\} (\d+)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

async function cdpMetrics(page: BarePage): Promise<Record<string, number>> {
  const { metrics } = await page.send<{ metrics: { name: string; value: number }[] }>(
    'Performance.getMetrics',
  );
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/** The end-to-end tests' Chromium flags (test/fixtures/browser.ts). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Chromium with the end-to-end tests' flags and a fresh profile, its one page driven over a bare
 * DevTools connection (loopback). Not through Playwright: Playwright enables the DevTools Network
 * domain on every page it drives, and the browser then copies each WebSocket frame into a
 * protocol event — work a real operator's browser never does, and at 1,000 frames/s a large share
 * of what this benchmark would measure.
 */
class BarePage {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void }
  >();
  private readonly waiters = new Map<string, (() => void)[]>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        method?: string;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id !== undefined) {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) call?.reject(new Error(message.error.message));
        else call?.resolve(message.result);
      } else if (message.method !== undefined) {
        const waiting = this.waiters.get(message.method) ?? [];
        this.waiters.delete(message.method);
        for (const resolve of waiting) resolve();
      }
    });
    ws.on('close', () => {
      for (const call of this.pending.values())
        call.reject(new Error('DevTools connection closed'));
      this.pending.clear();
    });
  }

  static async launch(width: number, height: number): Promise<BarePage> {
    const profile = await mkdtemp(join(tmpdir(), 'cc-chromium-'));
    const child = spawn(
      CHROMIUM_PATH,
      [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        // The server's certificate is self-signed (the tests check TLS elsewhere).
        '--ignore-certificate-errors',
        'about:blank',
      ],
      { stdio: 'ignore' },
    );
    try {
      const portFile = join(profile, 'DevToolsActivePort');
      let port = '';
      const deadline = Date.now() + 30_000;
      while (!port) {
        if (child.exitCode !== null) throw new Error(`Chromium exited (${child.exitCode})`);
        if (Date.now() > deadline) throw new Error('Chromium did not open its DevTools port');
        port = (await readFile(portFile, 'utf8').catch(() => '')).split('\n')[0] ?? '';
        if (!port) await sleep(100);
      }
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
        type: string;
        webSocketDebuggerUrl: string;
      }[];
      const target = targets.find((t) => t.type === 'page');
      if (!target) throw new Error('Chromium has no page');
      const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
      await once(ws, 'open');
      return new BarePage(child, ws, profile);
    } catch (err) {
      child.kill('SIGKILL');
      await rm(profile, { recursive: true, force: true });
      throw err;
    }
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const answer = await this.send<{
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (answer.exceptionDetails) {
      const why = answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text;
      throw new Error(`page error: ${why}`);
    }
    return answer.result.value as T;
  }

  async navigate(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const list = this.waiters.get('Page.loadEventFired') ?? [];
      list.push(resolve);
      this.waiters.set('Page.loadEventFired', list);
    });
    await this.send('Page.navigate', { url });
    await withTimeout(loaded, 60_000, `the page ${url} to load`);
  }

  async close(): Promise<void> {
    this.ws.close();
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await withTimeout(exited, 10_000, 'Chromium to exit').catch(() => this.child.kill('SIGKILL'));
    }
    await rm(this.profile, { recursive: true, force: true });
  }
}

/** What the parent asks of the fleet process (this same module, forked with FLEET_ENV set). */
interface FleetTask {
  brokerUrl: string;
  devices: { id: string; kind: DeviceKind; token: string }[];
  intervalMs: number;
  speed: number;
}

type FleetReply = { type: 'started' } | { type: 'error'; error: string };

const FLEET_ENV = 'CC_BENCH_DASHBOARD_FLEET';

/**
 * The simulated fleet in its own process, as the ingest benchmark's load generator is: its CPU time
 * is not taken from the server's event loop, and the two can use both cores.
 */
class FleetProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(task: FleetTask): Promise<FleetProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [FLEET_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.send({ type: 'start', task });
    const reply = await Promise.race([
      once(child, 'message').then(([message]) => message as FleetReply),
      once(child, 'exit').then(([code]): FleetReply => ({
        type: 'error',
        error: `exited with code ${String(code)}`,
      })),
    ]);
    if (reply.type === 'error') {
      child.kill('SIGKILL');
      throw new Error(`simulated fleet failed: ${reply.error}`);
    }
    return new FleetProcess(child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'stop' });
    await withTimeout(exited, 30_000, 'the simulated fleet to stop').catch(() => {
      this.child.kill('SIGKILL');
    });
  }
}

/** Runs in the forked fleet process: starts the simulator on request, stops it, then exits. */
function serveFleet(): void {
  let simulator: Simulator | undefined;
  const reply = (message: FleetReply): void => {
    process.send?.(message);
  };
  process.on('message', (message: { type: 'start'; task: FleetTask } | { type: 'stop' }) => {
    if (message.type === 'start') {
      simulator = createSimulator({
        brokerUrl: message.task.brokerUrl,
        devices: message.task.devices,
        logger: silentLogger(),
        telemetryIntervalMs: message.task.intervalMs,
        speed: message.task.speed,
        seed: 7,
      });
      simulator.start().then(
        () => reply({ type: 'started' }),
        (err: unknown) => reply({ type: 'error', error: String(err) }),
      );
      return;
    }
    (simulator?.stop() ?? Promise.resolve()).then(
      () => process.disconnect(),
      (err: unknown) => {
        reply({ type: 'error', error: String(err) });
        process.disconnect();
      },
    );
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One fleet of `size` devices on its own server and browser: the idle window, then the live one. */
class FleetRun {
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private app!: App;
  private started!: StartedApp;
  private tokens = new Map<string, string>();
  private fleet: FleetProcess | undefined;
  private probe!: MqttClient;
  private page!: BarePage;

  constructor(
    private readonly size: number,
    private readonly shape: Shape,
  ) {}

  async start(): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-bench-dash-'));
    this.cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
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
      },
    });
    const store = await createSqliteStore({
      file: join(dataDir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    await store.migrate();
    await store.users.create({
      id: 'u-bench',
      username: 'bench',
      role: 'admin',
      passwordHash: await hashPassword(PASSWORD),
      createdAt: new Date().toISOString(),
      disabledAt: null,
    });
    for (const d of [...this.plan(), { id: PROBE_ID }]) {
      this.tokens.set(d.id, await issueDeviceToken(store.deviceCredentials, d.id));
    }
    await store.close();
    this.app = createApp(config, silentLogger());
    this.cleanups.push(() => this.app.stop());
    this.started = await this.app.start();
    this.probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.started.ports.mqtt}`, {
      clientId: PROBE_ID,
      username: PROBE_ID,
      password: this.tokens.get(PROBE_ID)!,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    this.cleanups.push(() => this.probe.endAsync(true));
    await this.probe.publishAsync(`cc/v1/devices/${PROBE_ID}/state`, probeState('idle'), {
      qos: 1,
      retain: true,
    });
    await this.startSimulator(IDLE_INTERVAL_MS);
    this.page = await BarePage.launch(1920, 1080);
    const page = this.page;
    this.cleanups.push(() => page.close());
    await page.send('Page.enable');
    await page.send('Performance.enable');
    await page.send('Page.addScriptToEvaluateOnNewDocument', { source: PAGE_PROBE });
    const origin = `https://127.0.0.1:${this.started.ports.https}`;
    await page.navigate(`${origin}/login`);
    // The session cookie, set the way the login form gets it: a same-origin POST.
    const status = await page.evaluate<number>(
      `fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, ` +
        `body: JSON.stringify({ username: 'bench', password: '${PASSWORD}' }) }).then((r) => r.status)`,
    );
    if (status !== 200) throw new Error(`login answered ${status}`);
    await page.navigate(`${origin}/fleet`);
    const deadline = Date.now() + 60_000;
    while (
      (await page.evaluate<number>("document.querySelectorAll('.device-card').length")) !==
      this.size
    ) {
      if (Date.now() > deadline) throw new Error(`the page never showed ${this.size} devices`);
      await sleep(250);
    }
  }

  private plan(): { id: string; kind: DeviceKind }[] {
    return planFleet(this.size - 1, 1);
  }

  /** (Re)starts the simulated fleet; `intervalMs` between telemetry messages of each device. */
  async startSimulator(intervalMs: number): Promise<void> {
    await this.fleet?.stop();
    this.fleet = undefined;
    this.fleet = await FleetProcess.start({
      brokerUrl: `mqtt://127.0.0.1:${this.started.ports.mqtt}`,
      devices: this.plan().map((d) => ({ ...d, token: this.tokens.get(d.id)! })),
      intervalMs,
      speed: this.shape.speed,
    });
  }

  /**
   * Measures one window of `seconds` while probe state changes are published. With `stopFleet`
   * the simulated fleet stops at the end of the window, so a page that fell behind can drain its
   * backlog and report (its figures cover the window only).
   */
  async measure(
    label: string,
    options: { profilePath?: string | undefined; stopFleet?: boolean } = {},
  ): Promise<Phase> {
    const { profilePath } = options;
    const page = this.page;
    if (profilePath !== undefined) {
      await page.send('Profiler.enable');
      await page.send('Profiler.start');
    }
    await page.send('HeapProfiler.collectGarbage');
    const before = await cdpMetrics(page);
    const telemetryBefore = await telemetryCount(this.app);
    const cpuBefore = process.cpuUsage();
    const windowMs = this.shape.seconds * 1000;
    await page.evaluate(`window.__ccBench.reset(${windowMs})`);
    const started = performance.now();
    // ~20 changes, far enough apart that the stream's coalescing never merges two of them.
    const samples = Math.min(20, Math.floor(windowMs / 600));
    const published: { state: string; at: number }[] = [];
    for (let i = 0; i < samples; i++) {
      // A random phase in each slot, so the samples do not all meet the stream's flush timer
      // (stream.coalesceMs) at the same point of its period.
      const due = started + ((i + 0.25 + Math.random() / 2) * windowMs) / samples;
      await sleep(Math.max(0, due - performance.now()));
      const state = PROBE_STATES[i % 2]!;
      published.push({ state, at: preciseNow() });
      await withTimeout(
        this.probe.publishAsync(`cc/v1/devices/${PROBE_ID}/state`, probeState(state), {
          qos: 1,
          retain: true,
        }),
        10_000,
        'the broker to acknowledge a probe state',
      );
    }
    await sleep(Math.max(0, started + windowMs - performance.now()));
    const telemetry = (await telemetryCount(this.app)) - telemetryBefore;
    const cpu = process.cpuUsage(cpuBefore);
    const serverMs = performance.now() - started;
    // A page that cannot keep up answers only once it has worked through its backlog; the fleet
    // is stopped (when asked) so that it can.
    const windowEnd = started + windowMs;
    const read = page.evaluate<PageWindow>('window.__ccBench.read()');
    let answeredAt = 0;
    read.then(
      () => (answeredAt = performance.now()),
      () => undefined,
    );
    if (options.stopFleet) {
      await Promise.race([read, sleep(5000)]);
      await this.fleet?.stop();
      this.fleet = undefined;
    }
    const seen = await withTimeout(read, 180_000, 'the page to report its figures');
    const behindMs = (answeredAt || performance.now()) - windowEnd;
    if (profilePath !== undefined) {
      const { profile } = await page.send<{ profile: unknown }>('Profiler.stop');
      await mkdir(dirname(profilePath), { recursive: true });
      await writeFile(profilePath, JSON.stringify(profile));
      process.stdout.write(`  CPU profile of the page: ${profilePath}\n`);
    }
    const seconds = seen.ms / 1000;
    const after = await cdpMetrics(page);
    await page.send('HeapProfiler.collectGarbage');
    const afterGc = await cdpMetrics(page);
    const latencies: number[] = [];
    for (const p of published) {
      const shown = seen.probeSeen.find((s) => s.state === p.state && s.at >= p.at);
      if (shown) latencies.push(shown.at - p.at);
    }
    const longTaskMs = seen.longTasks.reduce((n, l) => n + l.duration, 0);
    const delta = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
    // Renderer time is cumulative: divided by the time it was taken over (window + any drain).
    const rendererSeconds = delta('Timestamp');
    return {
      label,
      fps: seen.frames / seconds,
      frameP95Ms: quantile(seen.frameGaps, 0.95),
      frameMaxMs: Math.max(0, ...seen.frameGaps),
      longTaskCount: seen.longTasks.length,
      longTaskMs,
      longTaskMaxMs: Math.max(0, ...seen.longTasks.map((l) => l.duration)),
      longTaskShare: longTaskMs / seen.ms,
      updatesPerSecond: seen.deviceMessages / seconds,
      kibPerSecond: seen.bytes / 1024 / seconds,
      telemetryPerSecond: (telemetry * 1000) / serverMs,
      busyShare: delta('TaskDuration') / rendererSeconds,
      nodeCpuShare: (cpu.user + cpu.system) / 1000 / serverMs,
      scriptMsPerSecond: (delta('ScriptDuration') * 1000) / rendererSeconds,
      layoutStyleMsPerSecond:
        ((delta('LayoutDuration') + delta('RecalcStyleDuration')) * 1000) / rendererSeconds,
      behindMs: Math.max(0, behindMs),
      heapStartMiB: (before.JSHeapUsedSize ?? 0) / 2 ** 20,
      heapGrowthMiB: ((afterGc.JSHeapUsedSize ?? 0) - (before.JSHeapUsedSize ?? 0)) / 2 ** 20,
      latencyP50: quantile(latencies, 0.5),
      latencyP95: quantile(latencies, 0.95),
      latencySamples: latencies.length,
      latencyMissed: published.length - latencies.length,
    };
  }

  async stop(): Promise<void> {
    await this.fleet?.stop();
    for (const cleanup of this.cleanups.reverse()) {
      await cleanup();
    }
  }
}

/** Idle then live windows of one fleet size; the server, fleet and browser are its own. */
async function runFleet(size: number, shape: Shape): Promise<{ idle: Phase; live: Phase }> {
  const run = new FleetRun(size, shape);
  try {
    process.stdout.write(`  ${size} devices: starting server, fleet and Chromium …\n`);
    await run.start();
    await sleep(3000);
    process.stdout.write(`  ${size} devices: idle window (${shape.seconds} s) …\n`);
    const idle = await run.measure(`idle (${size})`);
    await run.startSimulator(shape.intervalMs);
    // Let the reconnect burst pass and the updates reach a steady rate.
    await sleep(5000);
    process.stdout.write(`  ${size} devices: live window (${shape.seconds} s) …\n`);
    const live = await run.measure(`live (${size})`, {
      profilePath: shape.profile
        ? join('test-artifacts', `dashboard-live-${size}.cpuprofile`)
        : undefined,
      stopFleet: true,
    });
    return { idle, live };
  } finally {
    await run.stop();
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function printTable(phases: Phase[], ratioOf: [Phase, Phase]): void {
  const [base, loaded] = ratioOf;
  const ratio = (a: number, b: number, digits = 2): string =>
    b === 0 ? (a === 0 ? '1.00' : '∞') : fmt(a / b, digits);
  const rows: [string, (p: Phase) => string, string][] = [
    ['device updates/s (page)', (p) => fmt(p.updatesPerSecond), ''],
    ['stream KiB/s (page)', (p) => fmt(p.kibPerSecond), ''],
    ['telemetry msgs/s (server)', (p) => fmt(p.telemetryPerSecond), ''],
    ['frames/s', (p) => fmt(p.fps, 1), ratio(loaded.fps, base.fps)],
    ['frame gap p95 / max (ms)', (p) => `${fmt(p.frameP95Ms, 1)} / ${fmt(p.frameMaxMs)}`, ''],
    ['long tasks (count)', (p) => String(p.longTaskCount), ''],
    ['long tasks total (ms)', (p) => fmt(p.longTaskMs), ratio(loaded.longTaskMs, base.longTaskMs)],
    ['long tasks (% of time)', (p) => fmt(p.longTaskShare * 100, 1), ''],
    ['longest task (ms)', (p) => fmt(p.longTaskMaxMs), ''],
    [
      'renderer busy (% of time)',
      (p) => fmt(p.busyShare * 100, 1),
      ratio(loaded.busyShare, base.busyShare),
    ],
    ['server CPU (% of a core)', (p) => fmt(p.nodeCpuShare * 100, 1), ''],
    ['  script (ms/s)', (p) => fmt(p.scriptMsPerSecond), ''],
    ['  style + layout (ms/s)', (p) => fmt(p.layoutStyleMsPerSecond), ''],
    ['page behind at window end (s)', (p) => fmt(p.behindMs / 1000, 1), ''],
    ['JS heap at start (MiB)', (p) => fmt(p.heapStartMiB, 1), ''],
    ['JS heap growth after GC (MiB)', (p) => fmt(p.heapGrowthMiB, 2), ''],
    ['state change → DOM p50 (ms)', (p) => fmt(p.latencyP50), ''],
    ['state change → DOM p95 (ms)', (p) => fmt(p.latencyP95), ''],
    ['latency samples (missed)', (p) => `${p.latencySamples} (${p.latencyMissed})`, ''],
  ];
  const table = [
    ['', ...phases.map((p) => p.label), `ratio ${loaded.label} / ${base.label}`],
    ...rows.map(([name, cell, r]) => [name, ...phases.map(cell), r]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) {
    process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);
  }
}

export async function runDashboardBench(args: string[]): Promise<void> {
  const shape: Shape = {
    devices: numberArg(args, 'devices', 500, 2, 2000),
    compare: numberArg(args, 'compare', 12, 0, 2000),
    seconds: numberArg(args, 'seconds', 15, 5, 120),
    intervalMs: numberArg(args, 'interval', 500, 50, 60_000),
    speed: numberArg(args, 'speed', 60, 1, 1000),
    profile: args.includes('--profile'),
  };
  const browser = browserAvailability();
  if (!browser.available) throw new Error(browser.message);
  process.stdout.write(
    `dashboard benchmark: Fleet page (1920×1080) with ${shape.devices} devices ` +
      `(telemetry every ${shape.intervalMs} ms per device, speed ${shape.speed}), ` +
      `${shape.seconds} s windows; baseline: the same fleet idle\n`,
  );
  process.stdout.write('building the dashboard …\n');
  // Added or overwritten, never emptied first: a server of a test run may be reading web/dist.
  await build({
    configFile: 'web/vite.config.ts',
    logLevel: 'warn',
    build: { emptyOutDir: false },
  });
  const big = await runFleet(shape.devices, shape);
  const small = shape.compare >= 2 ? await runFleet(shape.compare, shape) : undefined;
  const phases = [big.idle, big.live, ...(small ? [small.idle, small.live] : [])];
  printTable(phases, [big.idle, big.live]);
  process.stdout.write(
    'updates/s: device messages the page received on its WebSocket (the server coalesces each ' +
      'device to one per stream.coalesceMs); latency: probe device state published over MQTT → ' +
      'first animation frame with the new state in the DOM\n',
  );
}

if (process.env[FLEET_ENV] === '1') serveFleet();
