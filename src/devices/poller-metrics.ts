// Prometheus metrics of the Web Services poller. No device id label (unbounded); per-device detail
// is in the logs.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PollerMetrics {
  polls: Counter<'outcome'>;
  durationSeconds: Histogram;
  lagSeconds: Histogram;
  scheduled: Gauge;
  running: Gauge;
  queued: Gauge;
}

export function createPollerMetrics(registry: Registry): PollerMetrics {
  return {
    polls: new Counter({
      name: 'cc_device_polls_total',
      help: 'Web Services polls by outcome (ok, or the error code).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: 'cc_device_poll_duration_seconds',
      help: 'Time one poll of a device took (all its requests).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lagSeconds: new Histogram({
      name: 'cc_device_poll_lag_seconds',
      help: 'How late a poll started after it was due (waiting for a free slot).',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    scheduled: new Gauge({
      name: 'cc_device_polled',
      help: 'Devices the poller polls.',
      registers: [registry],
    }),
    running: new Gauge({
      name: 'cc_device_polls_running',
      help: 'Polls in progress.',
      registers: [registry],
    }),
    queued: new Gauge({
      name: 'cc_device_polls_queued',
      help: 'Polls due and waiting for a free slot.',
      registers: [registry],
    }),
  };
}
