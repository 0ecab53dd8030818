// Prometheus metrics: one registry per server instance (not prom-client's global), so tests can
// run several servers in one process.

import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

const DEFAULT_METRICS_PREFIX = 'cc_process_';

/**
 * Default metrics that are gauges named `*_total`, a suffix Prometheus reserves for counters
 * (`promtool check metrics` refuses them). Each is the sum of a by-type gauge that stays
 * (`nodejs_active_handles{type}` …), so nothing is lost.
 */
const GAUGES_NAMED_AS_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createMetricsRegistry(options: { defaultMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
    for (const name of GAUGES_NAMED_AS_COUNTERS) {
      registry.removeSingleMetric(`${DEFAULT_METRICS_PREFIX}${name}`);
    }
  }
  return registry;
}
