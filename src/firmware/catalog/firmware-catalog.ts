// The server's firmware catalog: every package is received into a temporary file (counted, hashed,
// stopped at the size limit), verified there with every check that does not depend on a device
// (signature, key, threshold, image size and hash, manifest, expiry, semver), and only then moved
// into place under its SHA-256 and recorded; a refused package leaves nothing behind and its
// verdict travels with the error. Model and installed version are checked per device at rollout.

import { readdir, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CcError, isCcError } from '../../domain/index.js';
import type { FirmwareCheck, FirmwarePackage } from '../../store/index.js';
import { FirmwareError } from '../firmware-errors.js';
import { firmwareErrorOf, verifyPackage } from '../verify-package.js';
import { createCatalogMetrics } from './catalog-metrics.js';
import { createCatalogSync } from './catalog-sync.js';
import { trustViewOf } from './catalog-trust.js';
import type {
  Admission,
  AdmitOptions,
  CatalogActor,
  CatalogDeps,
  CatalogSettings,
  FirmwareCatalog,
} from './catalog-types.js';
import { INCOMING_PREFIX, receivePackage, tooLargeError, type Intake } from './package-intake.js';
import { parseSyncUrl } from './sync-url.js';

const PAGE = 500;

function noKeysError(): FirmwareError {
  const detail =
    'no vendor keys are configured (firmware.trustedKeys): nothing can be verified, so every ' +
    'package is refused';
  return new FirmwareError(
    'FIRMWARE_KEY_UNTRUSTED',
    `firmware package refused: ${detail}; configure the vendor's public key file(s) in firmware.trustedKeys`,
    { checks: [{ name: 'known-key', ok: false, detail }] },
  );
}

/** Every check of a refusal (FirmwareError details), for the API and the audit log. */
export function refusalChecks(err: FirmwareError): FirmwareCheck[] {
  const checks = err.details?.checks;
  return Array.isArray(checks) ? (checks as FirmwareCheck[]) : [];
}

export function createFirmwareCatalog(
  deps: CatalogDeps,
  settings: CatalogSettings,
): FirmwareCatalog {
  const { store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const metrics = createCatalogMetrics(deps.metrics);
  const maxBytes = settings.maxPackageBytes;
  const target = settings.sync.url === null ? null : parseSyncUrl(settings.sync.url);

  async function refuse(
    err: FirmwareError,
    by: CatalogActor,
    options: AdmitOptions,
    intake: Intake | null,
  ): Promise<never> {
    const kind = options.origin === 'upload' ? 'upload' : 'sync';
    metrics.admission(kind, err.code);
    await deps.audit.record({
      actor: by.name,
      action: 'firmware.upload',
      target: intake?.sha256 ?? 'package',
      outcome: 'refused',
      source: by.source,
      details: {
        origin: options.origin,
        code: err.code,
        failed: refusalChecks(err)
          .filter((c) => !c.ok)
          .map(({ name, detail }) => ({ name, detail })),
        ...(intake !== null ? { bytes: intake.bytes } : {}),
      },
    });
    logger.info({ origin: options.origin, code: err.code }, 'firmware package refused');
    throw err;
  }

  async function record(pkg: FirmwarePackage): Promise<Admission> {
    try {
      await store.firmware.add(pkg);
      // As the store gives it back (times normalized), like every later read.
      return { package: (await store.firmware.get(pkg.id)) ?? pkg, created: true };
    } catch (err) {
      // The same bytes arrived meanwhile (another upload, a sync): they are one package.
      const existing =
        isCcError(err) && err.code === 'CONFLICT' ? await store.firmware.get(pkg.id) : undefined;
      if (existing !== undefined) return { package: existing, created: false };
      await rm(join(settings.dir, pkg.file), { force: true });
      throw err;
    }
  }

  async function admit(
    source: Readable,
    by: CatalogActor,
    options: AdmitOptions,
  ): Promise<Admission> {
    const trust = settings.trust;
    if (trust === null) return refuse(noKeysError(), by, options, null);
    if (options.declaredBytes != null && options.declaredBytes > maxBytes) {
      return refuse(
        tooLargeError(maxBytes, `the package (${options.declaredBytes} bytes)`),
        by,
        options,
        null,
      );
    }
    let intake: Intake;
    try {
      intake = await receivePackage(source, settings.dir, maxBytes, options.signal);
    } catch (err) {
      if (err instanceof FirmwareError) return refuse(err, by, options, null);
      throw err;
    }
    let stored = false;
    try {
      if (options.expectedSha256 != null && options.expectedSha256 !== intake.sha256) {
        const detail = `the repository index gives sha256 ${options.expectedSha256}; the file received has ${intake.sha256}`;
        return await refuse(
          new FirmwareError('FIRMWARE_PACKAGE_INVALID', `firmware package refused: ${detail}`, {
            checks: [{ name: 'package-format', ok: false, detail }],
          }),
          by,
          options,
          intake,
        );
      }
      const verdict = await verifyPackage(intake.path, trust, {
        now: now(),
        maxBytes,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const refusal = firmwareErrorOf(verdict);
      const manifest = verdict.manifest;
      const checks = verdict.checks.map(({ name, ok, detail }) => ({ name, ok, detail }));
      if (refusal !== null || manifest === null) {
        const error = refusal ?? new FirmwareError('FIRMWARE_MANIFEST_INVALID', 'no manifest');
        return await refuse(
          new FirmwareError(error.firmwareCode, error.message, { checks }),
          by,
          options,
          intake,
        );
      }
      const file = `${intake.sha256}.tar`;
      const already = await store.firmware.get(intake.sha256);
      // Same bytes, same name: moving them over an existing file changes nothing, and restores
      // a file that went missing.
      await rename(intake.path, join(settings.dir, file));
      stored = true;
      let admission: Admission;
      if (already !== undefined) {
        admission = { package: already, created: false };
      } else {
        admission = await record({
          id: intake.sha256,
          name: manifest.name,
          version: manifest.version,
          models: manifest.models,
          imageSize: manifest.size,
          imageSha256: manifest.sha256,
          releasedAt: manifest.releasedAt,
          expiresAt: manifest.expiresAt,
          allowDowngrade: manifest.allowDowngrade === true,
          signers: verdict.signers,
          packageBytes: intake.bytes,
          file,
          source: options.origin,
          addedAt: now().toISOString(),
          addedBy: by.name,
          checks,
        });
      }
      const p = admission.package;
      metrics.admission(
        options.origin === 'upload' ? 'upload' : 'sync',
        admission.created ? 'admitted' : 'existing',
      );
      await deps.audit.record({
        actor: by.name,
        action: 'firmware.upload',
        target: p.id,
        outcome: 'ok',
        source: by.source,
        details: {
          origin: options.origin,
          name: p.name,
          version: p.version,
          signers: p.signers,
          bytes: p.packageBytes,
          ...(admission.created ? {} : { existing: true }),
        },
      });
      logger.info(
        {
          id: p.id,
          name: p.name,
          version: p.version,
          origin: options.origin,
          created: admission.created,
        },
        admission.created ? 'firmware package admitted' : 'firmware package already in the catalog',
      );
      return admission;
    } finally {
      if (!stored) await rm(intake.path, { force: true });
    }
  }

  async function get(id: string): Promise<FirmwarePackage> {
    const pkg = await store.firmware.get(id);
    if (pkg === undefined) throw new CcError('NOT_FOUND', `no firmware package with id ${id}`);
    return pkg;
  }

  const sync = createCatalogSync(
    {
      admit,
      async packages() {
        const all: FirmwarePackage[] = [];
        for (let offset = 0; ; offset += PAGE) {
          const page = await store.firmware.list({ limit: PAGE, offset });
          all.push(...page.items);
          if (page.items.length < PAGE) return all;
        }
      },
      logger,
      audit: deps.audit,
      metrics,
      now,
    },
    { ...settings.sync, maxPackageBytes: maxBytes },
    target,
  );

  return {
    maxPackageBytes: maxBytes,
    admit,
    list: (filter) => store.firmware.list(filter),
    get,
    fileOf: (pkg) => join(settings.dir, basename(pkg.file)),
    async remove(id, by) {
      const pkg = await get(id);
      try {
        await store.firmware.remove(id);
      } catch (err) {
        await deps.audit.record({
          actor: by.name,
          action: 'firmware.remove',
          target: id,
          outcome: isCcError(err) && err.code === 'CONFLICT' ? 'refused' : 'failed',
          source: by.source,
          details: {
            name: pkg.name,
            version: pkg.version,
            reason: err instanceof Error ? err.message : String(err),
          },
        });
        throw err;
      }
      await rm(join(settings.dir, basename(pkg.file)), { force: true });
      await deps.audit.record({
        actor: by.name,
        action: 'firmware.remove',
        target: id,
        outcome: 'ok',
        source: by.source,
        details: { name: pkg.name, version: pkg.version },
      });
      logger.info({ id, name: pkg.name, version: pkg.version }, 'firmware package removed');
    },
    trust: () => trustViewOf(settings.trust),
    sync: (by) => sync.run(by, 'manual'),
    syncStatus: () => sync.status(),
    async start() {
      await mkdir(settings.dir, { recursive: true, mode: 0o700 });
      // Packages half-received when the server stopped: never verified, never recorded.
      for (const name of await readdir(settings.dir)) {
        if (name.startsWith(INCOMING_PREFIX)) await rm(join(settings.dir, name), { force: true });
      }
      sync.start();
    },
    stop: () => sync.stop(),
  };
}
