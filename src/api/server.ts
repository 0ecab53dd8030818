// The API server: the HTTPS application and the plain-HTTP redirect port, started and stopped
// together, with the live-stream hub between ingest and WebSocket clients.

import type { ServerOptions as HttpsOptions } from 'node:https';
import type { ApiApp, ApiDeps } from './api-types.js';
import { buildHttpServer, type HttpApp } from './http-server.js';
import { buildHttpsApp } from './https-app.js';
import { createLiveStream, type LiveStream, type LiveStreamOptions } from './live-stream.js';
import { certificateHostNames, createHostMatcher } from './redirect-hosts.js';
import type { DeclaredRoute } from './route-guard.js';
import type { Readiness } from './routes/health.js';

export interface ApiServerOptions {
  host: string;
  /** 0 picks a free port (tests); `urls` report the bound ones. */
  httpsPort: number;
  httpPort: number;
  /** Node TLS server options; must include `cert` and `key`. Passed through unchanged. */
  tls: HttpsOptions & { cert: string | Buffer; key: string | Buffer };
  bodyLimit: number;
  requestTimeoutMs: number;
  /** Largest request head in bytes (Node's maxHeaderSize); default Node's 16 KiB. */
  maxHeaderBytes?: number;
  /** Origins allowed cross-origin access with a token; empty or absent: CORS off. */
  corsOrigins?: readonly string[];
  stream: LiveStreamOptions;
  /** The certificate clients should trust, served at http://…/ca.crt. */
  caCertPem: string;
  /** Host names the HTTP port may redirect to; default: the names in the TLS certificate. */
  redirectHosts?: string[];
}

export interface ApiServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Base URLs of the bound ports (valid after start). */
  readonly urls: { https: string; http: string };
  /** Every HTTPS route with its declared permission (valid after start). */
  routes(): DeclaredRoute[];
  readonly stream: Pick<LiveStream, 'stats'>;
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function portOf(app: { server: { address(): ReturnType<HttpApp['server']['address']> } }): number {
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

export function createApiServer(deps: ApiDeps, options: ApiServerOptions): ApiServer {
  const version = deps.info().version;
  const stream = createLiveStream(
    {
      fleet: deps.ingest.fleet,
      onChange: (listener) => deps.ingest.onChange(listener),
      logger: deps.logger,
      metrics: deps.metrics,
      version,
    },
    options.stream,
  );
  // A user whose access changed reconnects and is authorized afresh.
  let stopWatchingAccess: (() => void) | undefined;
  const readiness: Readiness = {
    check: async () => {
      await deps.store.users.count();
    },
    // Ready even while full (reads are served); probes see the state beside it.
    storage: () => deps.storage.snapshot().state,
  };
  let https: ApiApp | undefined;
  let http: HttpApp | undefined;
  let declared: DeclaredRoute[] = [];
  const urls = { https: '', http: '' };

  async function start(): Promise<void> {
    const built = await buildHttpsApp(
      { ...deps, stream, readiness },
      {
        tls:
          options.maxHeaderBytes === undefined
            ? options.tls
            : { ...options.tls, maxHeaderSize: options.maxHeaderBytes },
        bodyLimit: options.bodyLimit,
        requestTimeoutMs: options.requestTimeoutMs,
        corsOrigins: options.corsOrigins ?? [],
        version,
      },
    );
    https = built.app;
    declared = built.routes;
    const hostNames = options.redirectHosts ?? certificateHostNames(options.caCertPem);
    let httpsPort = options.httpsPort;
    http = buildHttpServer(
      { logger: deps.logger, readiness },
      {
        httpsPort: () => httpsPort,
        caCertPem: options.caCertPem,
        hosts: createHostMatcher(hostNames),
        requestTimeoutMs: options.requestTimeoutMs,
      },
    );
    await https.listen({ host: options.host, port: options.httpsPort });
    httpsPort = portOf(https);
    await http.listen({ host: options.host, port: options.httpPort });
    stream.start();
    stopWatchingAccess = deps.auth.users.onAccessChange((userId) => stream.closeUser(userId));
    urls.https = `https://${formatHost(options.host)}:${httpsPort}`;
    urls.http = `http://${formatHost(options.host)}:${portOf(http)}`;
    deps.logger.info({ https: urls.https, http: urls.http }, 'API listening');
  }

  async function stop(): Promise<void> {
    stopWatchingAccess?.();
    stopWatchingAccess = undefined;
    stream.stop();
    await http?.close();
    await https?.close();
    http = https = undefined;
  }

  return {
    start,
    stop,
    urls,
    routes: () => declared,
    stream: { stats: () => stream.stats() },
  };
}
