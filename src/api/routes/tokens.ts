// API tokens for scripts: create (shown once), list one's own, revoke.

import { Type } from 'typebox';
import { MAX_TOKEN_DAYS } from '../../auth/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { RoleSchema, authErrors } from '../schemas.js';

const nullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });
const ProxyScopeSchema = Type.Object(
  {
    devices: Type.Union([Type.Array(Id, { maxItems: 1000 }), Type.Null()], {
      description: 'device ids, or null for every device the token may see',
    }),
    methods: Type.Array(Type.String({ pattern: '^(GET|HEAD|POST|PUT|PATCH|DELETE)$' }), {
      minItems: 1,
      maxItems: 6,
    }),
    paths: Type.Array(
      Type.String({ minLength: 7, maxLength: 200, pattern: '^/ws/v1(/[A-Za-z0-9._~-]+)*/?$' }),
      {
        minItems: 1,
        maxItems: 50,
        description: 'path prefixes under /ws/v1/, matching whole segments (e.g. /ws/v1/status)',
      },
    ),
  },
  { additionalProperties: false },
);
const ScopeSchema = Type.Object({
  sites: Type.Union([Type.Array(Type.String()), Type.Null()]),
  proxy: Type.Union([ProxyScopeSchema, Type.Null()]),
});
const tokenFields = {
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: nullableTime,
  lastUsedAt: nullableTime,
  revokedAt: nullableTime,
  scope: ScopeSchema,
};
const TokenSchema = Type.Object(tokenFields);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f]+$' }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_DAYS })),
    role: Type.Optional(RoleSchema),
    sites: Type.Optional(
      Type.Union([Type.Array(Id, { minItems: 1, maxItems: 500 }), Type.Null()], {
        description: 'limit the token to these sites (within your own)',
      }),
    ),
    proxy: Type.Optional(Type.Union([ProxyScopeSchema, Type.Null()])),
  },
  { additionalProperties: false },
);

export function registerTokenRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  const { tokens } = deps.auth;

  app.post(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens:manage' },
      schema: {
        tags: ['auth'],
        summary: 'Create an API token (the token is shown only in this response)',
        body: CreateBody,
        response: {
          201: Type.Object({
            ...tokenFields,
            token: Type.String({ description: 'cc_<id>_<secret>; send as Authorization: Bearer' }),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { name, expiresInDays, role, sites, proxy } = request.body;
      const created = await tokens.create(
        principalOf(request),
        {
          name,
          expiresInDays: expiresInDays ?? null,
          role,
          sites,
          proxy,
        },
        request.ip,
      );
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens:manage' },
      schema: {
        tags: ['auth'],
        summary: "The caller's API tokens (never their secrets)",
        response: { 200: Type.Object({ items: Type.Array(TokenSchema) }), ...authErrors },
      },
    },
    async (request) => ({ items: await tokens.list(principalOf(request)) }),
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      config: { permission: 'tokens:manage' },
      schema: {
        tags: ['auth'],
        summary: 'Revoke an API token (answers 204; 404 TOKEN_NOT_FOUND)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      },
    },
    async (request, reply) => {
      await tokens.revoke(principalOf(request), request.params.id, request.ip);
      return reply.code(204).send();
    },
  );
}
