// GET /api/v1/info — public: version, ports, uptime and whether setup is pending, so clients can
// find the server and show the setup page before anyone logs in. Nothing sensitive.

import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../api-types.js';

const InfoSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  uptimeSeconds: Type.Integer(),
  ports: Type.Object({
    https: Type.Integer(),
    http: Type.Integer(),
    mqtt: Type.Integer(),
    mqtts: Type.Optional(Type.Integer({ description: 'MQTT over TLS, when enabled.' })),
    apiProxy: Type.Optional(Type.Integer({ description: 'API Proxy, when enabled.' })),
  }),
  setupRequired: Type.Boolean({ description: 'True until the first administrator is created' }),
});

export function registerInfoRoutes(app: ApiApp, deps: Pick<ApiDeps, 'info' | 'auth'>): void {
  app.get(
    '/api/v1/info',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['server'],
        summary: 'Server version and ports',
        response: { 200: InfoSchema },
      },
    },
    async () => ({
      name: 'command-center',
      ...deps.info(),
      setupRequired: await deps.auth.setupRequired(),
    }),
  );
}
