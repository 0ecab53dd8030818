// What a token's proxy scope allows: which devices, which methods, which paths. Paths are prefixes
// matched on whole decoded segments (`/ws/v1/status` covers `/ws/v1/status` and `/ws/v1/status/x`,
// never `/ws/v1/statusx`); a malformed prefix matches nothing rather than something unexpected.

import { CcError } from '../domain/index.js';
import type { ProxyScope } from '../store/index.js';

/** Every method the proxy forwards; any other is 405 whatever the scope says. */
export const FORWARDED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ForwardedMethod = (typeof FORWARDED_METHODS)[number];

export function isForwardedMethod(method: string): method is ForwardedMethod {
  return (FORWARDED_METHODS as readonly string[]).includes(method);
}

/** Segments of a scope prefix, or null when it is not a clean `/ws/v1/…` path. */
export function prefixSegments(prefix: string): string[] | null {
  if (!prefix.startsWith('/')) return null;
  const parts = prefix.slice(1).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // one trailing slash
  if (parts.some((p) => p === '' || p === '.' || p === '..' || /[%\\?#\s]/.test(p))) return null;
  if (parts[0] !== 'ws' || parts[1] !== 'v1') return null;
  return parts;
}

/** True when `segments` (decoded, `['ws','v1',…]`) lies under one of the prefixes. */
export function pathInScope(segments: readonly string[], prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => {
    const wanted = prefixSegments(prefix);
    if (wanted === null || wanted.length > segments.length) return false;
    return wanted.every((part, i) => segments[i] === part);
  });
}

/** HEAD reads what GET reads, so a scope with GET also allows HEAD. */
export function methodInScope(method: ForwardedMethod, methods: readonly string[]): boolean {
  return methods.includes(method) || (method === 'HEAD' && methods.includes('GET'));
}

export function deviceInScope(deviceId: string, devices: readonly string[] | null): boolean {
  return devices === null || devices.includes(deviceId);
}

/** Throws the 403 that says which part of the scope refuses the call. */
export function assertInScope(
  scope: ProxyScope,
  call: { deviceId: string; method: ForwardedMethod; segments: readonly string[] },
): void {
  if (!deviceInScope(call.deviceId, scope.devices)) {
    throw new CcError(
      'PROXY_DEVICE_FORBIDDEN',
      `this token's proxy scope does not include device ${call.deviceId}`,
    );
  }
  if (!methodInScope(call.method, scope.methods)) {
    throw new CcError(
      'PROXY_METHOD_FORBIDDEN',
      `this token's proxy scope does not allow ${call.method} (allowed: ${scope.methods.join(', ') || 'none'})`,
    );
  }
  if (!pathInScope(call.segments, scope.paths)) {
    throw new CcError(
      'PROXY_PATH_FORBIDDEN',
      `this token's proxy scope does not include /${call.segments.join('/')}`,
    );
  }
}
