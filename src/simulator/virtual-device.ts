// One simulated device on the network: speaks MQTT to the broker exactly as a real device would
// (token login, last will, retained status and state, telemetry, events, commands) — no back door.

import type { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceKind } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { DeviceModel, type CommandAction } from './device-model.js';
import { createPrng } from './prng.js';

export interface SimulatorTlsOptions {
  /** CA certificate(s) that sign the broker's certificate (PEM). */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export interface VirtualDeviceOptions {
  id: string;
  token: string;
  kind: DeviceKind;
  brokerUrl: string;
  logger: Logger;
  seed: number;
  speed: number;
  telemetryIntervalMs: number;
  tls?: SimulatorTlsOptions;
  /** Receives 'connect', 'disconnect' and 'command' events for the whole simulator. */
  events: EventEmitter;
  now?: () => number;
}

export interface CommandResult {
  commandId: string;
  action: string;
  ok: boolean;
  message: string;
  ts: string;
}

const COMMAND_ID = /^[A-Za-z0-9._-]{1,64}$/;
const ACTIONS: readonly string[] = ['pause', 'resume', 'cancel'] satisfies CommandAction[];
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Longest stop() waits for the broker's acks before closing the socket anyway. */
const STOP_GRACE_MS = 2000;

/** True when `promise` fulfils within `ms`; false when it rejects or takes longer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class VirtualDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly model: DeviceModel;
  private readonly options: VirtualDeviceOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly jitter: () => number;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopping = false;

  constructor(options: VirtualDeviceOptions) {
    this.options = options;
    this.id = options.id;
    this.kind = options.kind;
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ deviceId: options.id });
    this.model = new DeviceModel({
      id: options.id,
      kind: options.kind,
      seed: options.seed,
      speed: options.speed,
      startMs: this.now(),
    });
    const prng = createPrng(options.seed ^ 0x5eed);
    this.jitter = () => prng.next();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects; resolves after the first attempt either way (the device keeps retrying). */
  start(): Promise<void> {
    this.stopping = false;
    const client = this.connect();
    this.timer = setInterval(() => this.tick(), this.options.telemetryIntervalMs);
    return new Promise((resolve) => {
      client.once('connect', () => resolve());
      client.once('close', () => resolve());
    });
  }

  // Each attempt uses a fresh client: messages in flight on a dead connection are given up, and
  // the device republishes its retained status and state on the next CONNACK instead.
  private connect(): MqttClient {
    const topics = this.topics();
    const tls = this.options.tls;
    const clientOptions: IClientOptions = {
      clientId: this.id,
      username: this.id,
      password: this.options.token,
      protocolVersion: 4,
      // Keep the commands subscription (and queued commands) across reconnects.
      clean: false,
      keepalive: 30,
      connectTimeout: 10_000,
      // Reconnects are scheduled here, with exponential backoff and jitter (see onClose).
      reconnectPeriod: 0,
      will: { topic: topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: tls.rejectUnauthorized }
        : {}),
    };
    const client = mqtt.connect(this.options.brokerUrl, clientOptions);
    this.client = client;
    client.on('connect', (connack) => this.onConnect(connack.sessionPresent));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('close', () => this.onClose(client));
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'simulated device connection error');
    });
    return client;
  }

  /** Goes offline politely: retained `offline`, then DISCONNECT (so the will is not needed). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      const offline = client.publishAsync(this.topics().status, 'offline', {
        qos: 1,
        retain: true,
      });
      if (await settlesWithin(offline, STOP_GRACE_MS)) {
        // A DISCONNECT after the retained offline status: the broker discards the will.
        if (await settlesWithin(client.endAsync(), STOP_GRACE_MS)) return;
      }
    }
    // Unreachable or unresponsive broker: close the socket without waiting for acks.
    await client.endAsync(true);
  }

  /** Cuts the network connection without a DISCONNECT, as a pulled cable would. */
  dropConnection(): void {
    this.client?.stream.destroy();
  }

  private topics(): Record<'state' | 'telemetry' | 'events' | 'status' | 'commands', string> {
    const base = `cc/v1/devices/${this.id}`;
    return {
      state: `${base}/state`,
      telemetry: `${base}/telemetry`,
      events: `${base}/events`,
      status: `${base}/status`,
      commands: `${base}/commands`,
    };
  }

  private publish(topic: string, body: unknown, qos: 0 | 1, retain = false): void {
    const client = this.client;
    if (!client?.connected) return;
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    client.publish(topic, payload, { qos, retain }, (err) => {
      if (err) this.log.debug({ err: err.message, topic }, 'publish failed');
    });
  }

  private onConnect(sessionPresent: boolean): void {
    this.attempts = 0;
    const topics = this.topics();
    this.model.advance(this.now());
    this.publish(topics.status, 'online', 1, true);
    this.publish(topics.state, this.model.snapshot(), 1, true);
    if (!sessionPresent) {
      this.client?.subscribe(topics.commands, { qos: 1 }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'commands subscription refused');
      });
    }
    this.options.events.emit('connect', this.id);
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.options.events.emit('disconnect', this.id);
    if (this.stopping) return;
    client.end(true);
    clearTimeout(this.reconnectTimer);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempts);
    this.attempts += 1;
    // Full jitter between half and all of the ceiling, so a fleet does not reconnect in lockstep.
    const delay = ceiling * (0.5 + this.jitter() / 2);
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopping) this.connect();
    }, delay);
  }

  private tick(): void {
    const topics = this.topics();
    const { events, stateChanged } = this.model.advance(this.now());
    if (!this.connected) return;
    for (const event of events) this.publish(topics.events, event, 1);
    if (stateChanged) this.publish(topics.state, this.model.snapshot(), 1, true);
    this.publish(topics.telemetry, this.model.telemetry(), 0);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.topics().commands) return;
    let command: unknown;
    try {
      command = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn('ignoring a command that is not JSON');
      return;
    }
    const { id, action } = (command ?? {}) as { id?: unknown; action?: unknown };
    if (typeof id !== 'string' || !COMMAND_ID.test(id)) {
      this.log.warn('ignoring a command without a valid id');
      return;
    }
    const known = typeof action === 'string' && ACTIONS.includes(action);
    this.model.advance(this.now());
    const outcome = known
      ? this.model.command(action as CommandAction)
      : { ok: false, message: 'unknown action', events: [] };
    const result: CommandResult = {
      commandId: id,
      action: typeof action === 'string' ? action.slice(0, 32) : '',
      ok: outcome.ok,
      message: outcome.message,
      ts: new Date(this.now()).toISOString(),
    };
    const topics = this.topics();
    for (const event of outcome.events) this.publish(topics.events, event, 1);
    if (outcome.events.length > 0) this.publish(topics.state, this.model.snapshot(), 1, true);
    this.publish(`${topics.commands}/${id}/result`, result, 1);
    this.options.events.emit('command', this.id, result);
  }
}
