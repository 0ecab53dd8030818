// Fixtures for catalog tests: a real SQLite store in a temporary directory, a catalog over it, and
// packages signed at test time by vendor keys made at test time — valid now, and forged variants.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../observability/index.js';
import { createSqliteStore, type AuditEntry, type Store } from '../../store/index.js';
import { serializeManifest, type FirmwareManifest } from '../manifest.js';
import { formatSignatureFile, signManifest } from '../manifest-signatures.js';
import {
  makeVendor,
  manifestFor,
  packageBytes,
  type PackageSpec,
  type TestVendor,
} from '../package-test-harness.js';
import { createTrustPolicy, type TrustPolicy } from '../vendor-keys.js';
import { createFirmwareCatalog } from './firmware-catalog.js';
import type { CatalogSettings, FirmwareCatalog, SyncSettings } from './catalog-types.js';

const DAY_MS = 86_400_000;

export { makeVendor, type TestVendor };

/** A manifest valid now: released a month ago, expiring in a year. */
export function currentManifest(
  image: Buffer,
  overrides: Partial<FirmwareManifest> = {},
): FirmwareManifest {
  const now = Date.now();
  const iso = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  return manifestFor(image, {
    releasedAt: iso(now - 30 * DAY_MS),
    expiresAt: iso(now + 365 * DAY_MS),
    ...overrides,
  });
}

/** A package signed by `signers` (default: valid now, a 20 000-byte random image). */
export function signedPackage(
  signers: readonly TestVendor[],
  over: Partial<PackageSpec> & { manifestOverrides?: Partial<FirmwareManifest> } = {},
): Buffer {
  const image = over.image ?? randomBytes(20_000);
  const { manifestOverrides, ...spec } = over;
  return packageBytes({
    image,
    manifest: currentManifest(image, manifestOverrides),
    signers: signers.map((v) => v.privateKey),
    ...spec,
  });
}

export function trustOf(
  active: readonly TestVendor[],
  retired: readonly TestVendor[] = [],
  threshold = 1,
): TrustPolicy {
  return createTrustPolicy(
    [...active.map((v) => v.key()), ...retired.map((v) => v.key(true))],
    threshold,
  );
}

export interface CatalogFixture {
  dir: string;
  store: Store;
  catalog: FirmwareCatalog;
  /** Files in the catalog directory. */
  files: () => Promise<string[]>;
  audit: (action: string) => Promise<AuditEntry[]>;
  close: () => Promise<void>;
}

export async function startCatalog(
  settings: Partial<Omit<CatalogSettings, 'sync' | 'dir'>> & { sync?: Partial<SyncSettings> } = {},
): Promise<CatalogFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-catalog-'));
  const logger = silentLogger();
  const store = await createSqliteStore({ file: join(dir, 'cc.db'), logger });
  await store.migrate();
  const catalogDir = join(dir, 'firmware');
  const catalog = createFirmwareCatalog(
    {
      store,
      logger,
      audit: {
        record: (entry) =>
          store.audit.append({
            id: randomBytes(8).toString('hex'),
            at: new Date().toISOString(),
            ...entry,
          }),
      },
    },
    {
      dir: catalogDir,
      trust: settings.trust === undefined ? null : settings.trust,
      maxPackageBytes: settings.maxPackageBytes ?? 4 * 1024 * 1024,
      sync: {
        url: null,
        intervalMinutes: 0,
        allowedHosts: [],
        ca: null,
        proxy: { kind: 'none' },
        downloadTimeoutMs: 10_000,
        syncTimeoutMs: 30_000,
        ...settings.sync,
      },
    },
  );
  await catalog.start();
  return {
    dir: catalogDir,
    store,
    catalog,
    files: async () => (await readdir(catalogDir)).sort(),
    audit: async (action) => (await store.audit.list({ limit: 500, offset: 0, action })).items,
    async close() {
      await catalog.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Forgery {
  /** What was done to the package. */
  what: string;
  bytes: Buffer;
  /** The check that must fail, and the refusal code. */
  check: string;
  code: string;
}

/**
 * Hostile variants of a package, for a catalog trusting `vendor` (active) and `retired` (retired):
 * each must be refused by the named check.
 */
export function forgeries(vendor: TestVendor, retired: TestVendor): Forgery[] {
  const stranger = makeVendor();
  const image = randomBytes(20_000);
  const other = randomBytes(20_000);
  const good = signedPackage([vendor], { image });
  const day = 86_400_000;
  const iso = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const signedFor = currentManifest(image);
  return [
    {
      what: 'tampered image (same size, other bytes)',
      bytes: packageBytes({ image: other, manifest: signedFor, signers: [vendor.privateKey] }),
      check: 'image-hash',
      code: 'FIRMWARE_IMAGE_MISMATCH',
    },
    {
      what: 'tampered manifest (signature made for other bytes)',
      bytes: packageBytes({
        image,
        manifest: { ...signedFor, version: '9.9.9' },
        signatureBytes: signedManifestSignature(signedFor, vendor),
      }),
      check: 'signature',
      code: 'FIRMWARE_SIGNATURE_INVALID',
    },
    {
      what: 'signed by an unknown key',
      bytes: signedPackage([stranger], { image }),
      check: 'signature',
      code: 'FIRMWARE_SIGNATURE_INVALID',
    },
    {
      what: 'unsigned',
      bytes: signedPackage([], { image }),
      check: 'signature',
      code: 'FIRMWARE_SIGNATURE_INVALID',
    },
    {
      what: 'signed only by a retired key',
      bytes: signedPackage([retired], { image }),
      check: 'known-key',
      code: 'FIRMWARE_KEY_UNTRUSTED',
    },
    {
      what: 'expired',
      bytes: signedPackage([vendor], {
        image,
        manifestOverrides: {
          releasedAt: iso(Date.now() - 60 * day),
          expiresAt: iso(Date.now() - day),
        },
      }),
      check: 'expiry',
      code: 'FIRMWARE_EXPIRED',
    },
    {
      what: 'version that is not semver',
      // Signed as it is: the vendor signed a manifest a verifier must still refuse.
      bytes: packageBytes({
        image,
        manifestBytes: Buffer.from(
          `${JSON.stringify({ ...signedFor, version: '4.3' }, null, 2)}\n`,
        ),
        signers: [vendor.privateKey],
      }),
      check: 'manifest-schema',
      code: 'FIRMWARE_MANIFEST_INVALID',
    },
    {
      what: 'truncated',
      bytes: good.subarray(0, Math.floor(good.length / 2)),
      check: 'package-format',
      code: 'FIRMWARE_PACKAGE_INVALID',
    },
  ];
}

function signedManifestSignature(manifest: FirmwareManifest, vendor: TestVendor): Buffer {
  return formatSignatureFile([signManifest(serializeManifest(manifest), vendor.privateKey)]);
}
