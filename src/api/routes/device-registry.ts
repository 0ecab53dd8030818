// Adding devices by their Web Services address: probe, add (pinning the certificate at once when
// the admin gives its fingerprint, else after confirmation), approve a (changed) certificate,
// rename / move / re-credential, remove, and discovery of devices on the network.

import { Type } from 'typebox';
import { siteVisible, type Principal } from '../../auth/index.js';
import { CcError } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { assertDeviceVisible, deviceIdVisible } from '../device-scope.js';
import { actorOf, principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, authErrors } from '../schemas.js';

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'https://host[:port] of the device’s Web Services (host or host:port also work)',
});
const Fingerprint = Type.String({
  minLength: 64,
  maxLength: 128,
  description: 'SHA-256 certificate fingerprint, hex, colons optional',
});
const Name = Type.String({ minLength: 1, maxLength: 256 });
const SiteId = Type.String({ minLength: 1, maxLength: 64 });

const IdentitySchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  model: Type.String(),
  serial: Type.String(),
  name: Type.String(),
  firmwareVersion: Type.String(),
  apiVersion: Type.Integer(),
});

const CertificateSchema = Type.Object({
  fingerprint256: Type.String(),
  subject: Type.String(),
  issuer: Type.String(),
  validFrom: Type.String(),
  validTo: Type.String(),
  selfSigned: Type.Boolean(),
});

export const RegistrationSchema = Type.Object({
  deviceId: Type.String(),
  baseUrl: Type.Union([Type.String(), Type.Null()]),
  pinState: Type.Enum(['none', 'pending', 'pinned', 'mismatch']),
  fingerprint256: Type.Union([Type.String(), Type.Null()]),
  presentedFingerprint256: Type.Union([Type.String(), Type.Null()]),
  displayName: Type.Union([Type.String(), Type.Null()]),
  siteId: Type.Union([Type.String(), Type.Null()]),
  hasCredential: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  approvedBy: Type.Union([Type.String(), Type.Null()]),
  approvedAt: Type.Union([Type.String(), Type.Null()]),
});

const ProbeAnswer = Type.Object({
  baseUrl: Type.String(),
  identity: IdentitySchema,
  certificate: CertificateSchema,
});

const deviceErrors = {
  ...authErrors,
  404: ErrorSchema,
  409: ErrorSchema,
  502: ErrorSchema,
  504: ErrorSchema,
};

export function registerDeviceRegistryRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'devices' | 'store' | 'ingest'>,
): void {
  const { registry } = deps.devices;
  const scope = { fleet: deps.ingest.fleet, store: deps.store };

  /**
   * A device may be put only in a site that exists and is within the principal's scope (the same
   * answer for both, so a scoped admin learns nothing of other sites); a scoped admin must name one.
   */
  async function checkSite(principal: Principal, siteId: string | null | undefined) {
    if (siteId === undefined || siteId === null) {
      if (principal.sites !== null) {
        throw new CcError(
          'VALIDATION_FAILED',
          `give a siteId: you manage devices of ${principal.sites.join(', ') || 'no site'} only`,
          { field: 'siteId' },
        );
      }
      return;
    }
    if (!(await deps.store.sites.get(siteId)) || !siteVisible(principal.sites, siteId)) {
      throw new CcError(
        'VALIDATION_FAILED',
        `no site ${siteId}: create it first (POST /api/v1/sites)`,
        { field: 'siteId' },
      );
    }
  }

  app.post(
    '/api/v1/devices/probe',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Read a device’s identity and certificate fingerprint, without adding it',
        body: Type.Object({ url: Url }, { additionalProperties: false }),
        response: { 200: ProbeAnswer, ...deviceErrors },
      },
    },
    async (request) => {
      const found = await registry.probe(request.body.url);
      return {
        baseUrl: found.baseUrl,
        identity: found.identity,
        certificate: { ...found.certificate, fingerprint256: found.fingerprint256 },
      };
    },
  );

  app.post(
    '/api/v1/devices',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Add a device by its Web Services address',
        description:
          'Reads /ws/v1/identity and the certificate. With `fingerprint` (which must match) the ' +
          'certificate is pinned and polling starts; without it the device waits in `pending` ' +
          'until an admin approves the fingerprint shown.',
        body: Type.Object(
          {
            url: Url,
            username: Type.String({ minLength: 1, maxLength: 128 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            fingerprint: Type.Optional(Fingerprint),
            name: Type.Optional(Name),
            siteId: Type.Optional(SiteId),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            registration: RegistrationSchema,
            identity: IdentitySchema,
            certificate: CertificateSchema,
          }),
          ...deviceErrors,
        },
      },
    },
    async (request, reply) => {
      await checkSite(principalOf(request), request.body.siteId);
      const result = await registry.add(request.body, actorOf(request));
      return reply.code(201).send(result);
    },
  );

  app.post(
    '/api/v1/devices/discover',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Find devices on the network by probing /ws/v1/identity',
        body: Type.Object(
          {
            targets: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
              minItems: 1,
              maxItems: 256,
              description: 'CIDR blocks (/16–/32), addresses, host names, host:port',
            }),
            ports: Type.Optional(
              Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
                minItems: 1,
                maxItems: 16,
              }),
            ),
            timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 30_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            found: Type.Array(
              Type.Object({
                baseUrl: Type.String(),
                identity: IdentitySchema,
                fingerprint256: Type.String(),
                registered: Type.Boolean(),
              }),
            ),
            probed: Type.Integer(),
            total: Type.Integer(),
            failures: Type.Record(Type.String(), Type.Integer()),
            truncated: Type.Boolean(),
            durationMs: Type.Integer(),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const result = await deps.devices.discover(request.body);
      const shown = [];
      for (const f of result.found) {
        // A registered device of another site is as good as unknown to a scoped admin.
        if (!f.registered || (await deviceIdVisible(principal, scope, f.identity.id)))
          shown.push(f);
      }
      return {
        ...result,
        found: shown.map((f) => ({
          baseUrl: f.baseUrl,
          identity: f.identity,
          fingerprint256: f.fingerprint256,
          registered: f.registered,
        })),
      };
    },
  );

  app.get(
    '/api/v1/registrations',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Every registered device: address, pinning state and fingerprints',
        response: { 200: Type.Object({ items: Type.Array(RegistrationSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const items = await registry.list();
      return {
        items: items.filter((r) =>
          siteVisible(principal.sites, deps.ingest.fleet.get(r.deviceId)?.siteId ?? r.siteId),
        ),
      };
    },
  );

  app.get(
    '/api/v1/devices/:id/registration',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'A device’s registration',
        params: IdParamsSchema,
        response: { 200: RegistrationSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      await assertDeviceVisible(principalOf(request), scope, request.params.id);
      const reg = await registry.get(request.params.id);
      if (reg === undefined) {
        throw new CcError('DEVICE_NOT_FOUND', `no device ${request.params.id} is registered`);
      }
      return reg;
    },
  );

  app.post(
    '/api/v1/devices/:id/approve',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Pin the certificate the device presented (first use or after a change)',
        params: IdParamsSchema,
        body: Type.Object({ fingerprint: Fingerprint }, { additionalProperties: false }),
        response: { 200: RegistrationSchema, ...authErrors, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => {
      await assertDeviceVisible(principalOf(request), scope, request.params.id);
      return registry.approve(request.params.id, request.body.fingerprint, actorOf(request));
    },
  );

  app.patch(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Rename a device, move it to a site, or change its Web Services credential',
        params: IdParamsSchema,
        body: Type.Object(
          {
            name: Type.Optional(Type.Union([Name, Type.Null()])),
            siteId: Type.Optional(Type.Union([SiteId, Type.Null()])),
            username: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: RegistrationSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await assertDeviceVisible(principal, scope, request.params.id);
      if (request.body.siteId !== undefined) await checkSite(principal, request.body.siteId);
      return registry.update(request.params.id, request.body, actorOf(request));
    },
  );

  app.delete(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary:
          'Remove a device and everything recorded about it (its commands stay in the audit log)',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...authErrors, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      await assertDeviceVisible(principalOf(request), scope, request.params.id);
      await registry.remove(request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  );
}
