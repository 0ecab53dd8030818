// The API Proxy: integration tokens with proxy scope call a device's own Web Services through the
// server, which authenticates, checks scope, pins, credentials, limits and audits every call.
export {
  createApiProxy,
  VIA,
  type ApiProxy,
  type ApiProxyDeps,
  type ApiProxyLimits,
  type ApiProxyOptions,
} from './proxy-server.js';
export { PROXY_AUDIT_ACTION } from './proxy-audit.js';
export { FORWARDED_METHODS } from './proxy-scope.js';
