// A simulated fleet of Web-Services-only devices in its own process, so that serving them does not
// share the measured process's CPU time. Started by the poll benchmark over IPC: it answers with
// every device's URL and certificate fingerprint, counts requests, and stops when told.

import { silentLogger } from '../src/observability/index.js';
import { createSimulator } from '../src/simulator/index.js';

export interface FleetTask {
  devices: number;
  firstAddress: string;
  password: string;
}

export interface FleetReady {
  endpoints: Array<{ id: string; url: string; fingerprint256: string }>;
  startMs: number;
}

async function main(task: FleetTask): Promise<void> {
  const started = performance.now();
  const simulator = createSimulator({
    brokerUrl: 'mqtt://127.0.0.1:1',
    devices: Array.from({ length: task.devices }, (_, i) => ({
      id: `ws-${String(i).padStart(4, '0')}`,
      token: '',
      kind: 'printer' as const,
    })),
    channels: 'web-services',
    webServices: { firstAddress: task.firstAddress, port: 0, password: task.password },
    logger: silentLogger(),
    telemetryIntervalMs: 60_000,
    speed: 20,
    seed: 7,
  });
  await simulator.start();
  const endpoints = simulator.devices().map((d) => ({
    id: d.id,
    url: d.webServicesUrl ?? '',
    fingerprint256: d.certificateFingerprint ?? '',
  }));
  const ready: FleetReady = { endpoints, startMs: performance.now() - started };
  process.send?.(ready);
  process.once('message', () => {
    void simulator.stop().then(() => process.exit(0));
  });
}

process.once('message', (task: FleetTask) => {
  main(task).catch((err: unknown) => {
    process.send?.({ error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
