// Metric samples: down-sampled range queries and retention pruning. Buckets are computed in SQL by
// integer division of the epoch-ms timestamp, which means the same thing on SQLite and PostgreSQL.

import { sql, type Kysely } from 'kysely';
import { CcError, toIso, type MetricPoint, type MetricSeries } from '../../domain/index.js';
import type { MetricQuery, MetricRepository } from '../store.js';
import type { Database } from './database.js';
import { toMs, toNumber } from './time-columns.js';

/** Bucket width in ms, checked so it can be inlined as an integer literal (see query()). */
function stepMsOf(stepSeconds: number): number {
  const ms = Math.round(stepSeconds * 1000);
  if (!Number.isFinite(stepSeconds) || stepSeconds < 1 || !Number.isSafeInteger(ms)) {
    throw new CcError('VALIDATION_FAILED', 'stepSeconds must be a number of seconds >= 1', {
      stepSeconds,
    });
  }
  return ms;
}

export function createMetricRepository(db: Kysely<Database>): MetricRepository {
  return {
    async query(q: MetricQuery): Promise<MetricSeries[]> {
      const stepMs = stepMsOf(q.stepSeconds);
      const from = toMs(q.from, 'from');
      const to = toMs(q.to, 'to');
      // A literal (not a bound parameter): SQLite binds JS numbers as REAL, which would turn the
      // division into a floating one, and PostgreSQL needs the SELECT and GROUP BY expressions to
      // be identical text.
      const step = sql.lit(stepMs);
      const bucket = sql<number | string>`(${sql.ref('ts')} / ${step}) * ${step}`;
      let query = db
        .selectFrom('metric_samples')
        .select((eb) => [
          'name',
          bucket.as('bucket'),
          eb.fn.avg('value').as('avg'),
          eb.fn.min<number>('value').as('min'),
          eb.fn.max<number>('value').as('max'),
        ])
        .where('device_id', '=', q.deviceId)
        .where('ts', '>=', from)
        .where('ts', '<', to);
      if (q.names.length > 0) query = query.where('name', 'in', q.names);
      const rows = await query.groupBy(['name', bucket]).orderBy('name').orderBy(bucket).execute();

      const series = new Map<string, MetricPoint[]>(q.names.map((n) => [n, []]));
      for (const r of rows) {
        let points = series.get(r.name);
        if (points === undefined) {
          points = [];
          series.set(r.name, points);
        }
        points.push({
          ts: toIso(toNumber(r.bucket)),
          avg: toNumber(r.avg),
          min: toNumber(r.min),
          max: toNumber(r.max),
        });
      }
      return [...series].map(([name, points]) => ({ name, points }));
    },

    async prune(before: string): Promise<number> {
      const result = await db
        .deleteFrom('metric_samples')
        .where('ts', '<', toMs(before, 'before'))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
