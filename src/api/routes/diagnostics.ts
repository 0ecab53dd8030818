// The network doctor from the dashboard: GET the latest run (its checks appear while it runs),
// POST to start one (202; 409 while one runs). Admins only (`diagnostics:run`); each start is
// audited.

import { Type } from 'typebox';
import type { DiagnosticsService } from '../../diagnostics/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { actorOf } from '../route-guard.js';
import { ErrorSchema, authErrors } from '../schemas.js';

const STATUS = ['ok', 'warn', 'fail', 'skipped'] as const;
const PATHS = ['direct', 'proxy', 'local'] as const;
const NAMES = [
  'dns',
  'tcp',
  'tls',
  'ftp-banner',
  'https',
  'ports',
  'clock',
  'disk',
  'broker',
  'database',
  'bandwidth',
] as const;

const CheckSchema = Type.Object({
  subject: Type.String({
    description: 'host:port (/ftp for FTP) of an endpoint, or what was checked on this machine',
  }),
  name: Type.Enum([...NAMES]),
  path: Type.Enum([...PATHS], {
    description: 'direct, through the proxy, or local (a check of this machine)',
  }),
  status: Type.Enum([...STATUS]),
  detail: Type.String(),
  cause: Type.Optional(Type.String({ description: 'The likely cause (warnings and failures)' })),
  fix: Type.Optional(Type.String({ description: 'What to do about it' })),
  ms: Type.Integer(),
  value: Type.Optional(
    Type.Number({ description: 'A reading: clock skew, free space, bandwidth' }),
  ),
  unit: Type.Optional(Type.String()),
});

const RunSchema = Type.Object({
  id: Type.String(),
  state: Type.Enum(['running', 'done']),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  startedBy: Type.String(),
  proxy: Type.Union([Type.String(), Type.Null()], {
    description: 'The proxy tested (no credentials); null when none applies',
  }),
  total: Type.Integer({ description: 'Checks the run will report' }),
  checks: Type.Array(CheckSchema),
  summary: Type.Union([
    Type.Object({
      ok: Type.Integer(),
      warn: Type.Integer(),
      fail: Type.Integer(),
      skipped: Type.Integer(),
      workingPaths: Type.Record(Type.String(), Type.Array(Type.Enum(['direct', 'proxy']))),
    }),
    Type.Null(),
  ]),
  exitCode: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Null()], {
    description: '0 all good, 1 warnings, 2 failures; null while running',
  }),
});

const LatestSchema = Type.Object({ run: Type.Union([RunSchema, Type.Null()]) });

export function registerDiagnosticsRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'auth'> & { diagnostics: DiagnosticsService },
): void {
  app.get(
    '/api/v1/diagnostics',
    {
      config: { permission: 'diagnostics:run' },
      schema: {
        tags: ['diagnostics'],
        summary: 'The latest network check (checks appear while it runs)',
        response: { 200: LatestSchema, ...authErrors },
      },
    },
    () => ({ run: deps.diagnostics.latest() }),
  );
  app.post(
    '/api/v1/diagnostics',
    {
      config: { permission: 'diagnostics:run' },
      schema: {
        tags: ['diagnostics'],
        summary:
          'Start a network check: endpoints (DNS, TCP, TLS or FTP banner, HTTPS; direct and via the proxy), ports, clock, disk, broker, database, bandwidth',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 202: LatestSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const run = await deps.diagnostics.start(actor.name);
      await deps.auth.audit.record({
        actor: actor.name,
        action: 'diagnostics.run',
        target: run.id,
        outcome: 'ok',
        source: actor.source,
        details: { total: run.total },
      });
      return reply.code(202).send({ run });
    },
  );
}
