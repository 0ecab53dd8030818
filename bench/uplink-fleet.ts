// The fleet the uplink benchmark reports on: busy printers as a large site has them — each printing
// a job, six consumables, one or two open alerts, two finished jobs in the window — with values
// that differ from device to device (names, owners, levels, ages), as a real fleet's do.

import type { Alert, Consumable, DeviceView, Job } from '../src/domain/index.js';
import type { ReportInput, ServerStatus } from '../src/uplink/report/index.js';

export const GENERATED_AT = new Date('2025-03-14T10:05:00.000Z');
const WINDOW_START = new Date('2025-03-14T10:00:00.000Z');
const NOW_MS = GENERATED_AT.getTime();

const PARTS = ['bracket', 'housing', 'clip', 'gear', 'manifold', 'hinge', 'duct', 'lattice'];
const OWNERS = ['j.doe', 'a.meyer', 'k.nguyen', 's.rossi', 'm.kowalski', 'l.garcia', 'p.novak'];
const FIRMWARE = ['5.8.1.2301', '5.8.2.2318', '5.9.0.2402'];
const SLOTS: readonly [string, string][] = [
  ['agent-fusing', 'agent'],
  ['agent-detailing', 'agent'],
  ['printhead-1', 'printhead'],
  ['printhead-2', 'printhead'],
  ['material', 'material'],
  ['filter', 'filter'],
];
const ALERTS: readonly [string, Alert['severity'], string][] = [
  ['W-2104', 'warning', 'Detailing agent below 20 %'],
  ['W-3310', 'warning', 'Printhead 2 nozzle health degraded, service recommended'],
  ['E-4021', 'error', 'Build unit door opened during print'],
  ['I-1007', 'info', 'Filter change due within 50 hours'],
];

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A deterministic spread of values in [0, 1): the same fleet on every run. */
function spread(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

function pick<T>(list: readonly T[], i: number, salt: number): T {
  return list[Math.floor(spread(i, salt) * list.length)] ?? (list[0] as T);
}

function job(i: number, deviceId: string, n: number, state: Job['state']): Job {
  const layers = 1500 + Math.floor(spread(i, n + 1) * 2000);
  const progress = state === 'printing' ? Math.round(spread(i, n + 2) * 10_000) / 100 : 100;
  return {
    id: `${deviceId}-job-${n}`,
    deviceId,
    name: `${pick(PARTS, i, n + 3)}-v${1 + (i % 23)}-batch${n}.3mf`,
    owner: pick(OWNERS, i, n + 4),
    state,
    progress,
    startedAt: iso(NOW_MS - (2 + n) * 3_600_000),
    estimatedEndAt: iso(NOW_MS + Math.floor(spread(i, n + 5) * 4 * 3_600_000)),
    endedAt: state === 'printing' ? null : iso(NOW_MS - Math.floor(spread(i, n + 6) * 280_000)),
    layer: Math.floor((layers * progress) / 100),
    layers,
    materialUsedG: Math.round(spread(i, n + 7) * 300_000) / 100,
    updatedAt: iso(NOW_MS - Math.floor(spread(i, n + 8) * 30_000)),
  };
}

function consumables(i: number, deviceId: string): Consumable[] {
  return SLOTS.map(([slot, type], s) => {
    const level = Math.round(spread(i, 20 + s) * 1000) / 10;
    return {
      deviceId,
      slot,
      type,
      level,
      status: level < 5 ? 'empty' : level < 20 ? 'low' : 'ok',
      expiresAt: '2026-01-31T00:00:00Z',
      updatedAt: iso(NOW_MS - 30_000),
    };
  });
}

function alerts(i: number, deviceId: string): Alert[] {
  const count = 1 + (i % 2);
  return Array.from({ length: count }, (_, a) => {
    const [code, severity, message] = pick(ALERTS, i, 30 + a);
    const acked = spread(i, 40 + a) < 0.4;
    return {
      id: `${deviceId}-alert-${a}`,
      deviceId,
      code,
      severity,
      message,
      raisedAt: iso(NOW_MS - Math.floor(spread(i, 50 + a) * 86_400_000)),
      clearedAt: null,
      acknowledgedBy: acked ? pick(OWNERS, i, 60 + a) : null,
      acknowledgedAt: acked ? iso(NOW_MS - 60_000) : null,
    };
  });
}

function busyPrinter(i: number): DeviceView {
  const hall = 1 + (i % 4);
  const id = `hall${hall}-printer-${i.toString().padStart(5, '0')}`;
  return {
    id,
    kind: 'printer',
    model: 'Jet Fusion 5200',
    serial: `SG93K${i.toString().padStart(5, '0')}`,
    name: `Hall ${hall} Jet Fusion #${i}`,
    siteId: 'berlin-plant',
    firmwareVersion: pick(FIRMWARE, i, 9),
    address: `https://10.20.${(i >> 8) & 255}.${i & 255}:8443`,
    state: 'printing',
    lastSeenAt: iso(NOW_MS - Math.floor(spread(i, 10) * 15_000)),
    stateAt: iso(NOW_MS - 3_600_000),
    currentJob: job(i, id, 0, 'printing'),
    consumables: consumables(i, id),
    openAlerts: alerts(i, id),
    metrics: { chamberTempC: { value: 171.5, ts: iso(NOW_MS - 15_000) } },
  };
}

function server(): ServerStatus {
  return {
    version: '0.1.0',
    runtime: process.version,
    uptimeSeconds: 86_400.7,
    hostName: 'cc01.plant.local',
    addresses: ['10.20.0.5', 'fd00::5'],
    health: {
      storeReady: true,
      mqttClients: 42,
      malformedMessages: 0,
      outboxPending: 0,
      rssBytes: 187_432_960,
      load1: 0.4217,
      diskFreeBytes: 52_428_800_000,
    },
  };
}

/** The periodic report's input for a fleet of `devices` busy printers. */
export function periodicInput(devices: number): ReportInput {
  const printers = Array.from({ length: devices }, (_, i) => busyPrinter(i + 1));
  return {
    kind: 'periodic',
    generatedAt: GENERATED_AT,
    devices: printers,
    jobs: {
      since: WINDOW_START,
      jobs: printers.flatMap((d, i) => [
        job(i + 1, d.id, 1, 'completed'),
        job(i + 1, d.id, 2, (i + 1) % 7 === 0 ? 'failed' : 'completed'),
      ]),
    },
    server: server(),
  };
}
