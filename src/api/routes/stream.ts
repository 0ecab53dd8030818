// GET /api/v1/stream — the WebSocket live stream. Authenticated before the upgrade (session cookie
// or Authorization: Bearer); with a cookie, the Origin must be this server's own, which stops
// cross-site WebSocket hijacking.

import type { ApiApp } from '../api-types.js';
import type { LiveStream } from '../live-stream.js';
import { assertSameOrigin, principalOf } from '../route-guard.js';

export function registerStreamRoutes(app: ApiApp, stream: LiveStream): void {
  app.get(
    '/api/v1/stream',
    {
      websocket: true,
      config: { permission: 'fleet:read' },
      // WebSocket upgrades are GETs, so the guard's Origin check for unsafe methods does not apply.
      preHandler: async (request) => {
        if (request.principal?.via === 'session') assertSameOrigin(request);
        await Promise.resolve();
      },
    },
    (socket, request) => {
      stream.attach(socket, principalOf(request));
    },
  );
}
