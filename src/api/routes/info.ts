// GET /api/v1/info — public: version, ports, uptime and whether setup is pending, so clients can
// find the server and show the setup page before anyone logs in, and whether it has room to write.
// Nothing sensitive: where the data directory is, and the fix, only for signed-in callers.

import { Type } from 'typebox';
import { STORAGE_STATES } from '../../storage-health/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';

const StorageSchema = Type.Object(
  {
    state: Type.Enum(STORAGE_STATES, {
      description: 'ok; low: under twice the minimum free; full: writes are refused (507)',
    }),
    freeBytes: Type.Union([Type.Integer(), Type.Null()], {
      description: 'Free bytes where the server writes; null before the first check',
    }),
    minFreeBytes: Type.Integer({ description: 'storage.minFreeMb in bytes' }),
    since: Type.String({ format: 'date-time', description: 'When the state last changed' }),
    dir: Type.Optional(
      Type.String({ description: 'The directory short of space (signed-in callers only)' }),
    ),
    message: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'The cause and the fix; null while ok (signed-in callers only)',
      }),
    ),
  },
  { description: 'Room to write in the data directory' },
);

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
  storage: StorageSchema,
});

export function registerInfoRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'info' | 'auth' | 'storage'>,
): void {
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
    async (request) => {
      const { state, freeBytes, minFreeBytes, since, dir, message } = deps.storage.snapshot();
      return {
        name: 'command-center',
        ...deps.info(),
        setupRequired: await deps.auth.setupRequired(),
        storage: {
          state,
          freeBytes,
          minFreeBytes,
          since,
          ...(request.principal === null ? {} : { dir, message }),
        },
      };
    },
  );
}
