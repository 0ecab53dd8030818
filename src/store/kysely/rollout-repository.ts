// Staged firmware rollouts and each device's place and progress in them. The repository keeps the
// columns that let the database enforce the rollout rules (migration 006) in step with the state:
// `rollouts.active_package_id` and `rollout_devices.active_device_id` are set while a rollout is
// unfinished and cleared in the same transaction that finishes it.

import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import { CcError, isCcError } from '../../domain/index.js';
import {
  UNFINISHED_ROLLOUT_STATES,
  type Rollout,
  type RolloutDevice,
  type RolloutDeviceStatus,
  type RolloutRepository,
  type RolloutSelection,
  type RolloutStage,
  type RolloutState,
} from '../store.js';
import { withConstraints } from './constraint-errors.js';
import type { Database, RolloutDevicesTable, RolloutsTable } from './database.js';
import { checkCount, stringsOf } from './firmware-columns.js';
import { checkPage, countOf } from './paging.js';
import { fromMs, fromMsOrNull, toMs, toMsOrNull } from './time-columns.js';
import type { WriteRunner } from './write-runner.js';

/** Rows per device insert: 12 columns stay far below SQLite's 32766 bound parameters. */
const DEVICE_ROWS_PER_INSERT = 1000;
/** Ids per `in (…)` list when looking up devices. */
const IDS_PER_QUERY = 500;

const SELECTION_KEYS = ['models', 'sites', 'devices'] as const satisfies (keyof RolloutSelection)[];

function isUnfinished(state: RolloutState): boolean {
  return (UNFINISHED_ROLLOUT_STATES as readonly string[]).includes(state);
}

function parseSelection(text: string): RolloutSelection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Written by this module as JSON; an unreadable selection reads as "no limits recorded".
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const raw = parsed as Record<string, unknown>;
  const selection: RolloutSelection = {};
  for (const key of SELECTION_KEYS) {
    if (Array.isArray(raw[key])) selection[key] = stringsOf(raw[key]);
  }
  return selection;
}

function stringifySelection(selection: RolloutSelection): string {
  const out: RolloutSelection = {};
  for (const key of SELECTION_KEYS) {
    const list = selection[key];
    if (list !== undefined) out[key] = [...list];
  }
  return JSON.stringify(out);
}

function rowToRollout(r: Selectable<RolloutsTable>): Rollout {
  return {
    id: r.id,
    packageId: r.package_id,
    state: r.state as RolloutState,
    pausedReason: r.paused_reason,
    canarySize: r.canary_size,
    concurrency: r.concurrency,
    failureThreshold: r.failure_threshold,
    selection: parseSelection(r.selection),
    createdAt: fromMs(r.created_at),
    createdBy: r.created_by,
    updatedAt: fromMs(r.updated_at),
    finishedAt: fromMsOrNull(r.finished_at),
  };
}

function rowToDevice(r: Selectable<RolloutDevicesTable>): RolloutDevice {
  return {
    rolloutId: r.rollout_id,
    deviceId: r.device_id,
    stage: r.stage as RolloutStage,
    order: r.position,
    status: r.status as RolloutDeviceStatus,
    reason: r.reason,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    progress: r.progress,
    updatedAt: fromMs(r.updated_at),
  };
}

function checkProgress(value: number | null): number | null {
  if (value !== null && !(Number.isFinite(value) && value >= 0 && value <= 100)) {
    throw new CcError('VALIDATION_FAILED', 'progress must be a number from 0 to 100, or null', {
      field: 'progress',
    });
  }
  return value;
}

function rolloutToRow(r: Rollout) {
  return {
    id: r.id,
    package_id: r.packageId,
    active_package_id: isUnfinished(r.state) ? r.packageId : null,
    state: r.state,
    paused_reason: r.pausedReason,
    canary_size: checkCount(r.canarySize, 'canarySize'),
    concurrency: checkCount(r.concurrency, 'concurrency'),
    failure_threshold: checkCount(r.failureThreshold, 'failureThreshold'),
    selection: stringifySelection(r.selection),
    created_at: toMs(r.createdAt, 'createdAt'),
    created_by: r.createdBy,
    updated_at: toMs(r.updatedAt, 'updatedAt'),
    finished_at: toMsOrNull(r.finishedAt, 'finishedAt'),
  };
}

function deviceToRow(d: RolloutDevice, unfinished: boolean) {
  return {
    rollout_id: d.rolloutId,
    device_id: d.deviceId,
    active_device_id: unfinished ? d.deviceId : null,
    stage: d.stage,
    position: checkCount(d.order, 'order'),
    status: d.status,
    reason: d.reason,
    from_version: d.fromVersion,
    to_version: d.toVersion,
    progress: checkProgress(d.progress),
    updated_at: toMs(d.updatedAt, 'updatedAt'),
  };
}

/** Input mistakes the database would also refuse, reported before anything is written. */
function checkDevices(rollout: Rollout, devices: readonly RolloutDevice[]): void {
  const ids = new Set<string>();
  const orders = new Set<number>();
  for (const d of devices) {
    if (d.rolloutId !== rollout.id) {
      throw new CcError('VALIDATION_FAILED', `device ${d.deviceId} names another rollout`, {
        deviceId: d.deviceId,
      });
    }
    if (ids.has(d.deviceId)) {
      throw new CcError('VALIDATION_FAILED', `device ${d.deviceId} is listed twice`, {
        deviceId: d.deviceId,
      });
    }
    if (orders.has(d.order)) {
      throw new CcError('VALIDATION_FAILED', `order ${d.order} is given to two devices`, {
        order: d.order,
      });
    }
    ids.add(d.deviceId);
    orders.add(d.order);
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function storeFailed(what: string, err: unknown): CcError {
  if (isCcError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new CcError('STORE_FAILED', `cannot ${what}: ${reason}`);
}

export function createRolloutRepository(
  db: Kysely<Database>,
  runWrites: WriteRunner,
): RolloutRepository {
  const get = async (id: string): Promise<Rollout | undefined> => {
    const r = await db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToRollout(r);
  };

  const device = async (rolloutId: string, deviceId: string) => {
    const r = await db
      .selectFrom('rollout_devices')
      .selectAll()
      .where('rollout_id', '=', rolloutId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return r && rowToDevice(r);
  };

  /** Which of these devices are in an unfinished rollout, and which rollout. */
  const busy = async (deviceIds: readonly string[]) => {
    const found: { deviceId: string; rolloutId: string }[] = [];
    for (const ids of chunk(deviceIds, IDS_PER_QUERY)) {
      const rows = await db
        .selectFrom('rollout_devices')
        .select(['device_id', 'rollout_id'])
        .where('active_device_id', 'in', ids)
        .execute();
      found.push(...rows.map((r) => ({ deviceId: r.device_id, rolloutId: r.rollout_id })));
    }
    return found;
  };

  const busyConflict = (
    what: string,
    found: readonly { deviceId: string; rolloutId: string }[],
  ): CcError => {
    const listed = found
      .slice(0, 5)
      .map((b) => `${b.deviceId} (rollout ${b.rolloutId})`)
      .join(', ');
    const more = found.length > 5 ? ` and ${found.length - 5} more` : '';
    const message = `${what}: devices already in an unfinished rollout: ${listed}${more}`;
    return new CcError('CONFLICT', message, { devices: found });
  };

  /**
   * Runs the writes in one transaction. A broken unique constraint (an id taken, a device held by
   * another unfinished rollout) or foreign key (the package gone) is explained by the caller, with
   * a query run after the failed transaction.
   */
  const write = async (
    what: string,
    queries: CompiledQuery[],
    explain: { unique: () => Promise<CcError>; foreignKey: () => CcError },
  ): Promise<void> => {
    try {
      await withConstraints(what, () => runWrites(queries));
    } catch (err) {
      // withConstraints reports a unique failure as CONFLICT and a foreign key one as
      // VALIDATION_FAILED; rows were built and checked before, so nothing else is either.
      if (isCcError(err) && err.code === 'CONFLICT') throw await explain.unique();
      if (isCcError(err) && err.code === 'VALIDATION_FAILED') throw explain.foreignKey();
      throw storeFailed(what, err);
    }
  };

  return {
    async create(rollout, devices) {
      checkDevices(rollout, devices);
      const unfinished = isUnfinished(rollout.state);
      const rows = devices.map((d) => deviceToRow(d, unfinished));
      const queries = [
        db.insertInto('rollouts').values(rolloutToRow(rollout)).compile(),
        ...chunk(rows, DEVICE_ROWS_PER_INSERT).map((part) =>
          db.insertInto('rollout_devices').values(part).compile(),
        ),
      ];
      await write(`create rollout ${rollout.id}`, queries, {
        unique: async () => {
          if ((await get(rollout.id)) !== undefined) {
            return new CcError('CONFLICT', `rollout ${rollout.id} already exists`);
          }
          const found = await busy(devices.map((d) => d.deviceId));
          return found.length > 0
            ? busyConflict(`cannot create rollout ${rollout.id}`, found)
            : new CcError('CONFLICT', `rollout ${rollout.id} conflicts with a stored rollout`);
        },
        foreignKey: () =>
          new CcError(
            'VALIDATION_FAILED',
            `firmware package ${rollout.packageId} is not in the catalog`,
            { packageId: rollout.packageId },
          ),
      });
    },
    get,
    async list(filter) {
      const page = checkPage(filter);
      let q = db.selectFrom('rollouts');
      if (filter.state !== undefined) q = q.where('state', '=', filter.state);
      const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      const rows = await q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToRollout), total: countOf(total), ...page };
    },
    async devices(rolloutId) {
      const rows = await db
        .selectFrom('rollout_devices')
        .selectAll()
        .where('rollout_id', '=', rolloutId)
        .orderBy('position')
        .execute();
      return rows.map(rowToDevice);
    },
    async update(id, changes) {
      const set = {
        ...(changes.pausedReason !== undefined ? { paused_reason: changes.pausedReason } : {}),
        ...(changes.updatedAt !== undefined
          ? { updated_at: toMs(changes.updatedAt, 'updatedAt') }
          : {}),
        ...(changes.finishedAt !== undefined
          ? { finished_at: toMsOrNull(changes.finishedAt, 'finishedAt') }
          : {}),
      };
      const { state } = changes;
      const queries: CompiledQuery[] = [];
      if (state === undefined) {
        if (Object.keys(set).length > 0) {
          queries.push(db.updateTable('rollouts').set(set).where('id', '=', id).compile());
        }
      } else {
        // The hold on the package and on the devices follows the state, in the same transaction.
        const unfinished = isUnfinished(state);
        queries.push(
          db
            .updateTable('rollouts')
            .set((eb) => ({
              ...set,
              state,
              active_package_id: unfinished ? eb.ref('package_id') : null,
            }))
            .where('id', '=', id)
            .compile(),
          db
            .updateTable('rollout_devices')
            .set((eb) => ({ active_device_id: unfinished ? eb.ref('device_id') : null }))
            .where('rollout_id', '=', id)
            .compile(),
        );
      }
      if (queries.length > 0) {
        await write(`update rollout ${id}`, queries, {
          unique: async () => {
            const rows = await db
              .selectFrom('rollout_devices as mine')
              .innerJoin('rollout_devices as other', 'other.active_device_id', 'mine.device_id')
              .select(['mine.device_id', 'other.rollout_id'])
              .where('mine.rollout_id', '=', id)
              .where('other.rollout_id', '<>', id)
              .orderBy('mine.position')
              .execute();
            const found = rows.map((r) => ({ deviceId: r.device_id, rolloutId: r.rollout_id }));
            return busyConflict(`rollout ${id} cannot be ${String(state)} again`, found);
          },
          foreignKey: () =>
            new CcError(
              'CONFLICT',
              `rollout ${id} cannot be ${String(state)} again: its firmware package is no longer in the catalog`,
            ),
        });
      }
      return get(id);
    },
    async updateDevice(rolloutId, deviceId, changes) {
      const set = {
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(changes.reason !== undefined ? { reason: changes.reason } : {}),
        ...(changes.progress !== undefined ? { progress: checkProgress(changes.progress) } : {}),
        ...(changes.updatedAt !== undefined
          ? { updated_at: toMs(changes.updatedAt, 'updatedAt') }
          : {}),
        ...(changes.fromVersion !== undefined ? { from_version: changes.fromVersion } : {}),
      };
      if (Object.keys(set).length > 0) {
        await db
          .updateTable('rollout_devices')
          .set(set)
          .where('rollout_id', '=', rolloutId)
          .where('device_id', '=', deviceId)
          .execute();
      }
      return device(rolloutId, deviceId);
    },
    async unfinished() {
      const rows = await db
        .selectFrom('rollouts')
        .selectAll()
        .where('state', 'in', [...UNFINISHED_ROLLOUT_STATES])
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(rowToRollout);
    },
    async activeForDevice(deviceId) {
      const d = await db
        .selectFrom('rollout_devices')
        .selectAll()
        .where('active_device_id', '=', deviceId)
        .executeTakeFirst();
      if (d === undefined) return undefined;
      const rollout = await get(d.rollout_id);
      return rollout && { rollout, device: rowToDevice(d) };
    },
  };
}
