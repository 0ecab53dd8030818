// The simulated fleet: one VirtualDevice per provisioned device, started and stopped together.

import { EventEmitter } from 'node:events';
import type { DeviceKind } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { kindFromId } from './fleet-plan.js';
import { deviceSeed } from './prng.js';
import { VirtualDevice, type CommandResult, type SimulatorTlsOptions } from './virtual-device.js';

export interface SimulatorOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  brokerUrl: string;
  devices: { id: string; token: string; kind?: DeviceKind }[];
  logger: Logger;
  /** Real time between telemetry messages (default 2000 ms). */
  telemetryIntervalMs?: number;
  /** Time multiplier for jobs, alerts and consumables (default 1; tests use e.g. 50). */
  speed?: number;
  seed?: number;
  tls?: SimulatorTlsOptions;
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
  const devices = options.devices.map(
    (d) =>
      new VirtualDevice({
        id: d.id,
        token: d.token,
        kind: d.kind ?? kindFromId(d.id),
        brokerUrl: options.brokerUrl,
        logger: log,
        seed: deviceSeed(seed, d.id),
        speed,
        telemetryIntervalMs,
        events,
        ...(options.tls ? { tls: options.tls } : {}),
      }),
  );

  return {
    async start() {
      await Promise.all(devices.map((d) => d.start()));
      const connected = devices.filter((d) => d.connected).length;
      log.info({ devices: devices.length, connected, speed }, 'simulated fleet started');
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
