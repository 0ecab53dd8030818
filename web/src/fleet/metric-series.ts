// Metric history as chart series: the API's buckets become (time, average) arrays, and the live
// stream's latest values are appended as they arrive, keeping the window's length.

import type { DeviceView, MetricHistory } from '../api/types';
import type { SeriesData } from '../components/metric-chart';

export const RANGES = [
  { key: '1h', label: '1 hour', seconds: 3600 },
  { key: '6h', label: '6 hours', seconds: 6 * 3600 },
  { key: '24h', label: '24 hours', seconds: 24 * 3600 },
  { key: '7d', label: '7 days', seconds: 7 * 86400 },
  { key: '30d', label: '30 days', seconds: 30 * 86400 },
] as const;

export type RangeKey = (typeof RANGES)[number]['key'];

export function seriesFromHistory(history: MetricHistory): SeriesData[] {
  return history.series.map((s) => ({
    name: s.name,
    xs: s.points.map((p) => Date.parse(p.ts) / 1000),
    ys: s.points.map((p) => p.avg),
  }));
}

/**
 * Appends the device's latest metric values newer than each series' last point and drops points
 * older than `windowSeconds` before the newest. Returns the same array when nothing changed.
 */
export function appendLive(
  series: SeriesData[],
  metrics: DeviceView['metrics'],
  windowSeconds: number,
): SeriesData[] {
  let changed = false;
  const names = new Set(series.map((s) => s.name));
  const next = series.map((s) => {
    const latest = metrics[s.name];
    if (!latest) return s;
    const x = Date.parse(latest.ts) / 1000;
    const lastX = s.xs[s.xs.length - 1] ?? -Infinity;
    if (!(x > lastX)) return s;
    changed = true;
    const start = x - windowSeconds;
    let first = 0;
    while (first < s.xs.length && (s.xs[first] ?? 0) < start) first += 1;
    return {
      name: s.name,
      xs: [...s.xs.slice(first), x],
      ys: [...s.ys.slice(first), latest.value],
    };
  });
  for (const [name, latest] of Object.entries(metrics)) {
    if (names.has(name)) continue;
    changed = true;
    next.push({ name, xs: [Date.parse(latest.ts) / 1000], ys: [latest.value] });
  }
  return changed ? next : series;
}
