// The catalog of verified firmware packages: one row per package file (by its hash), with one
// row per model in firmware_package_models so the catalog can be listed by model.

import type { Kysely, Selectable } from 'kysely';
import { CcError, isCcError } from '../../domain/index.js';
import type { FirmwareCatalogRepository, FirmwareCheck, FirmwarePackage } from '../store.js';
import { withConstraints } from './constraint-errors.js';
import type { Database, FirmwarePackagesTable } from './database.js';
import { checkCount, parseStrings } from './firmware-columns.js';
import { checkPage, countOf } from './paging.js';
import { fromMs, toMs, toNumber } from './time-columns.js';
import type { WriteRunner } from './write-runner.js';

function parseChecks(text: string): FirmwareCheck[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Written by this module as JSON; an unreadable verdict shows as no checks, not a failed read.
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((c: unknown): FirmwareCheck[] => {
    if (typeof c !== 'object' || c === null) return [];
    const { name, ok, detail } = c as Record<string, unknown>;
    return typeof name === 'string' && typeof ok === 'boolean' && typeof detail === 'string'
      ? [{ name, ok, detail }]
      : [];
  });
}

function rowToPackage(r: Selectable<FirmwarePackagesTable>): FirmwarePackage {
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    models: parseStrings(r.models),
    imageSize: toNumber(r.image_size),
    imageSha256: r.image_sha256,
    releasedAt: fromMs(r.released_at),
    expiresAt: fromMs(r.expires_at),
    allowDowngrade: r.allow_downgrade === 1,
    signers: parseStrings(r.signers),
    packageBytes: toNumber(r.package_bytes),
    file: r.file,
    source: r.source,
    addedAt: fromMs(r.added_at),
    addedBy: r.added_by,
    checks: parseChecks(r.checks),
  };
}

function packageToRow(p: FirmwarePackage) {
  return {
    id: p.id,
    name: p.name,
    version: p.version,
    models: JSON.stringify(p.models),
    image_size: checkCount(p.imageSize, 'imageSize'),
    image_sha256: p.imageSha256,
    released_at: toMs(p.releasedAt, 'releasedAt'),
    expires_at: toMs(p.expiresAt, 'expiresAt'),
    allow_downgrade: p.allowDowngrade ? 1 : 0,
    signers: JSON.stringify(p.signers),
    package_bytes: checkCount(p.packageBytes, 'packageBytes'),
    file: p.file,
    source: p.source,
    added_at: toMs(p.addedAt, 'addedAt'),
    added_by: p.addedBy,
    checks: JSON.stringify(p.checks.map(({ name, ok, detail }) => ({ name, ok, detail }))),
  };
}

export function createFirmwareCatalogRepository(
  db: Kysely<Database>,
  runWrites: WriteRunner,
): FirmwareCatalogRepository {
  /** Unfinished rollouts holding the package, to name them when a removal is refused. */
  const holders = async (id: string): Promise<string[]> => {
    const rows = await db
      .selectFrom('rollouts')
      .select('id')
      .where('active_package_id', '=', id)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  };

  return {
    async add(pkg) {
      const row = packageToRow(pkg);
      const models = [...new Set(pkg.models)].map((model) => ({ package_id: pkg.id, model }));
      const queries = [db.insertInto('firmware_packages').values(row).compile()];
      if (models.length > 0) {
        queries.push(db.insertInto('firmware_package_models').values(models).compile());
      }
      await withConstraints(`firmware package ${pkg.id}`, () => runWrites(queries));
    },
    async get(id) {
      const r = await db
        .selectFrom('firmware_packages')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return r && rowToPackage(r);
    },
    async list(filter) {
      const page = checkPage(filter);
      let q = db.selectFrom('firmware_packages');
      if (filter.name !== undefined) q = q.where('name', '=', filter.name);
      const model = filter.model;
      if (model !== undefined) {
        q = q.where('id', 'in', (eb) =>
          eb.selectFrom('firmware_package_models').select('package_id').where('model', '=', model),
        );
      }
      const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      const rows = await q
        .selectAll()
        .orderBy('added_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToPackage), total: countOf(total), ...page };
    },
    async findByNameVersion(name, version) {
      const rows = await db
        .selectFrom('firmware_packages')
        .selectAll()
        .where('name', '=', name)
        .where('version', '=', version)
        .orderBy('added_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(rowToPackage);
    },
    async remove(id) {
      try {
        const r = await withConstraints(`firmware package ${id}`, () =>
          db.deleteFrom('firmware_packages').where('id', '=', id).executeTakeFirst(),
        );
        return Number(r.numDeletedRows) > 0;
      } catch (err) {
        // The one foreign key a delete can break is an unfinished rollout's hold on the package
        // (migration 006); withConstraints reports it as VALIDATION_FAILED.
        if (!isCcError(err) || err.code !== 'VALIDATION_FAILED') throw err;
        const rolloutIds = await holders(id);
        const which = rolloutIds.length > 0 ? ` (${rolloutIds.join(', ')})` : '';
        throw new CcError(
          'CONFLICT',
          `firmware package ${id} is used by an unfinished rollout${which}`,
          { packageId: id, rolloutIds },
        );
      }
    },
  };
}
