// The cloud uplink for admins: status (enrolled?, last success, last error, queue depth, route),
// enrollment and un-enrollment, data-sharing consent per category, a preview of exactly what the
// next report holds, and "send a report now". All need `cloud:manage` (and access to every site).

import { Type } from 'typebox';
import { CONSENT_CATEGORIES } from '../../uplink/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { actorOf } from '../route-guard.js';
import { ErrorSchema, authErrors } from '../schemas.js';

const nullableTime = Type.Union([Type.String(), Type.Null()]);

const ConsentSchema = Type.Object({
  category: Type.Enum([...CONSENT_CATEGORIES]),
  description: Type.String(),
  granted: Type.Boolean(),
  at: nullableTime,
  by: Type.Union([Type.String(), Type.Null()]),
});

const StatusSchema = Type.Object({
  enabled: Type.Boolean(),
  enrolled: Type.Boolean(),
  enrollment: Type.Union([
    Type.Object({
      organizationId: Type.String(),
      siteId: Type.String(),
      kid: Type.String(),
      endpoint: Type.String(),
      enrolledAt: Type.String(),
      enrolledBy: Type.String(),
    }),
    Type.Null(),
  ]),
  intervalSeconds: Type.Integer(),
  nextReportAt: nullableTime,
  lastAttemptAt: nullableTime,
  lastSuccessAt: nullableTime,
  lastError: Type.Union([Type.Object({ message: Type.String(), at: Type.String() }), Type.Null()]),
  delivery: Type.Object({
    consecutiveFailures: Type.Integer(),
    retryAt: nullableTime,
    lastDelivered: Type.Union([
      Type.Object({
        seq: Type.Integer(),
        at: Type.String(),
        via: Type.Enum(['direct', 'proxy']),
      }),
      Type.Null(),
    ]),
  }),
  outbox: Type.Object({
    count: Type.Integer(),
    bytes: Type.Integer(),
    oldestAt: nullableTime,
    criticalCount: Type.Integer(),
    droppedTotal: Type.Integer(),
    limits: Type.Object({ maxBytes: Type.Integer(), maxItems: Type.Integer() }),
  }),
  route: Type.Object({
    via: Type.Enum(['direct', 'proxy']),
    proxy: Type.Union([Type.String(), Type.Null()]),
  }),
  consent: Type.Array(ConsentSchema),
  alerts: Type.Array(
    Type.Object({ code: Type.String(), message: Type.String(), at: Type.String() }),
  ),
});

const cloudErrors = { ...authErrors, 409: ErrorSchema, 422: ErrorSchema, 502: ErrorSchema };

export function registerCloudRoutes(app: ApiApp, deps: Pick<ApiDeps, 'uplink'>): void {
  const { uplink } = deps;

  app.get(
    '/api/v1/cloud',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Uplink status: enrollment, last delivery, last error, outbox, route, consent',
        response: { 200: StatusSchema, ...authErrors },
      },
    },
    () => uplink.status(),
  );

  app.post(
    '/api/v1/cloud/enrollment',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Enroll with the vendor cloud (or enroll again)',
        description:
          'Sends the organization id and the one-time enrollment token to the cloud, which ' +
          'answers with this site id and secret; the secret is stored encrypted and never shown. ' +
          'Enrolling again replaces the enrollment and discards reports queued for the old site.',
        body: Type.Object(
          {
            organizationId: Type.String({
              minLength: 1,
              maxLength: 128,
              pattern: '^[^\\u0000-\\u001f]+$',
            }),
            enrollmentToken: Type.String({
              minLength: 8,
              maxLength: 512,
              pattern: '^[\\x21-\\x7e]+$',
            }),
            endpoint: Type.Optional(
              Type.String({
                minLength: 9,
                maxLength: 2048,
                description: 'https:// URL on uplink.allowedHosts',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: StatusSchema, ...cloudErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const status = await uplink.enroll(
        {
          organizationId: body.organizationId,
          enrollmentToken: body.enrollmentToken,
          ...(body.endpoint !== undefined ? { endpoint: body.endpoint } : {}),
        },
        actorOf(request),
      );
      return reply.code(201).send(status);
    },
  );

  app.delete(
    '/api/v1/cloud/enrollment',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary:
          'Un-enroll: tell the cloud (best effort), forget the secret, discard queued reports',
        response: { 200: StatusSchema, ...cloudErrors },
      },
    },
    (request) => uplink.unenroll(actorOf(request)),
  );

  app.get(
    '/api/v1/cloud/consent',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Data-sharing consent per category (who decided, when)',
        response: { 200: Type.Object({ items: Type.Array(ConsentSchema) }), ...authErrors },
      },
    },
    async () => ({ items: await uplink.consent() }),
  );

  app.put(
    '/api/v1/cloud/consent',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Grant or revoke consent for categories of non-anonymous data',
        description:
          'Without consent, a category is pseudonymized with a key that never leaves the site, or ' +
          'dropped (free text). Each change is recorded (who, when, from where) and audited.',
        body: Type.Object(
          Object.fromEntries(CONSENT_CATEGORIES.map((c) => [c, Type.Optional(Type.Boolean())])),
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Type.Object({ items: Type.Array(ConsentSchema) }), ...authErrors },
      },
    },
    async (request) => ({
      items: await uplink.setConsent(request.body as Record<string, boolean>, actorOf(request)),
    }),
  );

  app.get(
    '/api/v1/cloud/preview',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Exactly what the next periodic report would hold now, before sealing',
        response: {
          200: Type.Object({ report: Type.Unknown(), bytes: Type.Integer() }),
          ...authErrors,
        },
      },
    },
    () => uplink.preview(),
  );

  app.post(
    '/api/v1/cloud/reports',
    {
      config: { permission: 'cloud:manage' },
      schema: {
        tags: ['cloud'],
        summary: 'Queue a periodic report now and start delivering it',
        description:
          'A large fleet’s report is sent in parts (each with `part: {index, count}`) that fit one envelope each.',
        response: {
          202: Type.Object({
            seq: Type.Integer({ description: 'seq of the first (or only) part' }),
            parts: Type.Integer({ description: 'envelopes the report was split into' }),
            bytes: Type.Integer({ description: 'sealed bytes of all parts' }),
          }),
          ...cloudErrors,
        },
      },
    },
    async (_request, reply) => {
      const { seq, parts, bytes } = await uplink.reportNow();
      return reply.code(202).send({ seq, parts, bytes });
    },
  );
}
