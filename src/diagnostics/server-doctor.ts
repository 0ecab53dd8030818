// The doctor's options inside a running server: its configured endpoints and proxy, its own port
// ranges (the ports it holds count as ours), its data directory, broker and database.

import { resolveProxy, type ProxyChoice } from '../uplink/sender/index.js';
import type { DoctorSettings } from './doctor-settings.js';
import { runDeadlineMs } from './doctor-settings.js';
import type { PortRangeToCheck } from './local-checks.js';
import type { DoctorOptions } from './run-doctor.js';

export interface ServerDoctorInput {
  settings: DoctorSettings;
  proxy: ProxyChoice;
  /** Extra trusted CA (the uplink's), or null. */
  ca: string | null;
  bindHost: string;
  ranges: PortRangeToCheck[];
  /** Ports this server holds now. */
  ours: readonly number[];
  /** The broker's plain MQTT port. */
  mqttPort: number;
  dataDir: string;
  minFreeBytes: number;
  database: () => Promise<string>;
}

/** The address to reach a listener bound to `bindHost` from this machine. */
export function loopbackFor(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return '127.0.0.1';
  if (bindHost === '::') return '::1';
  return bindHost;
}

export function serverDoctorOptions(input: ServerDoctorInput): DoctorOptions {
  const { settings } = input;
  return {
    endpoints: settings.endpoints,
    proxy: input.proxy,
    timeoutMs: settings.timeoutMs,
    totalDeadlineMs: runDeadlineMs(settings.timeoutMs),
    ...(input.ca !== null ? { ca: input.ca } : {}),
    local: {
      ports: { host: input.bindHost, ranges: input.ranges, ours: new Set(input.ours) },
      disks: [{ subject: 'data directory (database, outbox)', dir: input.dataDir }],
      minFreeBytes: input.minFreeBytes,
      broker: { host: loopbackFor(input.bindHost), port: input.mqttPort },
      database: input.database,
      clock: settings.endpoints.some((e) => e.kind === 'https'),
      ...(settings.bandwidth !== null ? { bandwidth: settings.bandwidth } : {}),
    },
  };
}

/** The proxy the first endpoint's traffic takes, for display: scheme and host only. */
export function proxyLabelOf(settings: DoctorSettings, proxy: ProxyChoice): string | null {
  const first = settings.endpoints[0];
  if (first === undefined) return null;
  try {
    const url = resolveProxy(
      new URL(
        `https://${first.host.includes(':') ? `[${first.host}]` : first.host}:${String(first.port)}/`,
      ),
      proxy,
    );
    return url === null ? null : `${url.protocol}//${url.host}`;
  } catch {
    return 'invalid proxy setting';
  }
}
