// Builds the HTTPS Fastify application: security headers, cookies, request ids, errors, the route
// guard, OpenAPI, the WebSocket live stream and every route.

import { randomUUID } from 'node:crypto';
import type { ServerOptions as HttpsOptions } from 'node:https';
import fastifyCookie from '@fastify/cookie';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyReply } from 'fastify';
import type { ApiApp, ApiDeps } from './api-types.js';
import {
  clientErrorHandler,
  errorBody,
  registerErrorHandling,
  registerNotFound,
} from './error-handler.js';
import { registerHttpMetrics } from './http-metrics.js';
import type { LiveStream } from './live-stream.js';
import { registerOpenApi } from './openapi.js';
import { registerCors } from './cors.js';
import { registerRouteGuard, type DeclaredRoute } from './route-guard.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerCloudRoutes } from './routes/cloud.js';
import { registerCommandRoutes } from './routes/commands.js';
import { registerDeviceRegistryRoutes } from './routes/device-registry.js';
import { registerDeviceMqttTokenRoutes } from './routes/device-mqtt-tokens.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerFirmwareRoutes } from './routes/firmware.js';
import { registerRolloutRoutes } from './routes/rollouts.js';
import { registerDeviceMetricRoutes } from './routes/device-metrics.js';
import { registerDiagnosticsRoutes } from './routes/diagnostics.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerHealthRoutes, type Readiness } from './routes/health.js';
import { registerInfoRoutes } from './routes/info.js';
import { registerInviteRoutes } from './routes/invites.js';
import { registerOrganizationRoutes } from './routes/organization.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerPrometheusRoutes } from './routes/prometheus.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerSetupRoutes } from './routes/setup.js';
import { registerSiteRoutes } from './routes/sites.js';
import { registerStreamRoutes } from './routes/stream.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerUserRoutes } from './routes/users.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerStorageGuard } from './storage-guard.js';

export interface HttpsAppOptions {
  tls: HttpsOptions;
  bodyLimit: number;
  requestTimeoutMs: number;
  /** Origins allowed cross-origin access with a token; empty: CORS off. */
  corsOrigins?: readonly string[];
  version: string;
}

/** Incoming x-request-id values are kept only when they are short and harmless in logs. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Largest WebSocket message accepted from a stream client (they have nothing to send). */
const WS_MAX_PAYLOAD = 4096;

export async function buildHttpsApp(
  deps: ApiDeps & { stream: LiveStream; readiness: Readiness },
  options: HttpsAppOptions,
): Promise<{ app: ApiApp; routes: DeclaredRoute[] }> {
  const app: ApiApp = Fastify({
    https: options.tls,
    loggerInstance: deps.logger,
    // Per-request logs at info would flood a busy site; requests are logged at debug instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    requestTimeout: options.requestTimeoutMs,
    return503OnClosing: true,
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    frameworkErrors: (err, _request, reply: FastifyReply) => {
      void reply.code(400).send(errorBody('BAD_REQUEST', err.message));
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    await Promise.resolve();
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.logger.debug(
      {
        reqId: request.id,
        method: request.method,
        url: request.routeOptions.url,
        status: reply.statusCode,
      },
      'request',
    );
    await Promise.resolve();
  });
  registerHttpMetrics(app, deps.metrics);
  registerErrorHandling(app, deps.logger);
  registerNotFound(app);
  // The API speaks JSON only: anything else is 415, not parsed as text.
  app.removeContentTypeParser('text/plain');
  await registerSecurityHeaders(app);
  await registerCors(app, options.corsOrigins ?? []);
  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: WS_MAX_PAYLOAD } });
  const routes = registerRouteGuard(app, deps.auth);
  registerStorageGuard(app, deps.storage);
  await registerOpenApi(app, options.version);

  registerHealthRoutes(app, deps.readiness);
  registerInfoRoutes(app, deps);
  registerPrometheusRoutes(app, deps);
  registerSetupRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerInviteRoutes(app, deps);
  registerOrganizationRoutes(app, deps);
  registerSiteRoutes(app, deps);
  registerDeviceRoutes(app, deps);
  registerDeviceRegistryRoutes(app, deps);
  registerDeviceMqttTokenRoutes(app, deps);
  registerCommandRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerCloudRoutes(app, deps);
  await registerFirmwareRoutes(app, deps);
  registerRolloutRoutes(app, deps);
  registerDiagnosticsRoutes(app, deps);
  registerDeviceMetricRoutes(app, deps);
  registerJobRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerStreamRoutes(app, deps.stream);
  registerDashboardRoutes(app);
  return { app, routes };
}
