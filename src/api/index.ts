// The client API: HTTPS server (REST v1, OpenAPI, WebSocket live stream) and the plain-HTTP port.
export { createApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export type { ApiDeps, InfoPayload } from './api-types.js';
export type { LiveStreamOptions, LiveStreamStats } from './live-stream.js';
export type { DeclaredRoute } from './route-guard.js';
export { errorBody, type ErrorBody } from './error-handler.js';
