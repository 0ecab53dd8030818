// Devices, jobs, alerts and consumables: the fleet's current state and its history.

import { sql, type ExpressionBuilder, type Expression, type Kysely, type SqlBool } from 'kysely';
import { JOB_STATES, isFinalJobState } from '../../domain/index.js';
import type {
  AlertFilter,
  AlertRepository,
  ConsumableRepository,
  DeviceFilter,
  DeviceRepository,
  JobFilter,
  JobRepository,
} from '../store.js';
import type { Database } from './database.js';
import { checkPage, containsLiteral, countOf } from './paging.js';
import { rowToAlert, rowToConsumable, rowToDevice, rowToJob } from './row-mappers.js';
import { toMs } from './time-columns.js';
import { upsertDevices } from './upserts.js';
import type { WriteRunner } from './write-runner.js';

const ACTIVE_JOB_STATES = JOB_STATES.filter((s) => !isFinalJobState(s));

function deviceWhere(f: DeviceFilter) {
  return (eb: ExpressionBuilder<Database, 'devices'>) => {
    const c: Expression<SqlBool>[] = [];
    if (f.siteId !== undefined) c.push(eb('site_id', '=', f.siteId));
    if (f.kind !== undefined) c.push(eb('kind', '=', f.kind));
    if (f.state !== undefined) c.push(eb('state', '=', f.state));
    if (f.q !== undefined && f.q !== '') c.push(containsLiteral('search_text', f.q.toLowerCase()));
    return eb.and(c);
  };
}

/** `device_id IN (…)`; an empty list matches nothing (an empty IN list is not valid SQL). */
export function inDevices(
  eb: ExpressionBuilder<Database, 'jobs' | 'alerts' | 'commands'>,
  ids: readonly string[],
): Expression<SqlBool> {
  return ids.length === 0 ? sql<SqlBool>`1 = 0` : eb('device_id', 'in', [...ids]);
}

function jobWhere(f: JobFilter) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) => {
    const c: Expression<SqlBool>[] = [];
    if (f.deviceId !== undefined) c.push(eb('device_id', '=', f.deviceId));
    if (f.deviceIds !== undefined) c.push(inDevices(eb, f.deviceIds));
    if (f.state !== undefined) c.push(eb('state', '=', f.state));
    if (f.owner !== undefined) c.push(eb('owner', '=', f.owner));
    if (f.since !== undefined) c.push(eb('updated_at', '>=', toMs(f.since, 'since')));
    if (f.until !== undefined) c.push(eb('updated_at', '<=', toMs(f.until, 'until')));
    return eb.and(c);
  };
}

function alertWhere(f: AlertFilter) {
  return (eb: ExpressionBuilder<Database, 'alerts'>) => {
    const c: Expression<SqlBool>[] = [];
    if (f.deviceId !== undefined) c.push(eb('device_id', '=', f.deviceId));
    if (f.deviceIds !== undefined) c.push(inDevices(eb, f.deviceIds));
    if (f.severity !== undefined) c.push(eb('severity', '=', f.severity));
    if (f.status === 'open') c.push(eb('cleared_at', 'is', null));
    if (f.status === 'cleared') c.push(eb('cleared_at', 'is not', null));
    if (f.since !== undefined) c.push(eb('raised_at', '>=', toMs(f.since, 'since')));
    if (f.until !== undefined) c.push(eb('raised_at', '<=', toMs(f.until, 'until')));
    return eb.and(c);
  };
}

export function createDeviceRepository(
  db: Kysely<Database>,
  runWrites: WriteRunner,
): DeviceRepository {
  return {
    async get(id) {
      const row = await db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && rowToDevice(row);
    },
    async list(filter) {
      const page = checkPage(filter);
      const where = deviceWhere(filter);
      const total = await db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll().as('n'))
        .where(where)
        .executeTakeFirst();
      const rows = await db
        .selectFrom('devices')
        .selectAll()
        .where(where)
        .orderBy('name')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToDevice), total: countOf(total), ...page };
    },
    async all() {
      const rows = await db.selectFrom('devices').selectAll().orderBy('id').execute();
      return rows.map(rowToDevice);
    },
    async upsert(device) {
      await runWrites(upsertDevices(db, [device]));
    },
    async remove(id) {
      const deleteDevice = db.deleteFrom('devices').where('id', '=', id);
      const byDevice = (
        table:
          | 'consumables'
          | 'jobs'
          | 'alerts'
          | 'metric_samples'
          | 'device_credentials'
          | 'device_registrations',
      ) => db.deleteFrom(table).where('device_id', '=', id).compile();
      await runWrites([
        deleteDevice.compile(),
        byDevice('consumables'),
        byDevice('jobs'),
        byDevice('alerts'),
        byDevice('metric_samples'),
        byDevice('device_credentials'),
        byDevice('device_registrations'),
      ]);
    },
  };
}

export function createJobRepository(db: Kysely<Database>): JobRepository {
  return {
    async get(id) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && rowToJob(row);
    },
    async list(filter) {
      const page = checkPage(filter);
      const where = jobWhere(filter);
      const total = await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll().as('n'))
        .where(where)
        .executeTakeFirst();
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where(where)
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToJob), total: countOf(total), ...page };
    },
    async active() {
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where('state', 'in', ACTIVE_JOB_STATES)
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(rowToJob);
    },
  };
}

export function createAlertRepository(db: Kysely<Database>): AlertRepository {
  const get = async (id: string) => {
    const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToAlert(row);
  };
  return {
    get,
    async list(filter) {
      const page = checkPage(filter);
      const where = alertWhere(filter);
      const total = await db
        .selectFrom('alerts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where(where)
        .executeTakeFirst();
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where(where)
        .orderBy('raised_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToAlert), total: countOf(total), ...page };
    },
    async open() {
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where('cleared_at', 'is', null)
        .orderBy('raised_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(rowToAlert);
    },
    async acknowledge(id, by, at) {
      // The first acknowledgement stands: a second one does not rewrite who saw the alert first.
      await db
        .updateTable('alerts')
        .set({ acknowledged_by: by, acknowledged_at: toMs(at, 'acknowledgedAt') })
        .where('id', '=', id)
        .where('acknowledged_at', 'is', null)
        .execute();
      return get(id);
    },
  };
}

export function createConsumableRepository(db: Kysely<Database>): ConsumableRepository {
  return {
    async all() {
      const rows = await db
        .selectFrom('consumables')
        .selectAll()
        .orderBy('device_id')
        .orderBy('slot')
        .execute();
      return rows.map(rowToConsumable);
    },
    async forDevice(deviceId) {
      const rows = await db
        .selectFrom('consumables')
        .selectAll()
        .where('device_id', '=', deviceId)
        .orderBy('slot')
        .execute();
      return rows.map(rowToConsumable);
    },
  };
}
