// One simulated device on the network: speaks MQTT to the broker exactly as a real device would
// (token login, last will, retained status and state, telemetry, events, commands) and/or serves
// its own HTTPS Web Services with a self-signed certificate — no back door. Both channels read and
// act on the one DeviceModel, so an action taken on either shows on both.

import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceKind } from '../domain/index.js';
import type { TrustPolicy } from '../firmware/index.js';
import type { Logger } from '../observability/index.js';
import { DEFAULT_FIRMWARE_MAX_BYTES, DeviceFirmware } from './device-firmware.js';
import { DeviceModel, type CommandOutcome } from './device-model.js';
import { parseCommand, type DeviceRequest } from './mqtt-command.js';
import { createPrng } from './prng.js';
import { createWsBackend } from './web-services-backend.js';
import { WebServicesServer, type WebServicesServerOptions } from './web-services-server.js';

export interface SimulatorTlsOptions {
  /** CA certificate(s) that sign the broker's certificate (PEM). */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
}

/** How one device takes firmware updates over its Web Services. */
export interface DeviceFirmwareSettings {
  /** The vendor keys the device trusts; null or absent: none installed, every package is refused. */
  trust?: TrustPolicy | null;
  /** Largest package accepted (default 1 GiB). */
  maxBytes?: number;
  /** Real time an installation takes (default 5000 ms divided by the speed). */
  installMs?: number;
  /** Installation fails with a flash write error (failure injection). */
  failInstall?: boolean;
  /** Where received packages wait for verification (default the system's temporary directory). */
  tempDir?: string;
}

/** Which ways the device talks: MQTT to the broker, its own HTTPS Web Services, or both. */
export type SimulatorChannels = 'mqtt' | 'web-services' | 'both';

/** Where and how one device serves its Web Services. */
export type DeviceWebServicesOptions = Pick<
  WebServicesServerOptions,
  'address' | 'port' | 'fallbackAddress' | 'username' | 'password' | 'stateDir' | 'onFallback'
>;

export interface VirtualDeviceOptions {
  id: string;
  /** MQTT token; unused (may be '') when the device speaks Web Services only. */
  token: string;
  kind: DeviceKind;
  brokerUrl: string;
  /** Default 'mqtt'. Web Services need `webServices`. */
  channels?: SimulatorChannels;
  webServices?: DeviceWebServicesOptions;
  firmware?: DeviceFirmwareSettings;
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

/** Nominal time an installation takes, divided by the speed like every other duration. */
const NOMINAL_INSTALL_MS = 5000;
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
  private readonly speaksMqtt: boolean;
  private readonly webServices: WebServicesServer | undefined;
  private readonly firmware: DeviceFirmware;

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
    const fw = options.firmware ?? {};
    this.firmware = new DeviceFirmware({
      deviceId: options.id,
      trust: fw.trust ?? null,
      maxBytes: fw.maxBytes ?? DEFAULT_FIRMWARE_MAX_BYTES,
      installMs: fw.installMs ?? NOMINAL_INSTALL_MS / options.speed,
      failInstall: fw.failInstall ?? false,
      tempDir: fw.tempDir ?? tmpdir(),
      logger: this.log,
      target: {
        model: () => this.model.identity.model,
        installedVersion: () => this.model.identity.firmwareVersion,
        now: () => this.now(),
        beginUpdate: () => {
          this.model.beginUpdate();
          this.step();
        },
        endUpdate: (version) => {
          this.model.endUpdate(version);
          this.step();
        },
      },
    });
    const channels = options.channels ?? 'mqtt';
    this.speaksMqtt = channels !== 'web-services';
    if (channels !== 'mqtt') {
      if (!options.webServices) {
        throw new Error(`device ${options.id}: channels '${channels}' need webServices options`);
      }
      this.webServices = new WebServicesServer({
        ...options.webServices,
        deviceId: options.id,
        logger: this.log,
        backend: createWsBackend(this.model, this.firmware, {
          refresh: () => {
            this.step();
          },
          perform: (request) => this.perform(request),
        }),
      });
    }
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** `https://address:port` of the device's Web Services, once started; undefined without them. */
  get webServicesUrl(): string | undefined {
    return this.webServices?.url;
  }

  /** SHA-256 of the device's DER certificate, colon-separated upper-case hex. */
  get certificateFingerprint(): string | undefined {
    return this.webServices?.fingerprint256;
  }

  /**
   * Serves Web Services (when configured) and connects to the broker (when it speaks MQTT);
   * resolves after the first MQTT attempt either way (the device keeps retrying).
   */
  async start(): Promise<void> {
    this.stopping = false;
    if (this.webServices) await this.webServices.start();
    this.timer = setInterval(() => this.tick(), this.options.telemetryIntervalMs);
    if (!this.speaksMqtt) return;
    const client = this.connect();
    await new Promise<void>((resolve) => {
      client.once('connect', () => resolve());
      client.once('close', () => resolve());
    });
  }

  /** The device's HTTPS API goes away: listener closed, open connections dropped. */
  async stopWebServices(): Promise<void> {
    await this.requireWebServices().stop();
  }

  /** The HTTPS API comes back on the same address, port and certificate. */
  async startWebServices(): Promise<void> {
    await this.requireWebServices().start();
  }

  /** A new key and certificate (a new fingerprint), served on the same address and port. */
  async rotateCertificate(): Promise<void> {
    await this.requireWebServices().rotateCertificate();
  }

  private requireWebServices(): WebServicesServer {
    if (!this.webServices) throw new Error(`device ${this.id} does not serve Web Services`);
    return this.webServices;
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
    await this.webServices?.stop();
    await this.firmware.stop();
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

  /** Brings the model to now; what happened goes out over MQTT when connected. */
  private step(): void {
    const topics = this.topics();
    const { events, stateChanged } = this.model.advance(this.now());
    if (!this.connected) return;
    for (const event of events) this.publish(topics.events, event, 1);
    if (stateChanged) this.publish(topics.state, this.model.snapshot(), 1, true);
  }

  private tick(): void {
    this.step();
    if (this.connected) this.publish(this.topics().telemetry, this.model.telemetry(), 0);
  }

  /** The one action path of both channels: act on the model, announce the change over MQTT. */
  private perform(request: DeviceRequest): CommandOutcome {
    this.step();
    const outcome =
      request.action === 'acknowledge'
        ? this.model.acknowledgeAlert(request.alertId)
        : this.model.command(request.action, request.jobId);
    const topics = this.topics();
    for (const event of outcome.events) this.publish(topics.events, event, 1);
    if (outcome.events.length > 0) this.publish(topics.state, this.model.snapshot(), 1, true);
    return outcome;
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.topics().commands) return;
    const command = parseCommand(payload);
    if (command.kind === 'ignored') {
      this.log.warn({ why: command.why }, 'ignoring a command');
      return;
    }
    const outcome =
      command.kind === 'request'
        ? this.perform(command.request)
        : { ok: false, message: command.message };
    const result: CommandResult = {
      commandId: command.id,
      action: command.action,
      ok: outcome.ok,
      message: outcome.message,
      ts: new Date(this.now()).toISOString(),
    };
    this.publish(`${this.topics().commands}/${command.id}/result`, result, 1);
    this.options.events.emit('command', this.id, result);
  }
}
