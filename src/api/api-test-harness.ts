// Test fixture for the API: a real SQLite store in a temporary directory, a self-signed certificate,
// real auth, the API server on free loopback ports, a small in-memory ingest, and an HTTPS client
// that trusts exactly that certificate.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { Agent, request } from 'undici';
import {
  createAuth,
  createSecretBox,
  hashPassword,
  type AuditThrottleOptions,
  type Auth,
  type AuthConfig,
  type LoginLimiterOptions,
} from '../auth/index.js';
import { createDeviceServices, type DeviceServices } from '../devices/index.js';
import type { AppConfig } from '../config/index.js';
import {
  FleetState,
  type Alert,
  type DeviceView,
  type FleetChange,
  type FleetReader,
  type Job,
} from '../domain/index.js';
import {
  createFirmwareCatalog,
  type CatalogSettings,
  type FirmwareCatalog,
  type SyncSettings,
} from '../firmware/catalog/index.js';
import { createRolloutService } from '../firmware/rollouts/index.js';
import {
  createDiagnosticsService,
  type DiagnosticsService,
  type DoctorOptions,
} from '../diagnostics/index.js';
import type { Ingest } from '../ingest/ingest-types.js';
import { createMetricsRegistry, silentLogger, type Registry } from '../observability/index.js';
import { createStorageHealth, type StorageHealth } from '../storage-health/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import {
  createOutboxMetrics,
  createServerStatus,
  createUplink,
  type Uplink,
  type UplinkSettings,
} from '../uplink/index.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from './index.js';

export const PASSWORD = 'correct horse battery staple';

type DeviceServicesConfig = AppConfig['devices'];

export interface TestIngest extends Pick<Ingest, 'fleet' | 'onChange' | 'acknowledgeAlert'> {
  devices: Map<string, DeviceView>;
  emit(change: FleetChange): void;
  listeners(): number;
}

export function createTestIngest(store: Store): TestIngest {
  const devices = new Map<string, DeviceView>();
  const listeners = new Set<(change: FleetChange) => void>();
  const fleet: FleetReader = {
    get: (id) => devices.get(id),
    list: () => [...devices.values()],
  };
  return {
    devices,
    fleet,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    acknowledgeAlert: (id, by) => store.alerts.acknowledge(id, by, new Date().toISOString()),
    emit(change) {
      if (change.type === 'device') devices.set(change.device.id, change.device);
      if (change.type === 'device-removed') devices.delete(change.deviceId);
      for (const l of listeners) l(change);
    },
    listeners: () => listeners.size,
  };
}

export function deviceView(id: string, over: Partial<DeviceView> = {}): DeviceView {
  return {
    id,
    kind: 'printer',
    model: 'Jet Fusion 5200',
    serial: `SN-${id}`,
    name: `Printer ${id}`,
    siteId: 'site-a',
    firmwareVersion: '1.2.3',
    address: null,
    state: 'idle',
    lastSeenAt: '2024-03-01T12:00:00.000Z',
    stateAt: '2024-03-01T12:00:00.000Z',
    currentJob: null,
    consumables: [],
    openAlerts: [],
    metrics: {},
    ...over,
  };
}

export function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id,
    deviceId: 'p1',
    name: `Build ${id}`,
    owner: 'alice',
    state: 'printing',
    progress: 10,
    startedAt: '2024-03-01T12:00:00.000Z',
    estimatedEndAt: null,
    endedAt: null,
    layer: 1,
    layers: 100,
    materialUsedG: null,
    updatedAt: '2024-03-01T12:00:00.000Z',
    ...over,
  };
}

export function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id,
    deviceId: 'p1',
    code: 'TEMP_HIGH',
    severity: 'warning',
    message: 'Chamber temperature high',
    raisedAt: '2024-03-01T12:00:00.000Z',
    clearedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    ...over,
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface CallOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** A raw body sent as is (no JSON encoding, no content-type added). */
  raw?: string | Buffer;
  cookie?: string | null;
  token?: string;
}

export interface Harness {
  dir: string;
  store: Store;
  auth: Auth;
  ingest: TestIngest;
  metrics: Registry;
  server: ApiServer;
  devices: DeviceServices;
  uplink: Uplink;
  firmware: FirmwareCatalog;
  diagnostics: DiagnosticsService;
  storage: StorageHealth;
  certPem: string;
  setupToken: string | null;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** Creates the first admin through the API and logs in; returns the session cookie. */
  setupAdmin(): Promise<string>;
  /**
   * Creates a user with a role (and optionally a site scope) directly in the store and logs in;
   * returns the session cookie.
   */
  loginAs(
    role: 'admin' | 'operator' | 'dashboard' | 'user',
    username: string,
    options?: { sites?: string[] | null },
  ): Promise<string>;
  /** Logs in an existing user; returns the session cookie. */
  login(username: string, password?: string): Promise<string>;
  /** Creates sites directly in the store. */
  createSites(...ids: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function generateCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export async function startHarness(
  over: {
    stream?: Partial<ApiServerOptions['stream']>;
    bodyLimit?: number;
    maxHeaderBytes?: number;
    corsOrigins?: string[];
    loginLimits?: LoginLimiterOptions;
    auth?: AuthConfig;
    auditThrottle?: AuditThrottleOptions;
    devices?: Partial<DeviceServicesConfig>;
    uplink?: Partial<UplinkSettings>;
    /** The environment the uplink reads HTTPS_PROXY and NO_PROXY from (default: none). */
    uplinkEnv?: NodeJS.ProcessEnv;
    /** The network doctor's options (default: no endpoints; disk and database checks only). */
    diagnostics?: Partial<DoctorOptions>;
    /** The storage monitor (default: 1 byte kept free, checked every minute). */
    storage?: { minFreeBytes?: number; checkIntervalMs?: number };
    /** The firmware catalog (default: no vendor key, so every package is refused; no sync). */
    firmware?: Partial<Omit<CatalogSettings, 'sync' | 'dir'>> & {
      sync?: Partial<SyncSettings>;
      now?: () => Date;
    };
  } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-api-'));
  const logger = silentLogger();
  const store = await createSqliteStore({ file: join(dir, 'cc.db'), logger });
  await store.migrate();
  const auth = createAuth(
    {
      store,
      logger,
      ...(over.loginLimits ? { loginLimits: over.loginLimits } : {}),
      ...(over.auditThrottle ? { auditThrottle: over.auditThrottle } : {}),
    },
    over.auth ?? { sessionHours: 12, sessionIdleMinutes: 60 },
  );
  const setupToken = await auth.prepareSetup();
  const ingest = createTestIngest(store);
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const storage = createStorageHealth(
    { store, logger, metrics },
    {
      dataDir: dir,
      minFreeBytes: over.storage?.minFreeBytes ?? 1,
      checkIntervalMs: over.storage?.checkIntervalMs ?? 60_000,
    },
  );
  await storage.start();
  const { cert, key } = await generateCertificate();
  const startedAt = new Date().toISOString();
  // Device services on a fleet state of their own whose changes reach the test ingest's listeners.
  const fleetState = new FleetState({
    devices: [],
    activeJobs: [],
    consumables: [],
    openAlerts: [],
  });
  const devices = createDeviceServices(
    {
      store,
      fleet: {
        get: (id) => ingest.fleet.get(id),
        list: () => ingest.fleet.list(),
        mutate: async (fn) => {
          const result = fn(fleetState);
          const updates = Array.isArray(result) ? result : [result];
          for (const u of updates as ReturnType<FleetState['applyState']>[]) {
            for (const change of u.changes) ingest.emit(change);
            await store.applyBatch(u.writes);
          }
        },
        publish: (change) => ingest.emit(change),
      },
      secrets: createSecretBox(randomBytes(32)),
      bus: null,
      logger,
      metrics,
    },
    {
      pollActiveMs: 1000,
      pollIdleMs: 5000,
      pollJitterPercent: 10,
      pollConcurrency: 8,
      requestTimeoutMs: 3000,
      maxResponseBytes: 1024 * 1024,
      backoffMaxMs: 10_000,
      offlineAfterMs: 3_600_000,
      commandTimeoutMs: 5000,
      discoveryConcurrency: 16,
      ...over.devices,
    },
  );
  await devices.start();
  const secrets = createSecretBox(randomBytes(32));
  const uplink = createUplink(
    {
      store,
      fleet: { list: () => ingest.fleet.list() },
      onChange: (listener) => ingest.onChange(listener),
      secrets,
      audit: auth.audit,
      logger,
      server: createServerStatus({
        version: '0.1.0-test',
        startedAt: new Date(),
        hostName: 'cc-test-host',
        dataDir: dir,
        metrics,
        storeReady: () => Promise.resolve(true),
      }),
      version: '0.1.0-test',
      env: over.uplinkEnv ?? {},
      outboxMetrics: createOutboxMetrics(metrics),
      storage,
    },
    {
      enabled: true,
      // Nothing leaves the machine unless a test points the uplink at its own receiver.
      endpoint: 'https://cloud.invalid/cc',
      allowedHosts: ['cloud.invalid'],
      spkiPins: [],
      ca: null,
      proxy: 'none',
      noProxy: null,
      intervalSeconds: 300,
      timeoutMs: 5000,
      outboxMaxBytes: 1024 * 1024,
      outboxMaxItems: 1000,
      drainPerMinute: 6000,
      backoffMaxSeconds: 5,
      backoffBaseMs: 100,
      ...over.uplink,
    },
  );
  await uplink.start();
  const firmware = createFirmwareCatalog(
    {
      store,
      logger,
      audit: auth.audit,
      metrics,
      ...(over.firmware?.now ? { now: over.firmware.now } : {}),
    },
    {
      dir: join(dir, 'firmware'),
      trust: over.firmware?.trust ?? null,
      maxPackageBytes: over.firmware?.maxPackageBytes ?? 16 * 1024 * 1024,
      sync: {
        url: null,
        intervalMinutes: 0,
        allowedHosts: [],
        ca: null,
        proxy: { kind: 'none' },
        downloadTimeoutMs: 10_000,
        syncTimeoutMs: 30_000,
        ...over.firmware?.sync,
      },
    },
  );
  await firmware.start();
  const rollouts = createRolloutService(
    {
      store,
      fleet: ingest.fleet,
      push: devices.firmware,
      firmwareDir: join(dir, 'firmware'),
      audit: auth.audit,
      logger,
    },
    { pushTimeoutMs: 30_000, maxConcurrency: 16 },
  );
  await rollouts.start();
  const diagnostics = createDiagnosticsService({
    logger,
    proxyLabel: () => null,
    options: () =>
      Promise.resolve({
        endpoints: [],
        proxy: { kind: 'none' },
        timeoutMs: 2000,
        totalDeadlineMs: 20_000,
        local: {
          disks: [{ subject: 'data directory', dir }],
          minFreeBytes: 1,
          database: async () => `sqlite answers (${String(await store.users.count())} users)`,
        },
        ...over.diagnostics,
      }),
  });
  const server = createApiServer(
    {
      uplink,
      firmware,
      rollouts,
      diagnostics,
      logger,
      metrics,
      store,
      ingest,
      auth,
      devices,
      storage,
      info: () => ({
        version: '0.1.0-test',
        startedAt,
        uptimeSeconds: 1,
        ports: { https: 0, http: 0, mqtt: 0 },
      }),
    },
    {
      host: '127.0.0.1',
      httpsPort: 0,
      httpPort: 0,
      tls: { cert, key, minVersion: 'TLSv1.2' },
      bodyLimit: over.bodyLimit ?? 64 * 1024,
      requestTimeoutMs: 10_000,
      ...(over.maxHeaderBytes !== undefined ? { maxHeaderBytes: over.maxHeaderBytes } : {}),
      corsOrigins: over.corsOrigins ?? [],
      stream: { coalesceMs: 50, maxBufferedBytes: 256 * 1024, ...over.stream },
      caCertPem: cert,
    },
  );
  await server.start();
  const agent = new Agent({ connect: { ca: cert } });

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined = options.raw;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    if (options.cookie) headers.cookie = options.cookie;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await request(`${server.urls.https}${path}`, {
      method: method as 'GET',
      headers,
      body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  }

  function cookieOf(answer: Answer): string {
    const raw = answer.headers['set-cookie'];
    const first = Array.isArray(raw) ? raw[0] : raw;
    const cookie = first?.split(';')[0];
    if (!cookie) throw new Error(`no session cookie (status ${answer.status}: ${answer.text})`);
    return cookie;
  }

  const harness: Harness = {
    dir,
    store,
    auth,
    ingest,
    metrics,
    server,
    devices,
    uplink,
    firmware,
    storage,
    diagnostics,
    certPem: cert,
    setupToken,
    call,
    async setupAdmin() {
      const setup = await call('POST', '/api/v1/setup', {
        body: { token: setupToken, username: 'admin', password: PASSWORD },
      });
      if (setup.status !== 201) throw new Error(`setup failed: ${setup.text}`);
      return cookieOf(
        await call('POST', '/api/v1/auth/login', {
          body: { username: 'admin', password: PASSWORD },
        }),
      );
    },
    async loginAs(role, username, options = {}) {
      await store.users.create({
        id: `u-${username}`,
        username,
        role,
        passwordHash: await hashPassword(PASSWORD),
        createdAt: new Date().toISOString(),
        disabledAt: null,
        sites: options.sites ?? null,
      });
      return cookieOf(
        await call('POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } }),
      );
    },
    async login(username, password = PASSWORD) {
      return cookieOf(await call('POST', '/api/v1/auth/login', { body: { username, password } }));
    },
    async createSites(...ids) {
      for (const id of ids) {
        await store.sites.create({
          id,
          name: `Site ${id}`,
          description: null,
          timezone: null,
          createdAt: new Date().toISOString(),
        });
      }
    },
    async close() {
      await agent.close();
      await server.stop();
      await diagnostics.stop();
      await rollouts.stop();
      await firmware.stop();
      await uplink.stop();
      await devices.stop();
      await storage.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
