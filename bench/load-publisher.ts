// Load generator for the ingest benchmark, run in its own process so it does not share the
// server's CPU time: N device connections publish a fixed number of messages, and a receiver
// (a WebSocket stream client or a plain MQTT subscriber) measures publish → receive latency.

import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';

export interface PublisherTask {
  brokerUrl: string;
  devices: Array<{ id: string; token: string | null }>;
  /** Phase 1: QoS 1 messages per device, published as fast as acknowledgements allow. */
  throughputMessages: number;
  /** Phase 2: telemetry messages per device per second while latency is sampled. */
  latencyRatePerDevice: number;
  latencySeconds: number;
  receiver: { kind: 'websocket'; url: string; token: string } | { kind: 'mqtt'; topic: string };
}

export interface PublisherResult {
  throughput: { messages: number; seconds: number; perSecond: number };
  latency: { published: number; samples: number; p50: number; p99: number; max: number };
}

/** Wall-clock milliseconds with sub-millisecond precision (sender and receiver share this process). */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function telemetry(sentAt: number, i: number): string {
  return JSON.stringify({
    ts: new Date(sentAt).toISOString(),
    metrics: { nozzleTemp: 200 + (i % 20), bedTemp: 60 + (i % 5), benchSentAt: sentAt },
  });
}

function stateSnapshot(id: string): string {
  return JSON.stringify({
    ts: new Date().toISOString(),
    kind: 'printer',
    model: 'Bench P1',
    serial: `SN-${id}`,
    name: id,
    firmwareVersion: '1.0.0',
    state: 'idle',
    job: null,
    consumables: [],
    alerts: [],
  });
}

/** Connects every device and has it announce itself with a retained state snapshot, as devices do. */
async function connectAll(task: PublisherTask): Promise<MqttClient[]> {
  return Promise.all(
    task.devices.map(async (d) => {
      const client = await mqtt.connectAsync(task.brokerUrl, {
        clientId: d.id,
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...(d.token === null ? {} : { username: d.id, password: d.token }),
      });
      await client.publishAsync(`cc/v1/devices/${d.id}/state`, stateSnapshot(d.id), {
        qos: 1,
        retain: true,
      });
      return client;
    }),
  );
}

async function throughputPhase(
  task: PublisherTask,
  clients: MqttClient[],
): Promise<PublisherResult['throughput']> {
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, index) => {
      const id = task.devices[index]!.id;
      const pending: Array<Promise<unknown>> = [];
      for (let i = 0; i < task.throughputMessages; i++) {
        pending.push(
          client.publishAsync(`cc/v1/devices/${id}/telemetry`, telemetry(Date.now(), i), {
            qos: 1,
          }),
        );
      }
      await Promise.all(pending);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const messages = clients.length * task.throughputMessages;
  return { messages, seconds, perSecond: messages / seconds };
}

async function openReceiver(
  task: PublisherTask,
  onSentAt: (sentAt: number) => void,
): Promise<() => void> {
  const receiver = task.receiver;
  if (receiver.kind === 'websocket') {
    const ws = new WebSocket(receiver.url, {
      headers: { authorization: `Bearer ${receiver.token}` },
      rejectUnauthorized: false,
    });
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as {
        type?: string;
        device?: { metrics?: Record<string, { value: number }> };
      };
      const sentAt = msg.type === 'device' ? msg.device?.metrics?.benchSentAt?.value : undefined;
      if (typeof sentAt === 'number') onSentAt(sentAt);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return () => ws.close();
  }
  const sub = await mqtt.connectAsync(task.brokerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
  await sub.subscribeAsync(receiver.topic, { qos: 0 });
  sub.on('message', (_topic, payload) => {
    const msg = JSON.parse(payload.toString()) as { metrics?: { benchSentAt?: number } };
    const sentAt = msg.metrics?.benchSentAt;
    if (typeof sentAt === 'number') onSentAt(sentAt);
  });
  return () => void sub.endAsync();
}

async function latencyPhase(
  task: PublisherTask,
  clients: MqttClient[],
): Promise<PublisherResult['latency']> {
  const seen = new Map<number, number>();
  const close = await openReceiver(task, (sentAt) => {
    if (!seen.has(sentAt)) seen.set(sentAt, preciseNow() - sentAt);
  });
  const intervalMs = 1000 / task.latencyRatePerDevice;
  let published = 0;
  const timers = clients.map((client, index) => {
    const id = task.devices[index]!.id;
    let i = 0;
    // Spread devices over the interval so the load is even, as a real fleet's would be.
    const offset = (intervalMs * index) / clients.length;
    let timer: NodeJS.Timeout | undefined;
    const start = setTimeout(() => {
      timer = setInterval(() => {
        client.publish(`cc/v1/devices/${id}/telemetry`, telemetry(preciseNow(), i++), { qos: 0 });
        published++;
      }, intervalMs);
    }, offset);
    return () => {
      clearTimeout(start);
      clearInterval(timer);
    };
  });
  await new Promise((r) => setTimeout(r, task.latencySeconds * 1000));
  for (const stop of timers) stop();
  await new Promise((r) => setTimeout(r, 1000));
  close();
  const values = [...seen.values()].sort((a, b) => a - b);
  const pick = (q: number): number =>
    values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;
  return {
    published,
    samples: values.length,
    p50: pick(0.5),
    p99: pick(0.99),
    max: values.at(-1) ?? NaN,
  };
}

async function run(task: PublisherTask): Promise<PublisherResult> {
  const clients = await connectAll(task);
  const throughput = await throughputPhase(task, clients);
  const latency = await latencyPhase(task, clients);
  await Promise.all(clients.map((c) => c.endAsync()));
  return { throughput, latency };
}

process.once('message', (task: PublisherTask) => {
  run(task).then(
    (result) => {
      process.send?.(result);
      process.disconnect();
    },
    (err: unknown) => {
      process.send?.({ error: String(err) });
      process.disconnect();
    },
  );
});
