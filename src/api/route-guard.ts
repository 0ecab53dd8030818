// Authorization on every route: each route declares `config.permission` (a permission or 'public');
// a route without one stops the server at start-up, and an onRequest hook enforces the declaration
// (401 without valid credentials, 403 without the permission) before any body is parsed.

import type { FastifyRequest } from 'fastify';
import type { Auth, Principal, RoutePermission } from '../auth/index.js';
import { isRoutePermission, roleHasPermission } from '../auth/index.js';
import { CcError } from '../domain/index.js';
import type { ApiApp } from './api-types.js';
import { PREFLIGHT_ROUTE_URL } from './cors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Routes added by plugins (they cannot carry our config), with the permission they need. */
const PLUGIN_ROUTE_PERMISSIONS: ReadonlyArray<{
  method?: string;
  prefix: string;
  permission: RoutePermission;
}> = [
  { prefix: '/api/docs', permission: 'docs:read' },
  // CORS preflights (when origins are configured) carry no credentials by definition (Fetch).
  { method: 'OPTIONS', prefix: PREFLIGHT_ROUTE_URL, permission: 'public' },
];

export interface DeclaredRoute {
  method: string;
  url: string;
  permission: RoutePermission;
}

/** Registers the guard and returns the list of routes it saw (for tests and docs). */
export function registerRouteGuard(app: ApiApp, auth: Auth): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { permission?: unknown };
    let permission = config.permission;
    if (permission === undefined) {
      const inherited = PLUGIN_ROUTE_PERMISSIONS.find(
        (p) =>
          route.url.startsWith(p.prefix) && (p.method === undefined || p.method === route.method),
      );
      permission = inherited?.permission;
      route.config = { ...(route.config ?? {}), permission: inherited?.permission };
    }
    if (!isRoutePermission(permission)) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no valid permission (config.permission)`,
      );
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, permission });
  });

  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (permission === undefined) {
      // Only the not-found handler gets here; it answers 404 itself.
      return;
    }
    const resolution = await auth.authenticate(credentialsOf(request, auth));
    if (resolution && 'principal' in resolution) request.principal = resolution.principal;
    if (permission === 'public') return;
    if (!resolution) throw new CcError('UNAUTHENTICATED', 'log in or send an API token');
    if ('failure' in resolution) throw resolution.failure;
    if (permission !== 'authenticated' && !auth.can(resolution.principal, permission)) {
      const scoped =
        resolution.principal.sites !== null &&
        roleHasPermission(resolution.principal.role, permission);
      throw new CcError(
        'FORBIDDEN',
        scoped
          ? `this needs the permission ${permission} with access to every site`
          : `this needs the permission ${permission}`,
      );
    }
    if (resolution.principal.via === 'session' && !isSafeMethod(request.method)) {
      // SameSite=Strict already keeps the cookie off cross-site requests; checking Origin as well
      // protects browsers that ignore SameSite.
      assertSameOrigin(request);
    }
  });
  return routes;
}

export function credentialsOf(
  request: FastifyRequest,
  auth: Auth,
): { sessionSecret: string | undefined; authorization: string | undefined } {
  return {
    sessionSecret: request.cookies[auth.session.cookieName],
    authorization: request.headers.authorization,
  };
}

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/** Refuses a request whose Origin header names another site than the one it was sent to. */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origin !== `https://${request.headers.host ?? ''}`) {
    throw new CcError('FORBIDDEN', 'cross-origin requests with a session cookie are refused');
  }
}

/** The principal of an authenticated route (the guard has run); throws if there is none. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CcError('UNAUTHENTICATED', 'log in or send an API token');
  return request.principal;
}

/** Who is acting, for audit records: the user (and the token's use), and the client address. */
export function actorOf(request: FastifyRequest): { name: string; source: string | null } {
  const p = principalOf(request);
  return { name: p.via === 'token' ? `${p.username} (token)` : p.username, source: request.ip };
}
