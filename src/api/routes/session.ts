// Login, logout and "who am I": the browser session lives in the `cc_session` cookie
// (HttpOnly, Secure, SameSite=Strict), which holds a random secret whose hash the store keeps.

import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../auth/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { ErrorSchema, RoleSchema, UserSummarySchema, authErrors } from '../schemas.js';

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
  const cookie = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const;

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
      if (secret !== undefined) await auth.logout(secret);
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
            user: Type.Object({ id: Type.String(), username: Type.String(), role: RoleSchema }),
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
        user: { id: p.userId, username: p.username, role: p.role },
        via: p.via,
        expiresAt: p.expiresAt,
        permissions: auth.permissionsOf(p),
      };
    },
  );
}
