// Login, logout and "who am I": the browser session lives in the `cc_session` cookie
// (HttpOnly, Secure, SameSite=Strict), which holds a random secret whose hash the store keeps.
// Also the caller's own "log out everywhere" and password change.

import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../auth/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { ErrorSchema, RoleSchema, UserSummarySchema, authErrors } from '../schemas.js';
import { SitesOutputSchema } from './account-schemas.js';

export const SESSION_COOKIE_OPTIONS = {
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
  path: '/',
} as const;

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object({
  user: UserSummarySchema,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function registerSessionRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  const { auth } = deps;
  const cookie = SESSION_COOKIE_OPTIONS;

  app.post(
    '/api/v1/auth/login',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Log in; sets the session cookie',
        body: LoginBody,
        response: { 200: SessionSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const result = await auth.login(username, password, request.ip);
      return reply
        .setCookie(auth.session.cookieName, result.secret, {
          ...cookie,
          maxAge: auth.session.maxAgeSeconds,
        })
        .send({ user: result.user, expiresAt: result.expiresAt });
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { permission: 'public' },
      schema: { tags: ['auth'], summary: 'Log out; ends the session' },
    },
    async (request, reply) => {
      const secret = request.cookies[auth.session.cookieName];
      if (secret !== undefined) await auth.logout(secret, request.ip);
      return reply.clearCookie(auth.session.cookieName, cookie).code(204).send();
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The logged-in user and how they authenticated',
        response: {
          200: Type.Object({
            user: Type.Object({
              id: Type.String(),
              username: Type.String(),
              role: RoleSchema,
              sites: SitesOutputSchema,
            }),
            via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
            expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
            permissions: Type.Array(Type.String()),
          }),
          ...authErrors,
        },
      },
    },
    (request) => {
      const p = principalOf(request);
      return {
        user: { id: p.userId, username: p.username, role: p.role, sites: p.sites },
        via: p.via,
        expiresAt: p.expiresAt,
        permissions: auth.permissionsOf(p),
      };
    },
  );

  app.post(
    '/api/v1/auth/logout-all',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'End every session of the caller (or every other one, with keepCurrent)',
        body: Type.Object(
          {
            keepCurrent: Type.Boolean({
              description: 'true: stay logged in here and end the other sessions',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { keepCurrent } = request.body;
      const sessionsEnded = await auth.users.logoutAll(p, keepCurrent, {
        source: request.ip,
        sessionSecret: request.cookies[auth.session.cookieName],
      });
      if (!keepCurrent && p.via === 'session')
        void reply.clearCookie(auth.session.cookieName, cookie);
      return reply.send({ sessionsEnded });
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'Change your password (ends your other sessions)',
        description:
          'Needs a browser session. A wrong current password answers 403 and counts as a failed ' +
          'login; the new password must meet the policy (400 VALIDATION_FAILED names the rule).',
        body: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
            newPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            sessionsEnded: Type.Integer({ description: 'Your other sessions that were ended' }),
          }),
          ...authErrors,
          429: ErrorSchema,
        },
      },
    },
    async (request) => ({
      sessionsEnded: await auth.users.changePassword(
        principalOf(request),
        request.body.currentPassword,
        request.body.newPassword,
        { source: request.ip, sessionSecret: request.cookies[auth.session.cookieName] },
      ),
    }),
  );
}
