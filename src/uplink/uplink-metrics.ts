// Prometheus metrics of the uplink: delivery attempts by outcome and the size of sealed reports.

import { Counter, Histogram, type Registry } from 'prom-client';

export function createUplinkMetrics(registry: Registry): {
  attempt(outcome: string): void;
  reportBytes(bytes: number): void;
} {
  const attempts = new Counter({
    name: 'cc_uplink_delivery_attempts_total',
    help: 'Uplink delivery attempts by outcome (delivered, http-<status>, or the failure kind).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const bytes = new Histogram({
    name: 'cc_uplink_report_bytes',
    help: 'Size of sealed uplink reports (envelope JSON), in bytes.',
    buckets: [512, 2048, 8192, 32_768, 131_072, 524_288, 2_097_152],
    registers: [registry],
  });
  return {
    attempt: (outcome) => attempts.inc({ outcome }),
    reportBytes: (n) => bytes.observe(n),
  };
}
