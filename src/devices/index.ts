// Devices over their own Web Services: the client (with certificate pinning), the registry of
// added devices, the poller, discovery, remote commands and firmware pushes — wired together by
// createDeviceServices.

import type { SecretBox } from '../auth/index.js';
import type { AppConfig } from '../config/index.js';
import type { FleetChange, FleetReader } from '../domain/index.js';
import type { Logger, Registry } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { createCommandService, type CommandBus, type CommandService } from './commands.js';
import {
  discover,
  expandTargets,
  type DiscoveredDevice,
  type DiscoveryResult,
} from './discovery.js';
import { createFirmwarePush, type FirmwarePush } from './firmware-push.js';
import { createPoller, type Poller } from './poller.js';
import { createDeviceRegistry, type DeviceRegistry, type FleetPort } from './registry.js';
import { createWsClient, type WsClient } from './ws-client.js';

export { normalizeFingerprint } from './fingerprint.js';
export {
  createDeviceRegistry,
  CERTIFICATE_CHANGED,
  SYSTEM_ACTOR,
  type Actor,
  type AddDeviceRequest,
  type AddDeviceResult,
  type DeviceRegistry,
  type FleetPort,
  type RegistrationView,
} from './registry.js';
export { createPoller, type Poller, type PollerConfig, type PollerStats } from './poller.js';
export {
  createCommandService,
  type CommandBus,
  type CommandService,
  type SendCommandRequest,
} from './commands.js';
export {
  createFirmwarePush,
  type FirmwarePush,
  type FirmwarePushDeps,
  type FirmwarePushOptions,
  type FirmwarePushProgress,
  type FirmwarePushResult,
  type FirmwarePushService,
} from './firmware-push.js';
export {
  discover,
  expandTargets,
  targetUrl,
  MAX_DISCOVERY_TARGETS,
  type DiscoveredDevice,
  type DiscoveryResult,
  type DiscoveryTarget,
} from './discovery.js';
export {
  createPinnedConnector,
  pinMismatchOf,
  type PinnedConnectorOptions,
} from './pinned-connector.js';
export {
  createWsClient,
  normalizeBaseUrl,
  type DeviceCredential,
  type DeviceEndpoint,
  type ProbeResult,
  type WsClient,
  type WsClientOptions,
} from './ws-client.js';

export interface DiscoverRequest {
  targets: string[];
  ports?: number[];
  /** Per probe, ms. */
  timeoutMs?: number;
}

export interface DiscoverResponse extends Omit<DiscoveryResult, 'found'> {
  found: (DiscoveredDevice & { registered: boolean })[];
}

export interface DeviceServices {
  registry: DeviceRegistry;
  commands: CommandService;
  poller: Poller;
  /** Pushes a firmware package to one device (the rollout engine's way to a device). */
  firmware: FirmwarePush;
  discover(
    request: DiscoverRequest,
    onProgress?: (p: { done: number; total: number; found: number }) => void,
  ): Promise<DiscoverResponse>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DeviceServicesDeps {
  store: Store;
  fleet: FleetPort & FleetReader & { publish(change: FleetChange): void };
  secrets: SecretBox;
  bus: CommandBus | null;
  logger: Logger;
  metrics: Registry;
  /** A client to use instead of one built from config (tests, benchmarks). */
  client?: WsClient;
}

const DISCOVERY_DEADLINE_MS = 120_000;
const DEFAULT_PROBE_TIMEOUT_MS = 3000;

export function createDeviceServices(
  deps: DeviceServicesDeps,
  config: AppConfig['devices'],
): DeviceServices {
  const log = deps.logger;
  const client =
    deps.client ??
    createWsClient({
      timeoutMs: config.requestTimeoutMs,
      maxResponseBytes: config.maxResponseBytes,
      connectionsPerDevice: 2,
      keepAliveMs: Math.max(config.pollActiveMs * 2, 10_000),
      logger: log.child({ component: 'ws-client' }),
    });
  const registry = createDeviceRegistry({
    store: deps.store,
    fleet: deps.fleet,
    client,
    secrets: deps.secrets,
    logger: log,
  });
  const poller = createPoller(
    {
      registry,
      client,
      fleet: { mutate: (fn) => deps.fleet.mutate(fn), reader: deps.fleet },
      logger: log.child({ component: 'poller' }),
      metrics: deps.metrics,
    },
    config,
  );
  registry.attachPoller(poller);
  const commands = createCommandService(
    {
      store: deps.store,
      fleet: deps.fleet,
      client,
      registry,
      bus: deps.bus,
      pollNow: (id) => poller.pollNow(id),
      logger: log.child({ component: 'commands' }),
    },
    config,
  );

  const firmware = createFirmwarePush({
    registry,
    client,
    logger: log.child({ component: 'firmware-push' }),
    connectTimeoutMs: config.requestTimeoutMs,
  });

  return {
    registry,
    commands,
    poller,
    firmware,
    async discover(request, onProgress) {
      const targets = expandTargets(request.targets, request.ports ?? [443]);
      const timeoutMs = request.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
      const result = await discover(targets, {
        probe: (url, o) => client.probe(url, o),
        concurrency: config.discoveryConcurrency,
        timeoutMs,
        deadlineMs: DISCOVERY_DEADLINE_MS,
        ...(onProgress ? { onProgress } : {}),
      });
      const known = new Set(
        (await deps.store.registrations.all())
          .filter((r) => r.baseUrl !== null)
          .map((r) => r.deviceId),
      );
      return {
        ...result,
        found: result.found.map((f) => ({ ...f, registered: known.has(f.identity.id) })),
      };
    },
    async start() {
      await registry.load();
      await commands.start();
      await poller.start();
    },
    async stop() {
      await firmware.stop();
      await poller.stop();
      await commands.stop();
      await client.close();
    },
  };
}
