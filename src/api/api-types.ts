// Types shared by the API's server and routes: its dependencies and the Fastify instance it builds.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Auth } from '../auth/index.js';
import type { DeviceServices } from '../devices/index.js';
import type { DiagnosticsService } from '../diagnostics/index.js';
import type { FirmwareCatalog } from '../firmware/catalog/index.js';
import type { RolloutService } from '../firmware/rollouts/index.js';
import type { Ingest } from '../ingest/ingest-types.js';
import type { Logger, Registry } from '../observability/index.js';
import type { StorageHealth } from '../storage-health/index.js';
import type { Store } from '../store/index.js';
import type { Uplink } from '../uplink/index.js';

export type ApiApp = FastifyInstance<
  HttpsServer,
  IncomingMessage,
  ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

/** What the composition root knows about the running server, published by GET /api/v1/info. */
export interface InfoPayload {
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  ports: { https: number; http: number; mqtt: number; mqtts?: number; apiProxy?: number };
}

export interface ApiDeps {
  logger: Logger;
  metrics: Registry;
  store: Store;
  ingest: Pick<Ingest, 'fleet' | 'onChange' | 'acknowledgeAlert'>;
  auth: Auth;
  devices: Pick<DeviceServices, 'registry' | 'commands' | 'discover'>;
  /** The MQTT broker's connections, to close a device whose token changed (absent in some tests). */
  mqtt?: { disconnect(deviceId: string): boolean; isConnected(deviceId: string): boolean };
  info: () => InfoPayload;
  /** The cloud uplink: enrollment, consent, reports. */
  uplink: Uplink;
  /** The firmware catalog: verified packages, uploads, sync from the vendor repository. */
  firmware: FirmwareCatalog;
  /** Staged firmware rollouts to devices. */
  rollouts: RolloutService;
  /** The network doctor, run from the dashboard. */
  diagnostics: DiagnosticsService;
  /** Whether the data directory has room to write: writes are refused with 507 while it is full. */
  storage: Pick<StorageHealth, 'snapshot' | 'assertWritable' | 'reportFailure'>;
}
