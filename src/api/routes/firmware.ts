// The server's firmware catalog: upload a package (the raw file, streamed — never buffered), list,
// show and remove packages, sync from the vendor repository now, and the trust policy in force.
// A refused package answers with its verdict beside the error: every check, passed or failed.
// Reading the catalog needs `fleet:read` (operators and wall displays see what firmware exists);
// changing it, syncing and the trust policy need `firmware:manage`.

import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { FirmwareError } from '../../firmware/index.js';
import { refusalChecks, type FirmwareCatalog } from '../../firmware/catalog/index.js';
import { CcError } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { actorOf } from '../route-guard.js';
import { ErrorSchema, PageQuerySchema, authErrors, pageOf } from '../schemas.js';

const time = Type.String({ format: 'date-time' });

const CheckSchema = Type.Object({
  name: Type.String({ description: 'package-format, manifest-schema, signature, known-key, …' }),
  ok: Type.Boolean(),
  detail: Type.String(),
});

const PackageSchema = Type.Object({
  id: Type.String({ description: 'SHA-256 (hex) of the package file' }),
  name: Type.String(),
  version: Type.String(),
  models: Type.Array(Type.String()),
  imageSize: Type.Integer(),
  imageSha256: Type.String(),
  releasedAt: time,
  expiresAt: time,
  allowDowngrade: Type.Boolean(),
  signers: Type.Array(Type.String(), {
    description: 'ids of the vendor keys whose signatures counted',
  }),
  packageBytes: Type.Integer(),
  source: Type.String({ description: '`upload`, or the repository URL it was synced from' }),
  addedAt: time,
  addedBy: Type.String(),
  checks: Type.Array(CheckSchema, { description: 'the verdict at admission' }),
});

const RefusalSchema = Type.Object({
  error: ErrorSchema.properties.error,
  verdict: Type.Optional(
    Type.Object({
      ok: Type.Boolean(),
      checks: Type.Array(CheckSchema, {
        description: 'every check run; failed ones have ok false',
      }),
    }),
  ),
});

const SyncSummarySchema = Type.Object({
  url: Type.String({ description: 'the repository, password masked' }),
  trigger: Type.Enum(['manual', 'periodic']),
  startedAt: time,
  finishedAt: time,
  ok: Type.Boolean({ description: 'false when the repository could not be listed' }),
  error: Type.Union([Type.String(), Type.Null()]),
  listed: Type.Integer(),
  new: Type.Integer(),
  admitted: Type.Array(
    Type.Object({
      file: Type.String(),
      id: Type.String(),
      name: Type.String(),
      version: Type.String(),
    }),
  ),
  refused: Type.Array(
    Type.Object({
      file: Type.String(),
      code: Type.String(),
      reason: Type.String(),
      checks: Type.Array(CheckSchema),
    }),
  ),
  postponed: Type.Array(Type.String()),
});

const SyncStatusSchema = Type.Object({
  configured: Type.Boolean(),
  url: Type.Union([Type.String(), Type.Null()]),
  intervalMinutes: Type.Integer(),
  running: Type.Boolean(),
  nextAt: Type.Union([time, Type.Null()]),
  last: Type.Union([SyncSummarySchema, Type.Null()]),
});

const TrustSchema = Type.Object({
  configured: Type.Boolean({ description: 'false: no vendor key, every package is refused' }),
  threshold: Type.Integer(),
  keys: Type.Array(Type.Object({ id: Type.String(), retired: Type.Boolean() })),
});

const PACKAGE_ID = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[0-9a-f]+$',
    description: 'the package id: SHA-256 of the file, lowercase hex',
  }),
});

function isStream(body: unknown): body is Readable {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Readable).pipe === 'function' &&
    typeof (body as Readable).on === 'function'
  );
}

function registerUpload(scope: ApiApp, catalog: FirmwareCatalog): void {
  // The package arrives as the raw request body: the stream itself is the body, read once by
  // the catalog while it writes the temporary file. Only this scope parses octet-stream; the rest
  // of the API stays JSON-only (415).
  scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
    done(null, payload);
  });

  scope.post(
    '/api/v1/firmware/packages',
    {
      config: { permission: 'firmware:manage' },
      // The catalog counts the bytes itself and stops at this limit (413); Fastify's own limit
      // applies to buffered bodies only.
      bodyLimit: catalog.maxPackageBytes,
      schema: {
        tags: ['firmware'],
        summary: 'Upload a firmware package (the tar file as application/octet-stream)',
        description:
          'The body is the package file itself, streamed to disk and verified before it is ' +
          'stored: signature, known key, threshold, image size and hash, manifest, expiry, semver. ' +
          '201 with the package; 200 with the existing record when the same bytes are in the ' +
          'catalog already; 413/422/409 with `verdict.checks` naming every check when refused.',
        response: {
          200: PackageSchema,
          201: PackageSchema,
          ...authErrors,
          409: RefusalSchema,
          413: RefusalSchema,
          415: ErrorSchema,
          422: RefusalSchema,
        },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      if (!isStream(body)) {
        if (body === undefined) {
          throw new CcError('BAD_REQUEST', 'send the package file as the request body');
        }
        throw new CcError(
          'UNSUPPORTED_MEDIA_TYPE',
          'send the package file as the body with Content-Type: application/octet-stream',
        );
      }
      const declared = Number(request.headers['content-length']);
      try {
        const admission = await catalog.admit(body, actorOf(request), {
          origin: 'upload',
          declaredBytes: Number.isSafeInteger(declared) ? declared : null,
        });
        return await reply.code(admission.created ? 201 : 200).send(admission.package);
      } catch (err) {
        // A refusal before the whole body arrived: the rest is not read, so this connection
        // cannot carry another request (Fastify does the same for its own body limit).
        if (!request.raw.complete) void reply.header('connection', 'close');
        if (!(err instanceof FirmwareError)) throw err;
        return reply.code(err.status).send({
          error: { code: err.code, message: err.message },
          verdict: { ok: false, checks: refusalChecks(err) },
        });
      }
    },
  );
}

export async function registerFirmwareRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'firmware'>,
): Promise<void> {
  const catalog = deps.firmware;

  app.get(
    '/api/v1/firmware/packages',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['firmware'],
        summary: 'Firmware packages in the catalog, newest first',
        querystring: Type.Object(
          {
            model: Type.Optional(
              Type.String({ minLength: 1, maxLength: 64, description: 'packages for this model' }),
            ),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            ...PageQuerySchema,
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(PackageSchema), ...authErrors },
      },
    },
    (request) => {
      const q = request.query;
      return catalog.list({
        limit: q.limit ?? 50,
        offset: q.offset ?? 0,
        ...(q.model !== undefined ? { model: q.model } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
      });
    },
  );

  app.get(
    '/api/v1/firmware/packages/:id',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['firmware'],
        summary: 'One firmware package with the verdict it was admitted with',
        params: PACKAGE_ID,
        response: { 200: PackageSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    (request) => catalog.get(request.params.id),
  );

  app.delete(
    '/api/v1/firmware/packages/:id',
    {
      config: { permission: 'firmware:manage' },
      schema: {
        tags: ['firmware'],
        summary: 'Remove a package and its file (refused while an unfinished rollout uses it)',
        params: PACKAGE_ID,
        response: { 204: Type.Null(), ...authErrors, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      await catalog.remove(request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/firmware/sync',
    {
      config: { permission: 'firmware:manage' },
      schema: {
        tags: ['firmware'],
        summary: 'Sync the catalog from the vendor repository now (or join the sync running)',
        description:
          'Lists the repository (firmware.syncUrl), downloads the packages the catalog does not ' +
          'hold yet and admits each after verification. Answers when the sync is over with what ' +
          'was listed, admitted and refused (with reasons); `ok` is false and `error` says why ' +
          'when the repository could not be listed. 409 when no firmware.syncUrl is set.',
        response: { 200: SyncSummarySchema, ...authErrors, 409: ErrorSchema },
      },
    },
    (request) => catalog.sync(actorOf(request)),
  );

  app.get(
    '/api/v1/firmware/sync',
    {
      config: { permission: 'firmware:manage' },
      schema: {
        tags: ['firmware'],
        summary: 'The catalog sync: repository, schedule, whether one runs, the last result',
        response: { 200: SyncStatusSchema, ...authErrors },
      },
    },
    () => catalog.syncStatus(),
  );

  app.get(
    '/api/v1/firmware/trust',
    {
      config: { permission: 'firmware:manage' },
      schema: {
        tags: ['firmware'],
        summary: 'The vendor keys the server trusts (ids only), retired keys and the threshold',
        response: { 200: TrustSchema, ...authErrors },
      },
    },
    () => catalog.trust(),
  );

  await app.register((scope: ApiApp) => {
    registerUpload(scope, catalog);
    return Promise.resolve();
  });
}
