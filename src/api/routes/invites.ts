// Invitations: an administrator creates one (role, sites, optionally the user name; 72 h by
// default) and gets a one-time link `https://<host>/invite#token=…`, shown only in that answer;
// pending invitations are listed and can be withdrawn. Accepting is public: the token, a user name
// and a password create the account and log it in (session cookie), once.

import { Type } from 'typebox';
import { MAX_INVITE_HOURS, PASSWORD_MAX_LENGTH } from '../../auth/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import {
  ErrorSchema,
  IdParamsSchema,
  RoleSchema,
  UserSummarySchema,
  authErrors,
} from '../schemas.js';
import { InviteViewSchema, SitesInputSchema } from './account-schemas.js';
import { SESSION_COOKIE_OPTIONS } from './session.js';

/** A Host header fit to put in a link (name or address, optional port); anything else is left out. */
const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

export function registerInviteRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  const { auth } = deps;

  app.post(
    '/api/v1/invites',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Invite someone: a one-time link (shown only in this answer)',
        body: Type.Object(
          {
            username: Type.Optional(
              Type.String({ minLength: 1, maxLength: 64, description: 'Fix the user name' }),
            ),
            role: RoleSchema,
            sites: Type.Optional(SitesInputSchema),
            expiresInHours: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_INVITE_HOURS, default: 72 }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            invite: InviteViewSchema,
            token: Type.String(),
            path: Type.String({ description: '/invite#token=…' }),
            url: Type.Union([Type.String(), Type.Null()], {
              description: 'The link on the host this request was sent to',
            }),
          }),
          ...authErrors,
          409: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const created = await auth.invites.create(principalOf(request), request.body, request.ip);
      const host = request.host;
      const url = HOST.test(host) ? `https://${host}${created.path}` : null;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...created, url });
    },
  );

  app.get(
    '/api/v1/invites',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Pending invitations, newest first (never their links)',
        response: { 200: Type.Object({ items: Type.Array(InviteViewSchema) }), ...authErrors },
      },
    },
    async (request) => ({ items: await auth.invites.pending(principalOf(request)) }),
  );

  app.delete(
    '/api/v1/invites/:id',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Withdraw a pending invitation',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...authErrors, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      await auth.invites.revoke(principalOf(request), request.params.id, request.ip);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/invites/accept',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['users'],
        summary: 'Accept an invitation: creates the account and logs it in (sets the cookie)',
        description:
          '403 INVITE_INVALID for an unknown token, 410 INVITE_EXPIRED for a used or expired ' +
          'one, 409 CONFLICT for a taken user name, 400 for a password the policy refuses.',
        body: Type.Object(
          {
            token: Type.String({ minLength: 1, maxLength: 128 }),
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            user: UserSummarySchema,
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          400: ErrorSchema,
          403: ErrorSchema,
          409: ErrorSchema,
          410: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const result = await auth.acceptInvite(request.body, request.ip);
      return reply
        .code(201)
        .setCookie(auth.session.cookieName, result.secret, {
          ...SESSION_COOKIE_OPTIONS,
          maxAge: auth.session.maxAgeSeconds,
        })
        .send({ user: result.user, expiresAt: result.expiresAt });
    },
  );
}
