// The simulated fleet: one VirtualDevice per provisioned device, started and stopped together,
// each speaking MQTT, serving its own Web Services on its own loopback address, or both.

import { EventEmitter } from 'node:events';
import type { DeviceKind } from '../domain/index.js';
import { createTrustPolicy, type VendorKey } from '../firmware/index.js';
import type { Logger } from '../observability/index.js';
import { kindFromId } from './fleet-plan.js';
import { addressAt, parseIpv4 } from './loopback-addresses.js';
import { deviceSeed } from './prng.js';
import {
  VirtualDevice,
  type CommandResult,
  type DeviceFirmwareSettings,
  type DeviceWebServicesOptions,
  type SimulatorChannels,
  type SimulatorTlsOptions,
} from './virtual-device.js';

export interface SimulatorWebServicesOptions {
  /** IPv4 address of the first device; device i listens on the i-th usable address after it. */
  firstAddress: string;
  /** Port every device listens on (0: an ephemeral one each). */
  port: number;
  /** The admin password of every device (HTTP Basic). */
  password: string;
  /** Default 'admin'. */
  username?: string;
  /** Keeps each device's key and certificate (`<id>.key`, `<id>.crt`) across restarts. */
  stateDir?: string;
}

/** Firmware updates over the devices' Web Services (docs/protocols/web-services.md). */
export interface SimulatorFirmwareOptions {
  /**
   * The vendor public keys every device trusts (each device holds its own copy). Without any, the
   * devices refuse every package with "no vendor key installed".
   */
  vendorKeys?: readonly VendorKey[];
  /** Distinct vendor signatures a package needs (default 1). */
  threshold?: number;
  /** Largest package a device accepts (default 1 GiB). */
  maxBytes?: number;
  /** Nominal time an installation takes (default 5000 ms), divided by `speed`. */
  installMs?: number;
  /** Devices whose installation fails ("installation failed: flash write error"). */
  failInstall?: readonly string[];
  /** Where devices keep a received package until it is verified (default the system's). */
  tempDir?: string;
}

export interface SimulatorOptions {
  /** `mqtt://host:port` or `mqtts://host:port`; needed unless `channels` is 'web-services'. */
  brokerUrl?: string;
  /** `token` may be '' for devices that speak Web Services only. */
  devices: { id: string; token: string; kind?: DeviceKind }[];
  /** Default 'mqtt'; 'web-services' and 'both' need `webServices`. */
  channels?: SimulatorChannels;
  webServices?: SimulatorWebServicesOptions;
  firmware?: SimulatorFirmwareOptions;
  logger: Logger;
  /** Real time between telemetry messages (default 2000 ms). */
  telemetryIntervalMs?: number;
  /** Time multiplier for jobs, alerts and consumables (default 1; tests use e.g. 50). */
  speed?: number;
  seed?: number;
  tls?: SimulatorTlsOptions;
  /** The devices' clock (default Date.now); tests move it forward to skip waiting. */
  now?: () => number;
}

export interface SimulatorEvents {
  connect: [deviceId: string];
  disconnect: [deviceId: string];
  command: [deviceId: string, result: CommandResult];
}

export interface Simulator {
  start(): Promise<void>;
  stop(): Promise<void>;
  devices(): VirtualDevice[];
  on<E extends keyof SimulatorEvents>(
    event: E,
    listener: (...args: SimulatorEvents[E]) => void,
  ): () => void;
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const log = options.logger.child({ subsystem: 'simulator' });
  const events = new EventEmitter();
  const seed = options.seed ?? 1;
  const speed = options.speed !== undefined && options.speed > 0 ? options.speed : 1;
  const telemetryIntervalMs = Math.max(10, options.telemetryIntervalMs ?? 2000);
  const channels = options.channels ?? 'mqtt';
  if (channels !== 'web-services' && !options.brokerUrl) {
    throw new Error(`a broker URL is needed for channels '${channels}'`);
  }
  const webServices = channels === 'mqtt' ? undefined : webServicesPlan(options, log);
  const firmware = firmwarePlan(options.firmware, speed);
  const devices = options.devices.map(
    (d, i) =>
      new VirtualDevice({
        id: d.id,
        token: d.token,
        kind: d.kind ?? kindFromId(d.id),
        brokerUrl: options.brokerUrl ?? '',
        channels,
        ...(webServices ? { webServices: webServices(i) } : {}),
        firmware: firmware(d.id),
        logger: log,
        seed: deviceSeed(seed, d.id),
        speed,
        telemetryIntervalMs,
        events,
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.now ? { now: options.now } : {}),
      }),
  );

  return {
    async start() {
      const results = await Promise.allSettled(devices.map((d) => d.start()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        // Half a fleet is no use and would leak listeners: stop what did start, then report.
        await Promise.all(devices.map((d) => d.stop()));
        throw failed.reason;
      }
      const connected = devices.filter((d) => d.connected).length;
      const serving = devices.filter((d) => d.webServicesUrl !== undefined).length;
      log.info(
        { devices: devices.length, channels, connected, serving, speed },
        'simulated fleet started',
      );
    },
    async stop() {
      await Promise.all(devices.map((d) => d.stop()));
      events.removeAllListeners();
    },
    devices: () => [...devices],
    on(event, listener) {
      const handler = listener as (...args: unknown[]) => void;
      events.on(event, handler);
      return () => events.off(event, handler);
    },
  };
}

/** Each device's firmware settings by id; the trust policy is checked once, up front. */
function firmwarePlan(
  options: SimulatorFirmwareOptions | undefined,
  speed: number,
): (deviceId: string) => DeviceFirmwareSettings {
  const keys = options?.vendorKeys ?? [];
  const trust = keys.length > 0 ? createTrustPolicy(keys, options?.threshold ?? 1) : null;
  const maxBytes = options?.maxBytes;
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw new Error(`firmware.maxBytes must be a positive whole number, got ${maxBytes}`);
  }
  const installMs = options?.installMs;
  if (installMs !== undefined && !(installMs >= 0 && Number.isFinite(installMs))) {
    throw new Error(`firmware.installMs must be a number ≥ 0, got ${installMs}`);
  }
  const failing = new Set(options?.failInstall ?? []);
  return (deviceId) => ({
    trust,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(installMs !== undefined ? { installMs: installMs / speed } : {}),
    failInstall: failing.has(deviceId),
    ...(options?.tempDir !== undefined ? { tempDir: options.tempDir } : {}),
  });
}

/** Each device's Web Services settings by index; validates the shared ones once, up front. */
function webServicesPlan(
  options: SimulatorOptions,
  log: Logger,
): (index: number) => DeviceWebServicesOptions {
  const ws = options.webServices;
  if (!ws) throw new Error(`channels '${options.channels ?? 'mqtt'}' need webServices options`);
  parseIpv4(ws.firstAddress);
  if (!Number.isInteger(ws.port) || ws.port < 0 || ws.port > 65_535) {
    throw new Error(`webServices.port must be an integer from 0 to 65535, got ${ws.port}`);
  }
  if (ws.password.length === 0) throw new Error('webServices.password must not be empty');
  // Fails now, not halfway through start, when the fleet would run past the end of the space.
  addressAt(ws.firstAddress, Math.max(0, options.devices.length - 1));
  let warned = false;
  return (index) => ({
    address: addressAt(ws.firstAddress, index),
    port: ws.port,
    fallbackAddress: ws.firstAddress,
    username: ws.username ?? 'admin',
    password: ws.password,
    ...(ws.stateDir !== undefined ? { stateDir: ws.stateDir } : {}),
    onFallback: ({ wanted, code, bound }) => {
      if (warned) return;
      warned = true;
      log.warn(
        { wanted, code, bound, firstAddress: ws.firstAddress },
        'cannot bind a device Web Services address; devices fall back to ephemeral ports on the first address',
      );
    },
  });
}
