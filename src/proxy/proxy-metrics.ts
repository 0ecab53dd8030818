// Prometheus metrics of the API Proxy. No device or token label (unbounded); the audit log and
// the logs hold per-call detail.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProxyMetrics {
  requests: Counter<'outcome'>;
  durationSeconds: Histogram<'outcome'>;
  inFlight: Gauge;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  return {
    requests: new Counter({
      name: 'cc_proxy_requests_total',
      help: 'API Proxy calls by outcome: ok (the device answered), refused (by the proxy), failed (the device did not answer well).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: 'cc_proxy_request_duration_seconds',
      help: 'Time from an API Proxy call arriving to its answer being sent, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'cc_proxy_requests_in_flight',
      help: 'API Proxy calls being forwarded to devices now.',
      registers: [registry],
    }),
  };
}
