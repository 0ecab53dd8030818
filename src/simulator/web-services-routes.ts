// The /ws/v1 routes of a simulated device (DESIGN §4.3, docs/protocols/web-services.md): which
// path and method does what, who may call it, and the status and JSON body of every answer. No I/O:
// the HTTPS listener (web-services-server.ts) parses the request and writes what this returns.

import {
  WEB_SERVICES_PREFIX,
  WS_JOB_ACTIONS,
  type WsActionResult,
  type WsAlerts,
  type WsConsumables,
  type WsFirmwareStatus,
  type WsIdentity,
  type WsJobAction,
  type WsJobs,
  type WsStatus,
} from '../domain/index.js';
import type { Readable } from 'node:stream';
import type { UploadOutcome } from './device-firmware.js';
import type { CommandOutcome } from './device-model.js';

/** What the routes need from the device; every call sees the device as of now. */
export interface WsDeviceBackend {
  identity(): WsIdentity;
  status(): WsStatus;
  consumables(): WsConsumables;
  alerts(): WsAlerts;
  /** `sinceMs` is -Infinity when the client asked for every job the device remembers. */
  jobs(sinceMs: number): WsJobs;
  jobAction(jobId: string, action: WsJobAction): CommandOutcome;
  acknowledgeAlert(alertId: string): CommandOutcome;
  firmwareStatus(): WsFirmwareStatus;
  /** Receives a firmware package (`declaredBytes`: its Content-Length, null when chunked). */
  firmwareUpload(body: Readable, declaredBytes: number | null): Promise<UploadOutcome>;
  /** Device time now, RFC 3339. */
  time(): string;
}

export type WsErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REJECTED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL';

export interface WsResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface WsRequest {
  method: string;
  /** Path without the query string, as received (percent-encoded). */
  path: string;
  query: URLSearchParams;
  /** True when the request carried the device's admin credential. */
  authorized: boolean;
}

export function wsError(
  status: number,
  code: WsErrorCode,
  message: string,
  headers?: Record<string, string>,
): WsResponse {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

export const REALM_HEADER = { 'WWW-Authenticate': 'Basic realm="device"' };

interface Route {
  method: 'GET' | 'POST';
  /** Only `identity` answers without the admin credential. */
  anonymous: boolean;
  handle(backend: WsDeviceBackend, params: string[], query: URLSearchParams): WsResponse;
}

// RFC 3339 date-time (`T`/`Z` in either case, fraction optional, offset required).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function parseSince(query: URLSearchParams): number | WsResponse {
  const values = query.getAll('since');
  if (values.length === 0) return -Infinity;
  const [value] = values;
  const ms = value !== undefined && RFC3339.test(value) ? Date.parse(value) : NaN;
  if (values.length > 1 || !Number.isFinite(ms)) {
    return wsError(
      400,
      'BAD_REQUEST',
      'since must be one RFC 3339 date-time, e.g. 2026-03-02T08:00:00Z',
    );
  }
  return ms;
}

function actionAnswer(outcome: CommandOutcome, ts: string): WsResponse {
  if (outcome.ok) {
    const result: WsActionResult = { accepted: true, message: outcome.message, ts };
    return { status: 200, body: result };
  }
  switch (outcome.reason) {
    case 'unknown-job':
    case 'unknown-alert':
      return wsError(404, 'NOT_FOUND', outcome.message);
    case 'rejected':
    case undefined:
      return wsError(409, 'REJECTED', outcome.message);
  }
}

const ok = (body: unknown): WsResponse => ({ status: 200, body });

/** Routes by path shape; `:id` matches any one segment, `:action` one of the job actions. */
const ROUTES: { pattern: string[]; routes: Route[] }[] = [
  {
    pattern: ['identity'],
    routes: [{ method: 'GET', anonymous: true, handle: (b) => ok(b.identity()) }],
  },
  {
    pattern: ['status'],
    routes: [{ method: 'GET', anonymous: false, handle: (b) => ok(b.status()) }],
  },
  {
    pattern: ['consumables'],
    routes: [{ method: 'GET', anonymous: false, handle: (b) => ok(b.consumables()) }],
  },
  {
    pattern: ['alerts'],
    routes: [{ method: 'GET', anonymous: false, handle: (b) => ok(b.alerts()) }],
  },
  {
    pattern: ['jobs'],
    routes: [
      {
        method: 'GET',
        anonymous: false,
        handle(b, _params, query) {
          const since = parseSince(query);
          return typeof since === 'number' ? ok(b.jobs(since)) : since;
        },
      },
    ],
  },
  {
    pattern: ['jobs', ':id', ':action'],
    routes: [
      {
        method: 'POST',
        anonymous: false,
        handle: (b, [jobId, action]) =>
          actionAnswer(b.jobAction(jobId ?? '', action as WsJobAction), b.time()),
      },
    ],
  },
  {
    pattern: ['alerts', ':id', 'acknowledge'],
    routes: [
      {
        method: 'POST',
        anonymous: false,
        handle: (b, [alertId]) => actionAnswer(b.acknowledgeAlert(alertId ?? ''), b.time()),
      },
    ],
  },
  {
    pattern: ['firmware', 'status'],
    routes: [{ method: 'GET', anonymous: false, handle: (b) => ok(b.firmwareStatus()) }],
  },
];

const JOB_ACTIONS: readonly string[] = WS_JOB_ACTIONS;

/** The path's segments after /ws/v1/, decoded; undefined when it is not a well-formed /ws/v1 path. */
function segments(path: string): string[] | undefined {
  const prefix = `${WEB_SERVICES_PREFIX}/`;
  if (!path.startsWith(prefix)) return undefined;
  const parts = path.slice(prefix.length).split('/');
  try {
    const decoded = parts.map((p) => decodeURIComponent(p));
    return decoded.every((p) => p.length > 0 && p.length <= 256) ? decoded : undefined;
  } catch {
    // Malformed percent-encoding names no resource.
    return undefined;
  }
}

function match(pattern: string[], parts: string[]): string[] | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: string[] = [];
  for (const [i, want] of pattern.entries()) {
    const got = parts[i] ?? '';
    if (want === ':id') params.push(got);
    else if (want === ':action' && JOB_ACTIONS.includes(got)) params.push(got);
    else if (want !== got) return undefined;
  }
  return params;
}

/** True for `/ws/v1/firmware`, the upload route, whose body is streamed (web-services-upload.ts). */
export function isFirmwareUploadPath(path: string): boolean {
  const parts = segments(path);
  return parts?.length === 1 && parts[0] === 'firmware';
}

export function routeWsRequest(backend: WsDeviceBackend, req: WsRequest): WsResponse {
  const parts = segments(req.path);
  const found = parts
    ? ROUTES.map((r) => ({ r, params: match(r.pattern, parts) })).find((m) => m.params)
    : undefined;
  if (!found?.params) return wsError(404, 'NOT_FOUND', `no resource at ${req.path.slice(0, 200)}`);
  const route = found.r.routes.find((r) => r.method === req.method);
  const anonymous = found.r.routes.every((r) => r.anonymous);
  if (!anonymous && !req.authorized) {
    return wsError(401, 'UNAUTHORIZED', 'the admin credential is required', REALM_HEADER);
  }
  if (!route) {
    const allow = found.r.routes.map((r) => r.method).join(', ');
    return wsError(405, 'METHOD_NOT_ALLOWED', `use ${allow} on this resource`, { Allow: allow });
  }
  return route.handle(backend, found.params, req.query);
}
