// The OpenAPI 3 document (generated from the route schemas) at /api/v1/openapi.json and the
// interactive docs at /api/docs, both for logged-in users.

import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { ApiApp } from './api-types.js';

export const DOCS_PREFIX = '/api/docs';

/** Swagger UI styles its widgets with inline style attributes; allow that on its pages only. */
export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

export async function registerOpenApi(app: ApiApp, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Command Center API',
        version,
        description:
          'Fleet data, jobs, alerts and the live stream of a Command Center site server. ' +
          'Errors are `{ "error": { "code", "message" } }`.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'cc_session' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API token cc_<id>_<secret>' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiHooks: {
      onRequest: (_request, reply, done) => {
        void reply.header('content-security-policy', DOCS_CSP);
        done();
      },
    },
  });
  app.get(
    '/api/v1/openapi.json',
    { config: { permission: 'docs:read' }, schema: { hide: true } },
    () => app.swagger(),
  );
}
