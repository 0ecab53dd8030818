// Prometheus metrics of ingest, registered on the server's registry. No device id label: the number
// of devices is unbounded, and per-device detail belongs in logs.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IngestMetrics {
  accepted: Counter<'channel'>;
  malformed: Counter<'channel' | 'reason'>;
  commitSeconds: Histogram;
  commitFailures: Counter;
  queuedWrites: Gauge;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    accepted: new Counter({
      name: 'cc_ingest_messages_total',
      help: 'Device messages validated and applied to the fleet, by channel.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    malformed: new Counter({
      name: 'cc_ingest_malformed_total',
      help: 'Device payloads dropped as malformed, by channel and reason.',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'cc_ingest_batch_commit_seconds',
      help: 'Time to commit one batch of ingest writes to the store.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    commitFailures: new Counter({
      name: 'cc_ingest_commit_failures_total',
      help: 'Batch commits that failed (each attempt, retries included).',
      registers: [registry],
    }),
    queuedWrites: new Gauge({
      name: 'cc_ingest_queued_writes',
      help: 'Messages whose writes wait to be committed.',
      registers: [registry],
    }),
  };
}
