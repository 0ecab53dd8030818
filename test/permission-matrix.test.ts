// The permission matrix, table-driven: every route the route guard registered × every role (with a
// session and, where the role may hold one, an API token) and an anonymous caller. Expectations
// come from each route's declared permission and ROLE_PERMISSIONS only, so routes added later are
// covered without touching this file: public → never 401/403; anonymous → 401 with the JSON error;
// a role without the permission → 403 FORBIDDEN from the guard; a role with it → the route's own
// answer (2xx, 400 for a body the generic request cannot satisfy, 404 for a dummy id …).

import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  startHarness,
  deviceView,
  type Answer,
  type Harness,
} from '../src/api/api-test-harness.js';
import type { DeclaredRoute } from '../src/api/index.js';
import { ROLE_PERMISSIONS, type RoutePermission } from '../src/auth/index.js';

type Role = keyof typeof ROLE_PERMISSIONS;
const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];
/** The device the matrix reads and acts on; it exists in the fleet. */
const DEVICE_ID = 'matrix-printer-01';
/** Where a route would destroy the fixture, it is sent for this id instead (never created). */
const THROWAWAY_DEVICE_ID = 'matrix-throwaway-01';

/**
 * Routes sent differently from the generic request, and why. None is skipped: each entry must
 * still name a registered route (checked below), so the list cannot silently go stale. Beyond
 * these, every DELETE names the throwaway device, so a new one cannot remove the fixture either.
 */
const ADJUSTED: Record<string, string> = {
  'DELETE /api/v1/devices/:id': 'would remove the fixture device: sent for a throwaway id',
  'DELETE /api/v1/devices/:id/mqtt-token':
    "would revoke the fixture device's MQTT token: sent for a throwaway id",
  'POST /api/v1/auth/logout': 'ends the session it is sent with: sent with a throwaway session',
};
/** WebSocket routes are also opened for real (a plain GET only shows the guard's answer). */
const WEBSOCKET_ROUTES = new Set(['GET /api/v1/stream']);
/** Routes every server has; the list must hold them (guards against an empty or partial walk). */
const KNOWN_ROUTES = [
  'GET /healthz',
  'POST /api/v1/auth/login',
  'GET /api/v1/auth/me',
  'GET /api/v1/devices',
  'GET /api/v1/devices/:id',
  'POST /api/v1/devices/:id/mqtt-token',
  'POST /api/v1/tokens',
  'POST /api/v1/alerts/:id/ack',
  'GET /api/v1/stream',
  'GET /metrics',
  'GET /api/v1/cloud',
  'POST /api/v1/firmware/packages',
  'POST /api/v1/firmware/rollouts',
  'GET /api/v1/firmware/rollouts/:id',
  'GET /api/v1/diagnostics',
  'POST /api/v1/diagnostics',
  'GET /fleet',
  'GET /assets/*',
];

interface Credential {
  label: string;
  role: Role | null;
  headers(): Promise<Record<string, string>>;
}

const keyOf = (route: DeclaredRoute): string => `${route.method} ${route.url}`;
const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD';

function pathFor(route: DeclaredRoute): string {
  const destructive = route.method === 'DELETE';
  const segments = route.url.split('/');
  return segments
    .map((segment, i) => {
      if (segment === '*') return 'matrix-file';
      if (!segment.startsWith(':')) return segment;
      const name = segment.slice(1);
      if (name === 'id' && segments[i - 1] === 'devices') {
        return destructive ? THROWAWAY_DEVICE_ID : DEVICE_ID;
      }
      if (name === 'action') return 'pause';
      return `matrix-${name}`;
    })
    .join('/');
}

function expectedFor(permission: RoutePermission, role: Role | null): 'any' | 401 | 403 | 'own' {
  if (permission === 'public') return 'any';
  if (role === null) return 401;
  if (permission === 'authenticated') return 'own';
  return (ROLE_PERMISSIONS[role] as readonly string[]).includes(permission) ? 'own' : 403;
}

function errorCode(answer: Answer): unknown {
  return (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
}

let h: Harness;
let origin: string;
let routes: DeclaredRoute[];
const sessions = new Map<Role, string>();
const tokens = new Map<Role, string>();

/** A fresh session of `role`'s user (for requests that end the session they are sent with). */
async function freshSession(role: Role): Promise<string> {
  const login = await h.call('POST', '/api/v1/auth/login', {
    body: { username: `matrix-${role}`, password: 'correct horse battery staple' },
  });
  const raw = login.headers['set-cookie'];
  const cookie = (Array.isArray(raw) ? raw[0] : raw)?.split(';')[0];
  if (!cookie) throw new Error(`no session for ${role}: ${login.status} ${login.text}`);
  return cookie;
}

function callers(): Credential[] {
  const list: Credential[] = [
    { label: 'anonymous', role: null, headers: () => Promise.resolve({}) },
  ];
  for (const role of ROLES) {
    list.push({
      label: `${role} (session)`,
      role,
      headers: () => Promise.resolve({ cookie: sessions.get(role)!, origin }),
    });
    const token = tokens.get(role);
    if (token !== undefined) {
      list.push({
        label: `${role} (API token)`,
        role,
        headers: () => Promise.resolve({ authorization: `Bearer ${token}` }),
      });
    }
  }
  return list;
}

async function send(route: DeclaredRoute, caller: Credential): Promise<Answer> {
  const key = keyOf(route);
  let headers = await caller.headers();
  if (key === 'POST /api/v1/auth/logout' && caller.role !== null && 'cookie' in headers) {
    headers = { cookie: await freshSession(caller.role), origin };
  }
  return h.call(route.method, pathFor(route), {
    headers,
    // A minimal JSON body for writes; DELETE carries none (an empty JSON body is a 400 of its own).
    ...(isRead(route.method) || route.method === 'DELETE' ? {} : { body: {} }),
  });
}

/** What is wrong with `answer` for `caller` on `route`, or null when it is as declared. */
function mismatch(route: DeclaredRoute, caller: Credential, answer: Answer): string | null {
  const expected = expectedFor(route.permission, caller.role);
  const where = `${keyOf(route)} [${route.permission}] as ${caller.label}: got ${answer.status}`;
  const hasBody = route.method !== 'HEAD';
  switch (expected) {
    case 'any':
    case 'own':
      return answer.status === 401 || answer.status === 403
        ? `${where}, wanted its own answer`
        : null;
    case 401: {
      if (answer.status !== 401) return `${where}, wanted 401`;
      const error = errorCode(answer) as { code?: unknown; message?: unknown } | undefined;
      if (hasBody && (error?.code !== 'UNAUTHENTICATED' || typeof error.message !== 'string')) {
        return `${where} without the JSON error body: ${answer.text}`;
      }
      return null;
    }
    case 403: {
      if (answer.status !== 403) return `${where}, wanted 403`;
      const error = errorCode(answer) as { code?: unknown; message?: unknown } | undefined;
      if (
        hasBody &&
        (error?.code !== 'FORBIDDEN' ||
          typeof error.message !== 'string' ||
          !error.message.includes(route.permission))
      ) {
        return `${where} but not the guard's FORBIDDEN naming ${route.permission}: ${answer.text}`;
      }
      return null;
    }
  }
}

/** Opens the WebSocket for real; resolves with the first message's type or the refusal status. */
function openStream(url: string, headers: Record<string, string>): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ca: h.certPem });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no answer from ${url}`));
    }, 10_000);
    const finish = (result: string | number): void => {
      clearTimeout(timer);
      ws.terminate();
      resolve(result);
    };
    ws.once('message', (data: Buffer) => {
      finish(String((JSON.parse(data.toString()) as { type?: unknown }).type));
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      finish(res.statusCode ?? 0);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

beforeAll(async () => {
  h = await startHarness();
  origin = h.server.urls.https;
  routes = h.server.routes();
  h.ingest.emit({ type: 'device', device: deviceView(DEVICE_ID) });
  for (const role of ROLES) {
    sessions.set(role, await h.loginAs(role, `matrix-${role}`));
  }
  for (const role of ROLES) {
    // Created the way a user does: from a logged-in session, with the user's role. A role that
    // may not manage tokens (a wall display) gets one issued by an admin with that role, as an
    // integration reading the fleet would.
    const own = (ROLE_PERMISSIONS[role] as readonly string[]).includes('tokens:manage');
    const created = await h.call('POST', '/api/v1/tokens', {
      cookie: sessions.get(own ? role : 'admin')!,
      headers: { origin },
      body: { name: `matrix ${role}`, ...(own ? {} : { role }) },
    });
    if (created.status !== 201) throw new Error(`token for ${role}: ${created.text}`);
    tokens.set(role, (created.json as { token: string }).token);
  }
});

afterAll(async () => {
  await h.close();
});

describe('permission matrix', () => {
  it('walks a route list that holds the known routes and every adjusted route', () => {
    expect(routes.length).toBeGreaterThan(KNOWN_ROUTES.length);
    const keys = new Set(routes.map(keyOf));
    for (const known of [...KNOWN_ROUTES, ...Object.keys(ADJUSTED), ...WEBSOCKET_ROUTES]) {
      expect(keys, known).toContain(known);
    }
    // Every role is walked with a session and with an API token of that role.
    for (const role of ROLES) expect(tokens.has(role), role).toBe(true);
  });

  it.each(['anonymous', ...ROLES])(
    'answers %s on every registered route as the declared permission says',
    async (who) => {
      const list = callers().filter((c) => (c.role ?? 'anonymous') === who);
      expect(list.length).toBeGreaterThan(0);
      const problems: string[] = [];
      const seen = { own: 0, refused: 0 };
      for (const caller of list) {
        for (const route of routes) {
          const answer = await send(route, caller);
          const problem = mismatch(route, caller, answer);
          if (problem) problems.push(problem);
          if (expectedFor(route.permission, caller.role) === 'own') seen.own += 1;
          if (answer.status === 401 || answer.status === 403) seen.refused += 1;
        }
      }
      expect(problems).toEqual([]);
      // Not a vacuous walk: anonymous is refused somewhere, a role reaches some routes, and every
      // role but the one holding all permissions is refused somewhere.
      if (who === 'anonymous') expect(seen.refused).toBeGreaterThan(0);
      else expect(seen.own).toBeGreaterThan(0);
      const all = who === 'anonymous' ? [] : ROLE_PERMISSIONS[who as Role];
      if (who !== 'anonymous' && all.length < ROLE_PERMISSIONS.admin.length) {
        expect(seen.refused).toBeGreaterThan(0);
      }
    },
  );

  it('serves the dashboard pages to anyone and keeps API paths out of them', async () => {
    const pages = routes.filter(
      (r) => r.permission === 'public' && r.method === 'GET' && !r.url.startsWith('/api/'),
    );
    expect(pages.length).toBeGreaterThan(5);
    for (const route of pages) {
      const answer = await h.call('GET', pathFor(route));
      // 200 with the page, 404 for a missing asset, or 503 "not built" when web/dist is absent.
      expect([200, 404, 503], keyOf(route)).toContain(answer.status);
    }
    const api = await h.call('GET', '/api/v1/no-such-route');
    expect(api.status).toBe(404);
    expect(errorCode(api)).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('opens the WebSocket stream only for callers allowed to read the fleet', async () => {
    for (const key of WEBSOCKET_ROUTES) {
      const route = routes.find((r) => keyOf(r) === key)!;
      const url = `${origin.replace('https:', 'wss:')}${pathFor(route)}`;
      for (const caller of callers()) {
        const expected = expectedFor(route.permission, caller.role);
        const result = await openStream(url, await caller.headers());
        if (expected === 'own' || expected === 'any') expect(result, caller.label).toBe('hello');
        else expect(result, caller.label).toBe(expected);
      }
    }
  });

  it('does not let an operator manage users or revoke the tokens of others', async () => {
    expect(ROLE_PERMISSIONS.operator).not.toContain('users:manage');
    const operatorCreds = callers().filter((c) => c.role === 'operator');
    for (const route of routes.filter((r) => r.permission === 'users:manage')) {
      for (const caller of operatorCreds) {
        expect((await send(route, caller)).status, `${keyOf(route)} as ${caller.label}`).toBe(403);
      }
    }
    const listed = await h.call('GET', '/api/v1/tokens', {
      headers: { authorization: `Bearer ${tokens.get('admin')!}` },
    });
    const adminTokenId = (listed.json as { items: { id: string }[] }).items[0]!.id;
    for (const caller of operatorCreds) {
      const revoke = await h.call('DELETE', `/api/v1/tokens/${adminTokenId}`, {
        headers: await caller.headers(),
      });
      // Another user's token is as good as absent to an operator: nothing is revoked.
      expect(revoke.status, caller.label).toBe(404);
      expect(errorCode(revoke)).toMatchObject({ code: 'TOKEN_NOT_FOUND' });
    }
    const still = await h.call('GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${tokens.get('admin')!}` },
    });
    expect(still.status).toBe(200);
  });

  it('lets a dashboard account and a dashboard token only read', async () => {
    // A dashboard (wall display) cannot create API tokens; an admin may issue a read-only one.
    expect(ROLE_PERMISSIONS.dashboard).not.toContain('tokens:manage');
    const dashboard = callers().filter((c) => c.role === 'dashboard');
    expect(dashboard.map((c) => c.label)).toEqual(['dashboard (session)', 'dashboard (API token)']);
    for (const caller of dashboard) {
      const read = await h.call('GET', `/api/v1/devices/${DEVICE_ID}`, {
        headers: await caller.headers(),
      });
      expect(read.status, caller.label).toBe(200);
    }
    const writes = routes.filter(
      (r) => !isRead(r.method) && r.permission !== 'public' && r.permission !== 'authenticated',
    );
    expect(writes.length).toBeGreaterThan(5);
    for (const route of writes) {
      for (const caller of dashboard) {
        expect((await send(route, caller)).status, `${keyOf(route)} as ${caller.label}`).toBe(403);
      }
    }
    const tokenAttempt = await h.call('POST', '/api/v1/tokens', {
      headers: await dashboard[0]!.headers(),
      body: { name: 'wall' },
    });
    expect(tokenAttempt.status).toBe(403);
  });
});
