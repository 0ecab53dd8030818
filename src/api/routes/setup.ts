// POST /api/v1/setup — creates the first administrator with the one-time token from the setup link.

import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../auth/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { ErrorSchema, UserSummarySchema } from '../schemas.js';

const SetupBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 256 }),
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

export function registerSetupRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  app.post(
    '/api/v1/setup',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Create the first administrator (once, with the setup token)',
        body: SetupBody,
        response: {
          201: Type.Object({ user: UserSummarySchema }),
          400: ErrorSchema,
          403: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const user = await deps.auth.completeSetup(request.body, request.ip);
      return reply.code(201).send({ user });
    },
  );
}
