// Prometheus metrics: one registry per server instance (not prom-client's global), so tests can
// run several servers in one process.

import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetricsRegistry(options: { defaultMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'cc_process_' });
  return registry;
}
