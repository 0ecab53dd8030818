// The organization this server belongs to: read by anyone who reads the fleet, renamed with
// `settings:manage`.

import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { authErrors } from '../schemas.js';
import { OrganizationSchema, textOf } from './account-schemas.js';

export function registerOrganizationRoutes(app: ApiApp, deps: Pick<ApiDeps, 'auth'>): void {
  const { sites } = deps.auth;

  app.get(
    '/api/v1/organization',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['sites'],
        summary: 'The organization this server belongs to',
        response: { 200: OrganizationSchema, ...authErrors },
      },
    },
    async () => sites.organization(),
  );

  app.patch(
    '/api/v1/organization',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['sites'],
        summary: 'Rename the organization',
        body: Type.Object({ name: textOf(200) }, { additionalProperties: false }),
        response: { 200: OrganizationSchema, ...authErrors },
      },
    },
    async (request) =>
      sites.renameOrganization(principalOf(request), request.body.name, request.ip),
  );
}
