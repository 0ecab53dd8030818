import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isCcError } from '../../domain/index.js';
import { FirmwareError } from '../firmware-errors.js';
import { streamOf } from '../package-test-harness.js';
import {
  forgeries,
  makeVendor,
  signedPackage,
  startCatalog,
  trustOf,
  type CatalogFixture,
} from './catalog-test-harness.js';
import { refusalChecks } from './firmware-catalog.js';

const vendor = makeVendor();
const second = makeVendor();
const retired = makeVendor();
const ADMIN = { name: 'admin', source: '127.0.0.1' };
const UPLOAD = { origin: 'upload' };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let fixture: CatalogFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function refusalOf(promise: Promise<unknown>): Promise<FirmwareError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FirmwareError) return err;
    throw err;
  }
  throw new Error('the package was admitted');
}

describe('the firmware catalog', () => {
  it('admits a signed package: stored under its SHA-256 with the verdict, audited', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const bytes = signedPackage([vendor]);
    const { package: pkg, created } = await fixture.catalog.admit(
      streamOf(bytes, 3000),
      ADMIN,
      UPLOAD,
    );
    expect(created).toBe(true);
    expect(pkg).toMatchObject({
      id: sha256(bytes),
      name: 'fusion-fw',
      version: '4.3.0',
      models: ['Fusion P5', 'Fusion P5 Pro'],
      imageSize: 20_000,
      signers: [vendor.id],
      packageBytes: bytes.length,
      source: 'upload',
      addedBy: 'admin',
    });
    expect(pkg.checks).toHaveLength(10);
    expect(pkg.checks.every((c) => c.ok)).toBe(true);
    expect(await fixture.files()).toEqual([`${pkg.id}.tar`]);
    expect(await readFile(fixture.catalog.fileOf(pkg))).toEqual(bytes);
    expect(await fixture.catalog.get(pkg.id)).toEqual(pkg);
    const [entry] = await fixture.audit('firmware.upload');
    expect(entry).toMatchObject({
      actor: 'admin',
      target: pkg.id,
      outcome: 'ok',
      source: '127.0.0.1',
    });
  });

  it('returns the existing record for the same bytes twice, not an error', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const bytes = signedPackage([vendor]);
    const first = await fixture.catalog.admit(streamOf(bytes), ADMIN, UPLOAD);
    const again = await fixture.catalog.admit(
      streamOf(bytes),
      { name: 'other', source: null },
      UPLOAD,
    );
    expect(again.created).toBe(false);
    expect(again.package).toEqual(first.package);
    expect((await fixture.catalog.list({ limit: 10, offset: 0 })).total).toBe(1);
    expect(await fixture.files()).toEqual([`${first.package.id}.tar`]);
  });

  it.each(forgeries(vendor, retired).map((f) => [f.what, f] as const))(
    'refuses a package %s, naming the failed check, and keeps nothing',
    async (_what, forgery) => {
      fixture = await startCatalog({ trust: trustOf([vendor], [retired]) });
      const err = await refusalOf(fixture.catalog.admit(streamOf(forgery.bytes), ADMIN, UPLOAD));
      expect(err.code).toBe(forgery.code);
      const checks = refusalChecks(err);
      expect(checks).toHaveLength(10);
      expect(checks.find((c) => c.name === forgery.check)).toMatchObject({ ok: false });
      expect(err.message).toContain(forgery.check);
      expect(await fixture.files()).toEqual([]);
      expect((await fixture.catalog.list({ limit: 10, offset: 0 })).total).toBe(0);
      const [entry] = await fixture.audit('firmware.upload');
      expect(entry).toMatchObject({ outcome: 'refused', details: { code: forgery.code } });
      const failed = (entry?.details.failed ?? []) as { name: string }[];
      expect(failed.map((f) => f.name)).toContain(forgery.check);
    },
  );

  it('needs k distinct active keys with a threshold of 2 of 2', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor, second], [], 2) });
    const one = await refusalOf(
      fixture.catalog.admit(streamOf(signedPackage([vendor])), ADMIN, UPLOAD),
    );
    expect(one.code).toBe('FIRMWARE_THRESHOLD_NOT_MET');
    expect(refusalChecks(one).find((c) => c.name === 'threshold')?.detail).toMatch(/1 of 2/);
    const both = await fixture.catalog.admit(
      streamOf(signedPackage([vendor, second])),
      ADMIN,
      UPLOAD,
    );
    expect(both.package.signers.sort()).toEqual([vendor.id, second.id].sort());
  });

  it('does not count a retired key towards the threshold', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor, second], [retired], 2) });
    const err = await refusalOf(
      fixture.catalog.admit(streamOf(signedPackage([vendor, retired])), ADMIN, UPLOAD),
    );
    expect(err.code).toBe('FIRMWARE_THRESHOLD_NOT_MET');
  });

  it('refuses everything without a vendor key, without reading the package', async () => {
    fixture = await startCatalog({ trust: null });
    const stream = streamOf(signedPackage([vendor]));
    const err = await refusalOf(fixture.catalog.admit(stream, ADMIN, UPLOAD));
    expect(err.code).toBe('FIRMWARE_KEY_UNTRUSTED');
    expect(err.message).toMatch(/firmware\.trustedKeys/);
    expect(stream.readableDidRead).toBe(false);
    expect(fixture.catalog.trust()).toEqual({ configured: false, threshold: 1, keys: [] });
  });

  it('stops receiving at the size limit, and refuses a declared size over it before reading', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]), maxPackageBytes: 64 * 1024 });
    const big = signedPackage([vendor], { image: Buffer.alloc(200_000, 7) });
    let read = 0;
    const counted = Readable.from(
      (function* () {
        for (let i = 0; i < big.length; i += 4096) {
          read += 4096;
          yield big.subarray(i, i + 4096);
        }
      })(),
    );
    const err = await refusalOf(fixture.catalog.admit(counted, ADMIN, UPLOAD));
    expect(err.code).toBe('FIRMWARE_TOO_LARGE');
    expect(read).toBeLessThan(200_000);
    expect(await fixture.files()).toEqual([]);

    const declared = streamOf(big);
    const early = await refusalOf(
      fixture.catalog.admit(declared, ADMIN, { origin: 'upload', declaredBytes: big.length }),
    );
    expect(early.code).toBe('FIRMWARE_TOO_LARGE');
    expect(declared.readableDidRead).toBe(false);
  });

  it('keeps nothing of a package whose stream breaks off, and says it arrived incomplete', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const bytes = signedPackage([vendor]);
    const broken = new Readable({
      read() {
        this.push(bytes.subarray(0, 4096));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(fixture.catalog.admit(broken, ADMIN, UPLOAD)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/arrived incomplete \(connection reset\)/) as unknown,
    });
    expect(await fixture.files()).toEqual([]);
  });

  it('refuses bytes that differ from the SHA-256 a repository index gives', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const err = await refusalOf(
      fixture.catalog.admit(streamOf(signedPackage([vendor])), ADMIN, {
        origin: 'https://repo.example/fw/a.tar',
        expectedSha256: '0'.repeat(64),
      }),
    );
    expect(err.code).toBe('FIRMWARE_PACKAGE_INVALID');
    expect(err.message).toMatch(/index gives sha256 0{64}/);
  });

  it('removes a package with its file; unknown ids are NOT_FOUND', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const { package: pkg } = await fixture.catalog.admit(
      streamOf(signedPackage([vendor])),
      ADMIN,
      UPLOAD,
    );
    await fixture.catalog.remove(pkg.id, ADMIN);
    expect(await fixture.files()).toEqual([]);
    await expect(fixture.catalog.get(pkg.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fixture.catalog.remove(pkg.id, ADMIN)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const [entry] = await fixture.audit('firmware.remove');
    expect(entry).toMatchObject({ outcome: 'ok', target: pkg.id });
  });

  it('refuses to remove a package an unfinished rollout uses, and keeps its file', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    const { package: pkg } = await fixture.catalog.admit(
      streamOf(signedPackage([vendor])),
      ADMIN,
      UPLOAD,
    );
    const at = new Date().toISOString();
    await fixture.store.rollouts.create(
      {
        id: 'r-1',
        packageId: pkg.id,
        state: 'running',
        pausedReason: null,
        canarySize: 1,
        concurrency: 1,
        failureThreshold: 1,
        selection: { devices: ['p1'] },
        createdAt: at,
        createdBy: 'admin',
        updatedAt: at,
        finishedAt: null,
      },
      [],
    );
    const err: unknown = await fixture.catalog.remove(pkg.id, ADMIN).catch((e: unknown) => e);
    expect(isCcError(err) && err.code).toBe('CONFLICT');
    expect(await fixture.files()).toEqual([`${pkg.id}.tar`]);
    const [entry] = await fixture.audit('firmware.remove');
    expect(entry).toMatchObject({ outcome: 'refused' });
  });

  it('clears half-received packages left by a crash when it starts', async () => {
    fixture = await startCatalog({ trust: trustOf([vendor]) });
    await writeFile(join(fixture.dir, '.incoming-crashed.part'), 'partial');
    await fixture.catalog.stop();
    await fixture.catalog.start();
    expect(await fixture.files()).toEqual([]);
  });

  it('shows key ids and retired flags only', () => {
    const view = (async () => {
      fixture = await startCatalog({ trust: trustOf([vendor, second], [retired], 2) });
      return fixture.catalog.trust();
    })();
    return expect(view).resolves.toEqual({
      configured: true,
      threshold: 2,
      keys: [
        { id: vendor.id, retired: false },
        { id: second.id, retired: false },
        { id: retired.id, retired: true },
      ],
    });
  });
});
