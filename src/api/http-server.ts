// The plain-HTTP port: health, readiness and the server certificate for download; everything else
// is redirected to the same path on HTTPS, only to host names the certificate covers.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from '../observability/index.js';
import { clientErrorHandler, errorBody, registerErrorHandling } from './error-handler.js';
import type { HostMatcher } from './redirect-hosts.js';
import { readyAnswer, type Readiness } from './routes/health.js';

export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;

export interface HttpServerOptions {
  /** The HTTPS port to redirect to (known once the HTTPS server listens). */
  httpsPort: () => number;
  caCertPem: string;
  hosts: HostMatcher;
  requestTimeoutMs: number;
}

export function buildHttpServer(
  deps: { logger: Logger; readiness: Readiness },
  options: HttpServerOptions,
): HttpApp {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request logs at info would flood a busy site; requests are logged at debug instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
    requestTimeout: options.requestTimeoutMs,
    clientErrorHandler,
  });
  registerErrorHandling(app, deps.logger);
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    await Promise.resolve();
  });

  app.get('/healthz', { config: { permission: 'public' } }, () => ({ status: 'ok' }));
  app.get('/readyz', { config: { permission: 'public' } }, async (_request, reply) => {
    try {
      return await readyAnswer(deps.readiness);
    } catch {
      return reply.code(503).send(errorBody('NOT_READY', 'the store does not answer'));
    }
  });
  app.get('/ca.crt', { config: { permission: 'public' } }, (_request, reply) =>
    reply
      .type('application/x-pem-file')
      .header('content-disposition', 'attachment; filename="command-center-ca.crt"')
      .send(options.caCertPem),
  );

  app.setNotFoundHandler((request, reply) => {
    const host = options.hosts.allowedHost(request.headers.host);
    if (host === undefined) {
      return reply
        .code(400)
        .send(errorBody('BAD_REQUEST', 'use the server by a host name its certificate covers'));
    }
    // The path is kept as sent; "//evil" stays a path because the authority comes first.
    const path = request.url.startsWith('/') ? request.url : `/${request.url}`;
    const status = request.method === 'GET' || request.method === 'HEAD' ? 301 : 308;
    return reply
      .code(status)
      .header('location', `https://${host}:${options.httpsPort()}${path}`)
      .send();
  });
  return app;
}
