// The receiver's HTTP routes: enrollment and reports for servers (where test-injected failures and
// redirects apply), and the admin listing behind a bearer token.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/index.js';
import { SITE_ID_PATTERN } from '../uplink/seal.js';
import { enroll, parseEnrollRequest } from './enrollment.js';
import { codeForStatus, errorBody, ReceiverError } from './receiver-errors.js';
import type { ReceiverStore } from './receiver-store.js';
import { acceptReport } from './report-intake.js';

export type ReceiverApp = FastifyInstance<HttpsServer, IncomingMessage, ServerResponse, Logger>;

export interface CloudRequest {
  id: string;
  kind: 'diagnostics';
}

/** What the cloud adds to every 202 answer: new settings, things it asks the server to do. */
export interface ReportResponseExtras {
  settings?: { reportIntervalSeconds?: number };
  requests?: CloudRequest[];
}

export interface ReceiverCounters {
  enrollRequests: number;
  reportRequests: number;
  /** Answered by failNext or redirectTo instead of the route. */
  injected: number;
  accepted: number;
  duplicates: number;
}

/** Test controls and counters, shared between the routes and the programmatic object. */
export interface ReceiverControls {
  failures: { remaining: number; status: number; retryAfterSeconds: number | undefined };
  redirect: string | null;
  extras: ReportResponseExtras;
  counters: ReceiverCounters;
}

export interface ReceiverRouteDeps {
  store: ReceiverStore;
  controls: ReceiverControls;
  organizationId: string;
  enrollmentToken: string;
  adminToken: string;
  reportIntervalSeconds: number;
  logger: Logger;
  now: () => Date;
}

export const MAX_LIST_LIMIT = 1000;
const DEFAULT_LIST_LIMIT = 100;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** failNext and redirectTo answer before the route runs, as a failing cloud or a proxy would. */
function injected(controls: ReceiverControls, reply: FastifyReply): boolean {
  if (controls.redirect !== null) {
    controls.counters.injected += 1;
    void reply
      .code(307)
      .header('location', controls.redirect)
      .send(errorBody('REDIRECTED', `this endpoint moved to ${controls.redirect}`));
    return true;
  }
  const { failures } = controls;
  if (failures.remaining > 0) {
    failures.remaining -= 1;
    controls.counters.injected += 1;
    if (failures.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(failures.retryAfterSeconds));
    }
    void reply
      .code(failures.status)
      .send(
        errorBody(codeForStatus(failures.status), 'the cloud is failing on purpose (failNext)'),
      );
    return true;
  }
  return false;
}

function parseQueryInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ReceiverError('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

export function registerReceiverRoutes(app: ReceiverApp, deps: ReceiverRouteDeps): void {
  const { store, controls, logger } = deps;
  const adminDigest = digest(deps.adminToken);

  const requireAdmin = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([\w.~+/-]{1,512}=*)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] ?? ''), adminDigest)) {
      throw new ReceiverError(
        'UNAUTHENTICATED',
        'the receiver admin token is required (Authorization: Bearer …)',
        {
          'www-authenticate': 'Bearer realm="cloud-receiver"',
        },
      );
    }
    await Promise.resolve();
  };

  app.post('/v1/enroll', async (request, reply) => {
    controls.counters.enrollRequests += 1;
    if (injected(controls, reply)) return reply;
    const body = parseEnrollRequest(request.body);
    const { response, superseded } = enroll(store, body, {
      organizationId: deps.organizationId,
      enrollmentToken: deps.enrollmentToken,
      reportIntervalSeconds: deps.reportIntervalSeconds,
      now: deps.now(),
    });
    logger.info({ siteId: response.siteId, server: body.server.name, superseded }, 'site enrolled');
    await Promise.resolve();
    return reply.code(201).send(response);
  });

  app.post('/v1/reports', async (request, reply) => {
    controls.counters.reportRequests += 1;
    if (injected(controls, reply)) return reply;
    const result = acceptReport(store, request.body, deps.now());
    await Promise.resolve();
    if (result.status === 200) {
      controls.counters.duplicates += 1;
      return reply.code(200).send({ accepted: result.seq, duplicate: true });
    }
    controls.counters.accepted += 1;
    logger.debug({ siteId: result.siteId, seq: result.seq }, 'report accepted');
    if (result.unenrolled) {
      logger.info({ siteId: result.siteId }, 'site unenrolled');
      return reply.code(202).send({ accepted: result.seq, unenrolled: true });
    }
    return reply.code(202).send({ accepted: result.seq, ...controls.extras });
  });

  app.get('/v1/sites', { onRequest: requireAdmin }, async () => {
    await Promise.resolve();
    return { items: store.sites() };
  });

  app.get<{ Params: { siteId: string }; Querystring: Record<string, unknown> }>(
    '/v1/sites/:siteId/reports',
    { onRequest: requireAdmin },
    async (request) => {
      const { siteId } = request.params;
      if (!SITE_ID_PATTERN.test(siteId) || store.site(siteId) === undefined) {
        throw new ReceiverError('SITE_NOT_FOUND', 'no site with this id');
      }
      const afterSeq = parseQueryInteger(
        request.query.afterSeq,
        'afterSeq',
        0,
        Number.MAX_SAFE_INTEGER,
        0,
      );
      const limit = parseQueryInteger(
        request.query.limit,
        'limit',
        1,
        MAX_LIST_LIMIT,
        DEFAULT_LIST_LIMIT,
      );
      const items = store.reports(siteId, afterSeq, limit);
      await Promise.resolve();
      const last = items.at(-1);
      return { items, nextAfterSeq: items.length === limit && last ? last.seq : null };
    },
  );
}
