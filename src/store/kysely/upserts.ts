// The multi-row upserts of the ingest hot path, compiled but not run (the caller runs them in one
// write transaction). Each statement never moves a row backwards: rows carrying an older device time
// than the stored one are ignored (newest wins), a cleared alert stays cleared, and device updates
// never erase a person's acknowledgement.

import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Alert, Consumable, Device, Job, MetricSample } from '../../domain/index.js';
import type { Database } from './database.js';
import { alertToRow, consumableToRow, deviceToRow, jobToRow } from './row-mappers.js';
import { reuseInsertShape } from './insert-templates.js';
import { toMs } from './time-columns.js';

/**
 * SQLite's default bound-parameter limit (PostgreSQL allows 65535). Statements are also capped in
 * rows: past a few hundred rows a longer statement only costs more to prepare.
 */
const MAX_PARAMS = 32766;
const MAX_ROWS = 1000;

function chunks<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function upsertDevices(db: Kysely<Database>, devices: readonly Device[]): CompiledQuery[] {
  return chunks(devices.map(deviceToRow), 12).map((part) =>
    db
      .insertInto('devices')
      .values(part)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            model: eb.ref('excluded.model'),
            serial: eb.ref('excluded.serial'),
            name: eb.ref('excluded.name'),
            site_id: eb.ref('excluded.site_id'),
            firmware_version: eb.ref('excluded.firmware_version'),
            address: eb.ref('excluded.address'),
            state: eb.ref('excluded.state'),
            search_text: eb.ref('excluded.search_text'),
            state_at: eb.fn.coalesce('excluded.state_at', 'devices.state_at'),
            // The later of the two, written as CASE because SQLite's max() and PostgreSQL's
            // greatest() disagree about nulls.
            last_seen_at: sql<number | null>`case when ${sql.ref('devices.last_seen_at')} is null
              or ${sql.ref('excluded.last_seen_at')} > ${sql.ref('devices.last_seen_at')}
              then ${sql.ref('excluded.last_seen_at')} else ${sql.ref('devices.last_seen_at')} end`,
          }))
          .where((eb) =>
            eb.or([
              eb('excluded.state_at', 'is', null),
              eb('devices.state_at', 'is', null),
              eb('excluded.state_at', '>=', eb.ref('devices.state_at')),
            ]),
          ),
      )
      .compile(),
  );
}

export function upsertJobs(db: Kysely<Database>, jobs: readonly Job[]): CompiledQuery[] {
  return chunks(jobs.map(jobToRow), 13).map((part) =>
    db
      .insertInto('jobs')
      .values(part)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            device_id: eb.ref('excluded.device_id'),
            name: eb.ref('excluded.name'),
            owner: eb.ref('excluded.owner'),
            state: eb.ref('excluded.state'),
            progress: eb.ref('excluded.progress'),
            started_at: eb.ref('excluded.started_at'),
            estimated_end_at: eb.ref('excluded.estimated_end_at'),
            ended_at: eb.ref('excluded.ended_at'),
            layer: eb.ref('excluded.layer'),
            layers: eb.ref('excluded.layers'),
            material_used_g: eb.ref('excluded.material_used_g'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where((eb) => eb('excluded.updated_at', '>=', eb.ref('jobs.updated_at'))),
      )
      .compile(),
  );
}

export function upsertAlerts(db: Kysely<Database>, alerts: readonly Alert[]): CompiledQuery[] {
  const keepAck = (column: 'acknowledged_by' | 'acknowledged_at') =>
    sql<never>`case when ${sql.ref('excluded.acknowledged_at')} is null
      then ${sql.ref(`alerts.${column}`)} else ${sql.ref(`excluded.${column}`)} end`;
  return chunks(alerts.map(alertToRow), 9).map((part) =>
    db
      .insertInto('alerts')
      .values(part)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          device_id: eb.ref('excluded.device_id'),
          code: eb.ref('excluded.code'),
          severity: eb.ref('excluded.severity'),
          message: eb.ref('excluded.message'),
          raised_at: eb.ref('excluded.raised_at'),
          cleared_at: eb.fn.coalesce('alerts.cleared_at', 'excluded.cleared_at'),
          acknowledged_by: keepAck('acknowledged_by'),
          acknowledged_at: keepAck('acknowledged_at'),
        })),
      )
      .compile(),
  );
}

export function upsertConsumables(
  db: Kysely<Database>,
  consumables: readonly Consumable[],
): CompiledQuery[] {
  return chunks(consumables.map(consumableToRow), 7).map((part) =>
    db
      .insertInto('consumables')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'slot'])
          .doUpdateSet((eb) => ({
            type: eb.ref('excluded.type'),
            level: eb.ref('excluded.level'),
            status: eb.ref('excluded.status'),
            expires_at: eb.ref('excluded.expires_at'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where((eb) => eb('excluded.updated_at', '>=', eb.ref('consumables.updated_at'))),
      )
      .compile(),
  );
}

interface SampleRow extends Record<string, unknown> {
  device_id: string;
  name: string;
  ts: number;
  value: number;
}

/** Per database: the compiled text depends on the dialect. */
const sampleInserts = new WeakMap<Kysely<Database>, (rows: SampleRow[]) => CompiledQuery>();

function sampleInsert(db: Kysely<Database>): (rows: SampleRow[]) => CompiledQuery {
  let insert = sampleInserts.get(db);
  if (insert === undefined) {
    insert = reuseInsertShape((rows: SampleRow[]) =>
      db
        .insertInto('metric_samples')
        .values(rows)
        .onConflict((oc) =>
          oc
            .columns(['device_id', 'name', 'ts'])
            .doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .compile(),
    );
    sampleInserts.set(db, insert);
  }
  return insert;
}

export function upsertMetricSamples(
  db: Kysely<Database>,
  samples: readonly MetricSample[],
): CompiledQuery[] {
  const rows = samples.map((s): SampleRow => ({
    device_id: s.deviceId,
    name: s.name,
    ts: toMs(s.ts, 'metric.ts'),
    value: s.value,
  }));
  return chunks(rows, 4).map(sampleInsert(db));
}
