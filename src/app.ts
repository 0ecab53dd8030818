// Composition root: builds every subsystem from the configuration, starts them in dependency order
// and stops them in reverse. The only module (with cli/) that knows all the others.

import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createApiServer } from './api/index.js';
import { createAuth, createSecretBox, loadSecretKey } from './auth/index.js';
import { startDemoCloud } from './cloud-receiver/index.js';
import { createEmbeddedBroker, issueDeviceToken } from './broker/index.js';
import type { AppConfig } from './config/index.js';
import { CcError } from './domain/index.js';
import { createDeviceServices } from './devices/index.js';
import {
  createDiagnosticsService,
  doctorSettingsOf,
  proxyLabelOf,
  serverDoctorOptions,
} from './diagnostics/index.js';
import { catalogSettingsOf, createFirmwareCatalog } from './firmware/catalog/index.js';
import { createRolloutService } from './firmware/rollouts/index.js';
import { createIngest } from './ingest/index.js';
import {
  allocatePorts,
  ensureTlsCertificate,
  rememberPorts,
  tlsServerOptions,
} from './net/index.js';
import type { Logger, Registry } from './observability/index.js';
import { createMetricsRegistry, registerFleetMetrics } from './observability/index.js';
import { createSimulator, planFleet } from './simulator/index.js';
import { createApiProxy } from './proxy/index.js';
import { createStorageHealth } from './storage-health/index.js';
import { openStore } from './store/index.js';
import {
  createOutboxMetrics,
  createServerStatus,
  proxyChoiceOf,
  createUplink,
  createUplinkMetrics,
} from './uplink/index.js';
import { productVersion } from './cli/version.js';

export interface AppPorts {
  https: number;
  http: number;
  mqtt: number;
  /** MQTT over TLS, when `mqtt.tls` is on. */
  mqtts?: number;
  /** The API Proxy, when `apiProxy.enabled` is on. */
  apiProxy?: number;
}

export interface StartedApp {
  ports: AppPorts;
  urls: {
    dashboard: string;
    api: string;
    docs: string;
    mqtt: string;
    mqtts?: string;
    http: string;
    /** Base of proxied device calls: `<apiProxy>/devices/<id>/ws/v1/…`. */
    apiProxy?: string;
  };
  /** One-time link that creates the first admin; null once an admin exists. */
  setupUrl: string | null;
  certificate: { fingerprint256: string; source: string; certPath: string };
  demoDevices: number;
  /** The local reference cloud the demo's uplink reports to, and how to enroll with it. */
  demoCloud?: { url: string; organizationId: string; enrollmentToken: string };
}

export interface App {
  start(): Promise<StartedApp>;
  stop(): Promise<void>;
  readonly metrics: Registry;
}

type Stopper = () => Promise<void>;

export function createApp(config: AppConfig, logger: Logger): App {
  const metrics = createMetricsRegistry({ defaultMetrics: true });
  const stoppers: Stopper[] = [];
  let stopping: Promise<void> | undefined;

  async function start(): Promise<StartedApp> {
    const startedAt = new Date();
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const publicHost = config.publicHost ?? hostname();

    const { ports } = await allocatePorts({
      ranges: {
        https: config.ports.https,
        http: config.ports.http,
        mqtt: config.ports.mqtt,
        mqtts: config.ports.mqtt,
        apiProxy: config.ports.apiProxy,
      },
      services: [
        'https',
        'http',
        'mqtt',
        ...(config.mqtt.tls ? (['mqtts'] as const) : []),
        ...(config.apiProxy.enabled ? (['apiProxy'] as const) : []),
      ],
      host: config.bindHost,
      stateFile: join(config.dataDir, 'ports.json'),
      logger: logger.child({ subsystem: 'net' }),
    });
    const mqttsPort = config.mqtt.tls ? ports.mqtts : undefined;
    let apiProxyPort: number | undefined;

    const tls = await ensureTlsCertificate({
      dataDir: config.dataDir,
      certFile: config.tls.certFile,
      keyFile: config.tls.keyFile,
      hostNames: [publicHost],
      logger: logger.child({ subsystem: 'tls' }),
    });

    const store = await openStore(
      config.store,
      config.dataDir,
      logger.child({ subsystem: 'store' }),
    );
    stoppers.push(() => store.close());
    await store.migrate();

    // Before every writer: each asks it whether there is room, and tells it of writes that failed.
    const storage = createStorageHealth(
      { store, logger: logger.child({ subsystem: 'storage' }), metrics },
      {
        dataDir: config.dataDir,
        otherDirs: [dirname(resolve(config.dataDir, config.store.sqliteFile))],
        minFreeBytes: config.storage.minFreeMb * 1024 * 1024,
        checkIntervalMs: config.storage.checkIntervalSeconds * 1000,
      },
    );
    await storage.start();
    stoppers.push(() => storage.stop());

    const ingest = createIngest(
      { store, logger: logger.child({ subsystem: 'ingest' }), metrics, storage },
      config.ingest,
    );
    await ingest.start();
    stoppers.push(() => ingest.stop());
    registerFleetMetrics(metrics, ingest.fleet);

    const auth = createAuth({ store, logger: logger.child({ subsystem: 'auth' }) }, config.auth);
    const setupToken = await auth.prepareSetup();

    const broker = createEmbeddedBroker(
      {
        logger: logger.child({ subsystem: 'broker' }),
        metrics,
        credentials: store.deviceCredentials,
        ingest,
      },
      {
        host: config.bindHost,
        port: ports.mqtt,
        maxPacketBytes: config.mqtt.maxPacketBytes,
        keepaliveLimitSeconds: config.mqtt.keepaliveLimitSeconds,
        ...(mqttsPort !== undefined
          ? { tlsListener: { port: mqttsPort, tls: tlsServerOptions(tls) } }
          : {}),
      },
    );
    await broker.start();
    stoppers.push(() => broker.stop());
    const unsubscribeFleet = ingest.onChange((change) => broker.publishFleetChange(change));
    stoppers.push(() => Promise.resolve(unsubscribeFleet()));

    const secrets = createSecretBox(await loadSecretKey(join(config.dataDir, 'secret.key')));
    const devices = createDeviceServices(
      {
        store,
        fleet: {
          get: (id) => ingest.fleet.get(id),
          list: () => ingest.fleet.list(),
          mutate: (fn) => ingest.mutate(fn),
          publish: (change) => ingest.publish(change),
        },
        secrets,
        bus: {
          publish: (topic, payload, options) => broker.publish(topic, payload, options),
          subscribe: (filter, listener) => broker.subscribe(filter, listener),
        },
        logger: logger.child({ subsystem: 'devices' }),
        metrics,
      },
      config.devices,
    );
    await devices.start();
    stoppers.push(() => devices.stop());

    let demoCloud: StartedApp['demoCloud'];
    let uplinkSettings = { ...config.uplink, ca: await readUplinkCa(config.uplink.caFile) };
    if (config.demo.enabled && config.demo.cloud) {
      const demo = await startDemoCloud({
        dataDir: join(config.dataDir, 'demo-cloud'),
        reportIntervalSeconds: config.uplink.intervalSeconds,
        logger: logger.child({ subsystem: 'demo-cloud' }),
      });
      stoppers.push(() => demo.receiver.stop());
      uplinkSettings = {
        ...uplinkSettings,
        endpoint: demo.info.url,
        allowedHosts: [...uplinkSettings.allowedHosts, new URL(demo.info.url).host],
        ca: demo.info.caCertPem,
      };
      demoCloud = {
        url: demo.info.url,
        organizationId: demo.organizationId,
        enrollmentToken: demo.enrollmentToken,
      };
    }
    const uplink = createUplink(
      {
        store,
        fleet: { list: () => ingest.fleet.list() },
        onChange: (listener) => ingest.onChange(listener),
        secrets,
        audit: auth.audit,
        logger: logger.child({ subsystem: 'uplink' }),
        server: createServerStatus({
          version: productVersion(),
          startedAt,
          hostName: publicHost,
          dataDir: config.dataDir,
          metrics,
          storeReady: async () => {
            await store.users.count();
            return true;
          },
        }),
        version: productVersion(),
        outboxMetrics: createOutboxMetrics(metrics),
        metrics: createUplinkMetrics(metrics),
        storage,
      },
      uplinkSettings,
    );
    await uplink.start();
    stoppers.push(() => uplink.stop());

    const firmwareLogger = logger.child({ subsystem: 'firmware' });
    const firmwareSettings = await catalogSettingsOf(config.firmware, config.dataDir);
    if (firmwareSettings.trust === null) {
      firmwareLogger.warn(
        'no vendor keys configured (firmware.trustedKeys): every firmware upload and sync is refused',
      );
    }
    const firmware = createFirmwareCatalog(
      { store, logger: firmwareLogger, audit: auth.audit, metrics },
      firmwareSettings,
    );
    await firmware.start();
    stoppers.push(() => firmware.stop());
    // After the devices: a rollout stops (its pushes cancelled) before the device services do.
    const rollouts = createRolloutService(
      {
        store,
        fleet: ingest.fleet,
        push: devices.firmware,
        firmwareDir: firmwareSettings.dir,
        audit: auth.audit,
        logger: firmwareLogger.child({ component: 'rollouts' }),
      },
      {
        pushTimeoutMs: config.firmware.rolloutPushTimeoutSeconds * 1000,
        maxConcurrency: config.firmware.rolloutMaxConcurrency,
      },
    );
    await rollouts.start();
    stoppers.push(() => rollouts.stop());

    const doctorSettings = doctorSettingsOf(config.doctor);
    const doctorProxy = proxyChoiceOf(config.uplink);
    const diagnostics = createDiagnosticsService({
      logger: logger.child({ subsystem: 'diagnostics' }),
      proxyLabel: () => proxyLabelOf(doctorSettings, doctorProxy),
      options: () =>
        Promise.resolve(
          serverDoctorOptions({
            settings: doctorSettings,
            proxy: doctorProxy,
            ca: uplinkSettings.ca,
            bindHost: config.bindHost,
            ranges: [
              { key: 'ports.https', ...config.ports.https },
              { key: 'ports.http', ...config.ports.http },
              { key: 'ports.mqtt', ...config.ports.mqtt },
              ...(config.apiProxy.enabled
                ? [{ key: 'ports.apiProxy', ...config.ports.apiProxy }]
                : []),
            ],
            ours: [
              ports.https,
              ports.http,
              ports.mqtt,
              ...(mqttsPort !== undefined ? [mqttsPort] : []),
              ...(apiProxyPort !== undefined ? [apiProxyPort] : []),
            ],
            mqttPort: ports.mqtt,
            dataDir: config.dataDir,
            minFreeBytes: config.storage.minFreeMb * 1024 * 1024,
            database: async () => `the store answers (${String(await store.users.count())} users)`,
          }),
        ),
    });
    stoppers.push(() => diagnostics.stop());

    const httpsBase = `https://${formatHost(publicHost)}:${ports.https}`;
    const api = createApiServer(
      {
        logger: logger.child({ subsystem: 'api' }),
        metrics,
        store,
        ingest,
        auth,
        devices,
        uplink,
        firmware,
        rollouts,
        storage,
        diagnostics,
        mqtt: {
          disconnect: (id) => broker.disconnect(id),
          isConnected: (id) => broker.isConnected(id),
        },
        info: () => ({
          version: productVersion(),
          startedAt: startedAt.toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
          ports: {
            https: ports.https,
            http: ports.http,
            mqtt: ports.mqtt,
            ...(mqttsPort !== undefined ? { mqtts: mqttsPort } : {}),
            // Read at request time: the proxy starts after the API.
            ...(apiProxyPort !== undefined ? { apiProxy: apiProxyPort } : {}),
          },
        }),
      },
      {
        host: config.bindHost,
        httpsPort: ports.https,
        httpPort: ports.http,
        tls: tlsServerOptions(tls),
        caCertPem: tls.cert,
        bodyLimit: config.http.bodyLimit,
        requestTimeoutMs: config.http.requestTimeoutMs,
        maxHeaderBytes: config.http.maxHeaderBytes,
        corsOrigins: config.http.corsOrigins,
        stream: config.stream,
      },
    );
    await api.start();
    stoppers.push(() => api.stop());

    if (config.apiProxy.enabled) {
      const proxy = createApiProxy(
        {
          auth,
          registry: devices.registry,
          fleet: ingest.fleet,
          audit: store.audit,
          logger: logger.child({ subsystem: 'proxy' }),
          metrics,
        },
        {
          host: config.bindHost,
          port: ports.apiProxy,
          range: config.ports.apiProxy,
          exclude: [
            ports.https,
            ports.http,
            ports.mqtt,
            ...(mqttsPort !== undefined ? [mqttsPort] : []),
          ],
          tls: tlsServerOptions(tls),
          maxBodyBytes: config.apiProxy.maxBodyBytes,
          maxResponseBytes: config.apiProxy.maxResponseBytes,
          timeoutMs: config.apiProxy.timeoutMs,
          ratePerMinute: config.apiProxy.ratePerMinute,
          concurrencyPerDevice: config.apiProxy.concurrencyPerDevice,
        },
      );
      apiProxyPort = await proxy.start();
      stoppers.push(() => proxy.stop());
      if (apiProxyPort !== ports.apiProxy) {
        await rememberPorts(join(config.dataDir, 'ports.json'), { apiProxy: apiProxyPort });
      }
    }

    let demoDevices = 0;
    if (config.demo.enabled && config.demo.devices > 0) {
      const plan = planFleet(config.demo.devices, 1);
      const fleet = [];
      for (const device of plan) {
        const token = await issueDeviceToken(store.deviceCredentials, device.id);
        fleet.push({ ...device, token });
      }
      const simulator = createSimulator({
        brokerUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
        devices: fleet,
        logger: logger.child({ subsystem: 'simulator' }),
        speed: config.demo.speed,
      });
      await simulator.start();
      stoppers.push(() => simulator.stop());
      demoDevices = fleet.length;
    }

    return {
      ports: {
        https: ports.https,
        http: ports.http,
        mqtt: ports.mqtt,
        ...(mqttsPort !== undefined ? { mqtts: mqttsPort } : {}),
        ...(apiProxyPort !== undefined ? { apiProxy: apiProxyPort } : {}),
      },
      urls: {
        dashboard: `${httpsBase}/`,
        api: `${httpsBase}/api/v1`,
        docs: `${httpsBase}/api/docs`,
        mqtt: `mqtt://${formatHost(publicHost)}:${ports.mqtt}`,
        ...(mqttsPort !== undefined
          ? { mqtts: `mqtts://${formatHost(publicHost)}:${mqttsPort}` }
          : {}),
        http: `http://${formatHost(publicHost)}:${ports.http}`,
        ...(apiProxyPort !== undefined
          ? { apiProxy: `https://${formatHost(publicHost)}:${apiProxyPort}` }
          : {}),
      },
      setupUrl: setupToken ? `${httpsBase}/setup#token=${setupToken}` : null,
      certificate: {
        fingerprint256: tls.fingerprint256,
        source: tls.source,
        certPath: tls.paths.cert,
      },
      demoDevices,
      ...(demoCloud ? { demoCloud } : {}),
    };
  }

  async function stopAll(): Promise<void> {
    // Reverse of start: clients first, the store last, so pending writes are flushed before it closes.
    while (stoppers.length > 0) {
      const stopper = stoppers.pop();
      if (!stopper) break;
      try {
        await stopper();
      } catch (err) {
        logger.error({ err }, 'error while stopping a subsystem');
      }
    }
  }

  return {
    metrics,
    start: async () => {
      try {
        return await start();
      } catch (err) {
        await stopAll();
        throw err;
      }
    },
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** The extra CA the uplink trusts (uplink.caFile), or null; an unreadable file stops start-up. */
async function readUplinkCa(file: string | null): Promise<string | null> {
  if (file === null) return null;
  try {
    const pem = await readFile(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (err) {
    throw new CcError(
      'CONFIG_INVALID',
      `uplink.caFile ${file} cannot be used (${err instanceof Error ? err.message : String(err)}); fix: point it at a readable PEM certificate`,
      { key: 'uplink.caFile' },
    );
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
