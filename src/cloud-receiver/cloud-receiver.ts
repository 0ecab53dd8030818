// The reference cloud receiver: the vendor-cloud stand-in the uplink talks to in tests and demos.
// An HTTPS (TLS 1.2+) Fastify server over its own SQLite file, with test controls (failNext,
// redirectTo, setResponse, holdAnswers) on the programmatic object only — never over HTTP.

import { randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { LogController, type FastifyReply } from 'fastify';
import { ensureTlsCertificate, tlsServerOptions } from '../net/index.js';
import { silentLogger, type Logger } from '../observability/index.js';
import { errorBody, receiverClientError, registerReceiverErrors } from './receiver-errors.js';
import {
  registerReceiverRoutes,
  type ReceiverApp,
  type ReceiverControls,
  type ReceiverCounters,
  type ReportResponseExtras,
} from './receiver-routes.js';
import {
  openReceiverStore,
  type ReceiverStore,
  type SiteSummary,
  type StoredReport,
} from './receiver-store.js';

export interface CloudReceiverOptions {
  /** Holds the SQLite file and, when no certificate is given, the generated one (tls/). */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  organizationId: string;
  enrollmentToken: string;
  /** Bearer token of the listing routes; generated when absent (see `adminToken`). */
  adminToken?: string;
  /** PEM certificate (chain) and key; a self-signed one for localhost is generated when absent. */
  tls?: { cert: string; key: string };
  /** What enrollment tells servers; default 300 (every 5 minutes). */
  reportIntervalSeconds?: number;
  /** Default 1 MiB. */
  bodyLimitBytes?: number;
  logger?: Logger;
  /** Clock for receivedAt and enrolledAt. */
  now?: () => Date;
}

export interface CloudReceiverInfo {
  /** e.g. https://127.0.0.1:43121 */
  url: string;
  /** The certificate a sender should trust (self-signed: it is its own CA). */
  caCertPem: string;
  /** Where the generated certificate is kept; null when it was given as an option. */
  caCertPath: string | null;
  /** SHA-256 of the leaf certificate, colon-separated hex as openssl prints it. */
  fingerprint256: string;
}

export interface FailNextOptions {
  /** Sent as Retry-After. */
  retryAfterSeconds?: number;
}

export interface CloudReceiver {
  start(): Promise<CloudReceiverInfo>;
  stop(): Promise<void>;
  readonly adminToken: string;
  /** What was enrolled (no secrets); like reports(), only while running. */
  sites(): SiteSummary[];
  reports(siteId: string, options?: { afterSeq?: number; limit?: number }): StoredReport[];
  /** Settings and requests added to every later 202 answer; null clears them. */
  setResponse(extras: ReportResponseExtras | null): void;
  /**
   * The next `count` enrollment or report requests are answered with `status` (default 503)
   * without being processed. Infinity fails until `failNext(0)`.
   */
  failNext(count: number, status?: number, options?: FailNextOptions): void;
  /** Answer enrollment and reports with 307 and this Location until `redirectTo(null)`. */
  redirectTo(url: string | null): void;
  /**
   * Accept and durably store reports as usual, then wait `ms` before sending the 2xx answer, so a
   * sender can be stopped after the cloud holds a report but before it hears so. 0 turns it off
   * and sends the answers held so far; stop() sends them too.
   */
  holdAnswers(ms: number): void;
  counters(): ReceiverCounters;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_REPORT_INTERVAL_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_HOLD_MS = 2 ** 31 - 1;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

function checkExtras(extras: ReportResponseExtras): ReportResponseExtras {
  const interval = extras.settings?.reportIntervalSeconds;
  if (interval !== undefined && (!Number.isSafeInteger(interval) || interval < 1)) {
    throw new RangeError('settings.reportIntervalSeconds must be a positive integer');
  }
  return structuredClone(extras);
}

export function createCloudReceiver(options: CloudReceiverOptions): CloudReceiver {
  if (options.organizationId === '' || options.enrollmentToken === '') {
    throw new RangeError('the cloud receiver needs an organization id and an enrollment token');
  }
  const logger = (options.logger ?? silentLogger()).child({ subsystem: 'cloud-receiver' });
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const controls: ReceiverControls = {
    failures: { remaining: 0, status: 503, retryAfterSeconds: undefined },
    redirect: null,
    extras: {},
    counters: { enrollRequests: 0, reportRequests: 0, injected: 0, accepted: 0, duplicates: 0 },
  };
  let running: { app: ReceiverApp; store: ReceiverStore } | undefined;
  let starting = false;
  let holdMs = 0;
  const held = new Set<() => void>();

  const releaseHeld = (): void => {
    for (const release of [...held]) release();
  };

  const holdAnswer = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      held.add(release);
    });

  const store = (): ReceiverStore => {
    if (!running) throw new Error('the cloud receiver is not running (call start() first)');
    return running.store;
  };

  async function buildApp(storeNow: ReceiverStore, tls: { cert: string; key: string }) {
    const app: ReceiverApp = Fastify({
      https: tlsServerOptions(tls),
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionTimeout: REQUEST_TIMEOUT_MS,
      // Senders open one connection per payload; stop() must not wait for idle keep-alives.
      forceCloseConnections: true,
      return503OnClosing: true,
      clientErrorHandler: receiverClientError,
      frameworkErrors: (err, _request, reply: FastifyReply) => {
        void reply.code(400).send(errorBody('BAD_REQUEST', err.message));
      },
    });
    app.removeContentTypeParser('text/plain');
    app.addHook('onSend', async (request, reply, payload) => {
      void reply.header('cache-control', 'no-store');
      // Only answers to reports the route accepted or acknowledged: the report is stored by now.
      if (
        holdMs > 0 &&
        request.method === 'POST' &&
        request.routeOptions.url === '/v1/reports' &&
        reply.statusCode >= 200 &&
        reply.statusCode < 300
      ) {
        await holdAnswer(holdMs);
      }
      await Promise.resolve();
      return payload;
    });
    registerReceiverErrors(app, logger);
    registerReceiverRoutes(app, {
      store: storeNow,
      controls,
      organizationId: options.organizationId,
      enrollmentToken: options.enrollmentToken,
      adminToken,
      reportIntervalSeconds: options.reportIntervalSeconds ?? DEFAULT_REPORT_INTERVAL_SECONDS,
      logger,
      now,
    });
    await app.ready();
    return app;
  }

  async function certificate(): Promise<{ cert: string; key: string; path: string | null }> {
    if (options.tls) return { ...options.tls, path: null };
    const hostNames = ['localhost', ...(host === '0.0.0.0' || host === '::' ? [] : [host])];
    const material = await ensureTlsCertificate({ dataDir: options.dataDir, hostNames, logger });
    return { cert: material.cert, key: material.key, path: material.paths.cert };
  }

  return {
    adminToken,
    async start() {
      if (running || starting) throw new Error('the cloud receiver is already running');
      starting = true;
      let app: ReceiverApp | undefined;
      let storeNow: ReceiverStore | undefined;
      let tls: Awaited<ReturnType<typeof certificate>>;
      try {
        tls = await certificate();
        storeNow = openReceiverStore({ dataDir: options.dataDir });
        app = await buildApp(storeNow, tls);
        await app.listen({ host, port: options.port ?? 0 });
      } catch (err) {
        await app?.close();
        storeNow?.close();
        throw err;
      } finally {
        starting = false;
      }
      running = { app, store: storeNow };
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const url = `https://${urlHost(host)}:${port}`;
      logger.info({ url }, 'cloud receiver listening');
      return {
        url,
        caCertPem: tls.cert,
        caCertPath: tls.path,
        fingerprint256: new X509Certificate(tls.cert).fingerprint256,
      };
    },
    async stop() {
      const current = running;
      running = undefined;
      releaseHeld();
      if (!current) return;
      try {
        await current.app.close();
      } finally {
        current.store.close();
      }
    },
    sites: () => store().sites(),
    reports: (siteId, range = {}) => store().reports(siteId, range.afterSeq, range.limit),
    setResponse(extras) {
      controls.extras = extras === null ? {} : checkExtras(extras);
    },
    failNext(count, status = 503, failOptions = {}) {
      if (!(count >= 0) || !(status >= 400 && status <= 599 && Number.isInteger(status))) {
        throw new RangeError('failNext needs a count ≥ 0 and an HTTP error status (400–599)');
      }
      controls.failures = {
        remaining: count,
        status,
        retryAfterSeconds: failOptions.retryAfterSeconds,
      };
    },
    redirectTo(url) {
      controls.redirect = url;
    },
    holdAnswers(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_HOLD_MS) {
        throw new RangeError(`holdAnswers needs whole milliseconds from 0 to ${MAX_HOLD_MS}`);
      }
      holdMs = ms;
      if (ms === 0) releaseHeld();
    },
    counters: () => ({ ...controls.counters }),
  };
}
