// User management: the users list with role, sites, last login and lockout; changing role and
// sites; disabling and enabling (ends the user's sessions; their tokens stop working); deleting;
// ending every session of a user; lifting a login lockout. Never leaves the server without an
// enabled administrator who sees every site (409 LAST_ADMIN).

import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, RoleSchema, authErrors } from '../schemas.js';
import { SitesInputSchema, UserViewSchema } from './account-schemas.js';

const userErrors = { ...authErrors, 404: ErrorSchema, 409: ErrorSchema };

export function registerUserRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  const { users, session } = deps.auth;
  const originOf = (request: { ip: string; cookies: Record<string, string | undefined> }) => ({
    source: request.ip,
    sessionSecret: request.cookies[session.cookieName],
  });

  app.get(
    '/api/v1/users',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Every user you manage (by user name), never a password hash',
        response: { 200: Type.Object({ items: Type.Array(UserViewSchema) }), ...authErrors },
      },
    },
    async (request) => ({ items: await users.list(principalOf(request)) }),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Change a user’s role or sites, or disable / enable the account',
        description:
          'Disabling ends every session of the user and their API tokens stop working. ' +
          'A change that would leave no enabled admin with access to every site answers 409 LAST_ADMIN.',
        params: IdParamsSchema,
        body: Type.Object(
          {
            role: Type.Optional(RoleSchema),
            sites: Type.Optional(SitesInputSchema),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserViewSchema, ...userErrors },
      },
    },
    async (request) =>
      users.update(principalOf(request), request.params.id, request.body, originOf(request)),
  );

  app.delete(
    '/api/v1/users/:id',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary:
          'Delete a user with their sessions and API tokens (the audit log keeps their acts)',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...userErrors },
      },
    },
    async (request, reply) => {
      await users.remove(principalOf(request), request.params.id, originOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/:id/logout-everywhere',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'End every session of a user (their API tokens are not affected)',
        params: IdParamsSchema,
        response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), ...userErrors },
      },
    },
    async (request) => ({
      sessionsEnded: await users.logoutEverywhere(
        principalOf(request),
        request.params.id,
        originOf(request),
      ),
    }),
  );

  app.post(
    '/api/v1/users/:id/unlock',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Lift a login lockout of a user',
        params: IdParamsSchema,
        response: {
          200: Type.Object({
            unlocked: Type.Boolean({ description: 'Whether a lockout was in force' }),
          }),
          ...userErrors,
        },
      },
    },
    async (request) => ({
      unlocked: await users.unlock(principalOf(request), request.params.id, originOf(request)),
    }),
  );
}
