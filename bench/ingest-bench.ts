// Ingest benchmark: N devices publish through the embedded broker into the full server (auth, ACL,
// validation, fleet state, group-committed SQLite writes, WebSocket stream), beside the same load
// against a bare Aedes broker (no auth, no ingest) in the same run as the baseline.

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { createApp } from '../src/app.js';
import { issueDeviceToken } from '../src/broker/index.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { adminToken } from './bench-api.js';
import { numberArg } from './bench-args.js';
import type { PublisherResult, PublisherTask } from './load-publisher.js';

const PUBLISHER = fileURLToPath(new URL('./load-publisher.ts', import.meta.url));

interface Shape {
  devices: number;
  messages: number;
  rate: number;
  seconds: number;
}

async function runPublisher(task: PublisherTask): Promise<PublisherResult> {
  const child = fork(PUBLISHER, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send(task);
  const [reply] = (await once(child, 'message')) as [PublisherResult | { error: string }];
  await once(child, 'exit');
  if ('error' in reply) throw new Error(`load publisher failed: ${reply.error}`);
  return reply;
}

function cpuMs(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

async function bareBroker(shape: Shape): Promise<{ result: PublisherResult; cpuMs: number }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const cpu = process.cpuUsage();
  try {
    const result = await runPublisher({
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      devices: Array.from({ length: shape.devices }, (_, i) => ({ id: `bench-${i}`, token: null })),
      throughputMessages: shape.messages,
      latencyRatePerDevice: shape.rate,
      latencySeconds: shape.seconds,
      receiver: { kind: 'mqtt', topic: 'cc/v1/devices/+/telemetry' },
    });
    return { result, cpuMs: cpuMs(cpu) };
  } finally {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    server.close();
  }
}

async function fullServer(
  shape: Shape,
): Promise<{ result: PublisherResult; cpuMs: number; stored: number }> {
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
    },
  });
  const devices: Array<{ id: string; token: string }> = [];
  {
    const store = await createSqliteStore({
      file: join(dataDir, config.store.sqliteFile),
      logger: silentLogger(),
    });
    await store.migrate();
    for (let i = 0; i < shape.devices; i++) {
      const id = `bench-${i}`;
      devices.push({ id, token: await issueDeviceToken(store.deviceCredentials, id) });
    }
    await store.close();
  }
  const app = createApp(config, silentLogger());
  const started = await app.start();
  try {
    const httpsBase = `https://127.0.0.1:${started.ports.https}`;
    const token = await adminToken(httpsBase, started.setupUrl ?? '');
    // Every device announces itself with a state snapshot first, as real devices do on connect.
    const cpu = process.cpuUsage();
    const result = await runPublisher({
      brokerUrl: `mqtt://127.0.0.1:${started.ports.mqtt}`,
      devices,
      throughputMessages: shape.messages,
      latencyRatePerDevice: shape.rate,
      latencySeconds: shape.seconds,
      receiver: {
        kind: 'websocket',
        url: `wss://127.0.0.1:${started.ports.https}/api/v1/stream`,
        token,
      },
    });
    const used = cpuMs(cpu);
    const metricsText = await app.metrics
      .getSingleMetricAsString('cc_ingest_messages_total')
      .catch(() => '');
    const stored = [...metricsText.matchAll(/channel="telemetry"\} (\d+)/g)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    return { result, cpuMs: used, stored };
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export async function runIngestBench(args: string[]): Promise<void> {
  const shape: Shape = {
    devices: numberArg(args, 'devices', 100, 1, 2000),
    messages: numberArg(args, 'messages', 200, 1, 100_000),
    rate: numberArg(args, 'rate', 2, 0.1, 100),
    seconds: numberArg(args, 'seconds', 10, 1, 60),
  };
  process.stdout.write(
    `ingest benchmark: ${shape.devices} devices × ${shape.messages} QoS 1 telemetry messages, ` +
      `then ${shape.rate} msg/s per device for ${shape.seconds} s of latency sampling\n`,
  );
  process.stdout.write(
    'baseline: bare Aedes broker (no auth, no ingest), subscriber on cc/v1/devices/+/telemetry …\n',
  );
  const bare = await bareBroker(shape);
  process.stdout.write(
    'server: embedded broker + auth + ACL + ingest + SQLite + WebSocket stream …\n',
  );
  const full = await fullServer(shape);

  const rows = [
    ['', 'bare broker', 'Command Center', 'ratio'],
    [
      'QoS 1 msgs/s (acked)',
      fmt(bare.result.throughput.perSecond),
      fmt(full.result.throughput.perSecond),
      fmt(full.result.throughput.perSecond / bare.result.throughput.perSecond, 2),
    ],
    [
      'telemetry stored',
      '-',
      `${full.stored} of ${shape.devices * shape.messages + full.result.latency.published}`,
      '',
    ],
    [
      'latency p50 (ms)',
      fmt(bare.result.latency.p50, 1),
      fmt(full.result.latency.p50, 1),
      fmt(full.result.latency.p50 / bare.result.latency.p50, 1),
    ],
    [
      'latency p99 (ms)',
      fmt(bare.result.latency.p99, 1),
      fmt(full.result.latency.p99, 1),
      fmt(full.result.latency.p99 / bare.result.latency.p99, 1),
    ],
    [
      'latency samples',
      String(bare.result.latency.samples),
      String(full.result.latency.samples),
      '',
    ],
    ['server CPU (ms)', fmt(bare.cpuMs), fmt(full.cpuMs), fmt(full.cpuMs / bare.cpuMs, 2)],
    ['server RSS (MiB)', '-', fmt(process.memoryUsage().rss / 2 ** 20), ''],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);
  }
  process.stdout.write(
    'latency: publish → bare-broker subscriber vs publish → WebSocket client of /api/v1/stream ' +
      '(includes the stream coalescing interval, stream.coalesceMs)\n',
  );
}
