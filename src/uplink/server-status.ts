// What a report says about the server itself: version, uptime, host name and addresses, and
// health read from the process, the file system of the data directory and the metrics registry.

import { statfs } from 'node:fs/promises';
import { loadavg, networkInterfaces } from 'node:os';
import type { Registry } from 'prom-client';
import type { ServerStatus } from './report/index.js';

export interface ServerStatusSources {
  version: string;
  startedAt: Date;
  hostName: string;
  dataDir: string;
  metrics: Registry;
  storeReady(): Promise<boolean>;
}

async function metricTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

function externalAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (!entry.internal) out.push(entry.address);
  }
  return out.slice(0, 16);
}

async function diskFree(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** A gatherer whose malformed-message count is the change since its previous call. */
export function createServerStatus(
  sources: ServerStatusSources,
): () => Promise<
  Omit<ServerStatus, 'health'> & { health: Omit<ServerStatus['health'], 'outboxPending'> }
> {
  let malformedBefore: number | null = null;
  return async () => {
    const [malformed, mqttClients, storeReady, diskFreeBytes] = await Promise.all([
      metricTotal(sources.metrics, 'cc_ingest_malformed_total'),
      metricTotal(sources.metrics, 'cc_mqtt_connected_clients'),
      sources.storeReady().catch(() => false),
      diskFree(sources.dataDir),
    ]);
    const malformedMessages = malformedBefore === null ? malformed : malformed - malformedBefore;
    malformedBefore = malformed;
    return {
      version: sources.version,
      runtime: process.version,
      uptimeSeconds: Math.round((Date.now() - sources.startedAt.getTime()) / 1000),
      hostName: sources.hostName,
      addresses: externalAddresses(),
      health: {
        storeReady,
        mqttClients,
        malformedMessages: Math.max(0, malformedMessages),
        rssBytes: process.memoryUsage.rss(),
        load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
        diskFreeBytes,
      },
    };
  };
}
