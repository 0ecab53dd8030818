// GET /api/v1/devices/:id/metrics — down-sampled metric history (avg/min/max per step) from the
// store, with the range, step and point count validated so one request cannot ask for millions.

import { Type } from 'typebox';
import { CcError, METRIC_NAME_PATTERN, toIso } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { assertDeviceVisible } from '../device-scope.js';
import { timeParam } from '../query-params.js';
import { principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, authErrors } from '../schemas.js';

export const DEFAULT_RANGE_MS = 60 * 60 * 1000;
/** Target points per series when the client does not choose a step. */
export const TARGET_POINTS = 500;
/** Most points per series a client may ask for with an explicit step. */
export const MAX_POINTS = 10_000;
export const MAX_RANGE_MS = 400 * 24 * 60 * 60 * 1000;
export const MAX_NAMES = 32;

const MetricsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339; default to − 1 h' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339; default now' })),
    step: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 31_536_000, description: 'Bucket width in seconds' }),
    ),
    names: Type.Optional(
      Type.String({ maxLength: 2200, description: 'Comma-separated metric names; default all' }),
    ),
  },
  { additionalProperties: false },
);

const PointSchema = Type.Object({
  ts: Type.String({ format: 'date-time' }),
  avg: Type.Number(),
  min: Type.Number(),
  max: Type.Number(),
});

const MetricsResponse = Type.Object({
  deviceId: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  stepSeconds: Type.Integer(),
  series: Type.Array(Type.Object({ name: Type.String(), points: Type.Array(PointSchema) })),
});

function invalid(message: string): CcError {
  return new CcError('VALIDATION_FAILED', message);
}

function parseNames(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [];
  const names = raw.split(',');
  if (names.length > MAX_NAMES)
    throw invalid(`querystring/names lists more than ${MAX_NAMES} names`);
  for (const name of names) {
    if (!METRIC_NAME_PATTERN.test(name)) {
      throw invalid(`querystring/names: "${name.slice(0, 64)}" is not a valid metric name`);
    }
  }
  return [...new Set(names)];
}

export function registerDeviceMetricRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'ingest' | 'store'>,
): void {
  app.get(
    '/api/v1/devices/:id/metrics',
    {
      config: { permission: 'fleet:read' },
      schema: {
        tags: ['devices'],
        summary: 'Metric history of a device, down-sampled',
        params: IdParamsSchema,
        querystring: MetricsQuery,
        response: { 200: MetricsResponse, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const q = request.query;
      const to = q.to === undefined ? Date.now() : timeParam('to', q.to);
      const from = q.from === undefined ? to - DEFAULT_RANGE_MS : timeParam('from', q.from);
      if (from >= to) throw invalid('querystring/from must be before querystring/to');
      const range = to - from;
      if (range > MAX_RANGE_MS) throw invalid('querystring: the range may span at most 400 days');
      const step = q.step ?? Math.max(1, Math.ceil(range / 1000 / TARGET_POINTS));
      if (range / 1000 / step > MAX_POINTS) {
        throw invalid(
          `querystring/step is too small for the range: at most ${MAX_POINTS} points per series`,
        );
      }
      const names = parseNames(q.names);
      if (!deps.ingest.fleet.get(id) && !(await deps.store.devices.get(id))) {
        throw new CcError('DEVICE_NOT_FOUND', `no device with id ${id}`);
      }
      await assertDeviceVisible(
        principalOf(request),
        { fleet: deps.ingest.fleet, store: deps.store },
        id,
      );
      const series = await deps.store.metrics.query({
        deviceId: id,
        names,
        from: toIso(from),
        to: toIso(to),
        stepSeconds: step,
      });
      return { deviceId: id, from: toIso(from), to: toIso(to), stepSeconds: step, series };
    },
  );
}
