// Sites of the organization: listed for anyone who reads the fleet (a site-scoped user sees only
// theirs), each with how many devices it holds; created, renamed and removed with
// `settings:manage` (and access to every site). A site that still has devices is not removed (409).

import { Type } from 'typebox';
import type { Site } from '../../store/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, authErrors } from '../schemas.js';
import { SiteIdSchema, SiteSchema, textOf } from './account-schemas.js';

const Description = Type.Union([textOf(1000), Type.Null()]);
const Timezone = Type.Union([
  Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' }),
  Type.Null(),
]);

export function registerSiteRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'auth' | 'ingest' | 'store'>,
): void {
  const { sites } = deps.auth;

  /** Devices per site: live ones, and registered ones that have not reported yet. */
  async function deviceCounts(): Promise<Map<string, number>> {
    const siteOf = new Map<string, string | null>();
    for (const r of await deps.store.registrations.all()) siteOf.set(r.deviceId, r.siteId);
    for (const d of deps.ingest.fleet.list()) siteOf.set(d.id, d.siteId);
    const counts = new Map<string, number>();
    for (const siteId of siteOf.values()) {
      if (siteId !== null) counts.set(siteId, (counts.get(siteId) ?? 0) + 1);
    }
    return counts;
  }

  async function withCount(site: Site) {
    return { ...site, devices: (await deviceCounts()).get(site.id) ?? 0 };
  }

  app.get(
    '/api/v1/sites',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['sites'],
        summary: 'The sites you can see, by id',
        response: { 200: Type.Object({ items: Type.Array(SiteSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const counts = await deviceCounts();
      const items = await sites.list(principalOf(request));
      return { items: items.map((s) => ({ ...s, devices: counts.get(s.id) ?? 0 })) };
    },
  );

  app.post(
    '/api/v1/sites',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['sites'],
        summary: 'Create a site',
        body: Type.Object(
          {
            id: SiteIdSchema,
            name: textOf(200),
            description: Type.Optional(Description),
            timezone: Type.Optional(Timezone),
          },
          { additionalProperties: false },
        ),
        response: { 201: SiteSchema, ...authErrors, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const site = await sites.create(principalOf(request), request.body, request.ip);
      return reply.code(201).send(await withCount(site));
    },
  );

  app.patch(
    '/api/v1/sites/:id',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['sites'],
        summary: 'Rename a site or change its description or time zone',
        params: IdParamsSchema,
        body: Type.Object(
          {
            name: Type.Optional(textOf(200)),
            description: Type.Optional(Description),
            timezone: Type.Optional(Timezone),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SiteSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const site = await sites.update(
        principalOf(request),
        request.params.id,
        request.body,
        request.ip,
      );
      return withCount(site);
    },
  );

  app.delete(
    '/api/v1/sites/:id',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['sites'],
        summary: 'Remove a site that has no devices (409 SITE_NOT_EMPTY otherwise)',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...authErrors, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const devices = (await deviceCounts()).get(id) ?? 0;
      await sites.remove(principalOf(request), id, devices, request.ip);
      return reply.code(204).send(null);
    },
  );
}
