// Fleets for the report tests: realistic devices for sizes, and fleets whose every protected value
// is a recognizable marker, so a test can search the report for anything that should not be there.

import type { Alert, Consumable, DeviceView, Job } from '../../domain/index.js';
import type { ConsentCategory } from './report-fields.js';
import type { ReportInput, ServerStatus } from './report-types.js';

export const GENERATED_AT = new Date('2025-03-14T10:05:00.000Z');
export const WINDOW_START = new Date('2025-03-14T10:00:00.000Z');
export const TEST_KEY = Buffer.from(
  '7d1f0c9a4b2e8f3a6c5d0e1b2a3f4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d',
  'hex',
);

export function job(overrides: Partial<Job> & Pick<Job, 'id' | 'deviceId'>): Job {
  return {
    name: 'bracket-v14-batch3.3mf',
    owner: 'j.doe',
    state: 'printing',
    progress: 42.37,
    startedAt: '2025-03-14T08:00:00Z',
    estimatedEndAt: '2025-03-14T12:05:00Z',
    endedAt: null,
    layer: 1204,
    layers: 2870,
    materialUsedG: 1834.52,
    updatedAt: '2025-03-14T10:04:30Z',
    ...overrides,
  };
}

export function alert(overrides: Partial<Alert> & Pick<Alert, 'id' | 'deviceId'>): Alert {
  return {
    code: 'W-2104',
    severity: 'warning',
    message: 'Detailing agent below 20 %',
    raisedAt: '2025-03-14T09:41:12Z',
    clearedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    ...overrides,
  };
}

const PRINTER_SLOTS: readonly [string, string, number][] = [
  ['agent-fusing', 'agent', 64],
  ['agent-detailing', 'agent', 18.5],
  ['printhead-1', 'printhead', 91],
  ['printhead-2', 'printhead', 87],
  ['material', 'material', 45.2],
  ['filter', 'filter', 72],
];

function consumables(deviceId: string): Consumable[] {
  return PRINTER_SLOTS.map(([slot, type, level]) => ({
    deviceId,
    slot,
    type,
    level,
    status: level < 20 ? 'low' : 'ok',
    expiresAt: '2026-01-31T00:00:00Z',
    updatedAt: '2025-03-14T10:04:30Z',
  }));
}

export function device(overrides: Partial<DeviceView> & Pick<DeviceView, 'id'>): DeviceView {
  return {
    kind: 'printer',
    model: 'Jet Fusion 5200',
    serial: 'SG93K40000',
    name: 'Hall 2 printer',
    siteId: 'berlin-plant',
    firmwareVersion: '5.8.1.2301',
    address: 'https://10.20.30.40:8443',
    state: 'idle',
    lastSeenAt: '2025-03-14T10:04:48Z',
    stateAt: '2025-03-14T10:04:30Z',
    currentJob: null,
    consumables: consumables(overrides.id),
    openAlerts: [],
    metrics: { chamberTempC: { value: 171.5, ts: '2025-03-14T10:04:45Z' } },
    ...overrides,
  };
}

/** A printer as a busy site has many of: printing, six consumables, one open warning. */
export function realisticPrinter(i: number): DeviceView {
  const id = `hall2-printer-${i.toString().padStart(3, '0')}`;
  return device({
    id,
    serial: `SG93K4${i.toString().padStart(4, '0')}`,
    name: `Hall 2 Jet Fusion #${i}`,
    state: 'printing',
    currentJob: job({ id: `job-${i}-1`, deviceId: id }),
    openAlerts: [alert({ id: `alert-${i}-1`, deviceId: id })],
  });
}

export function server(overrides: Partial<ServerStatus> = {}): ServerStatus {
  return {
    version: '0.1.0',
    runtime: 'v20.20.0',
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
    ...overrides,
  };
}

/** Two finished jobs on each printer in the window, next to its current one. */
export function windowJobsOf(devices: readonly DeviceView[]): Job[] {
  return devices.flatMap((d) => [
    job({ id: `${d.id}-done-1`, deviceId: d.id, state: 'completed', progress: 100 }),
    job({ id: `${d.id}-done-2`, deviceId: d.id, state: 'completed', progress: 100 }),
  ]);
}

export function periodicInput(devices: readonly DeviceView[]): ReportInput {
  return {
    kind: 'periodic',
    generatedAt: GENERATED_AT,
    devices,
    jobs: { since: WINDOW_START, jobs: windowJobsOf(devices) },
    server: server(),
  };
}

/** Where a marker comes from: a consent category, or `never` for values no report carries. */
export type MarkerGroup = ConsentCategory | 'never';

export interface MarkerFleet {
  periodic: ReportInput;
  critical: ReportInput;
  markers: Record<MarkerGroup, string[]>;
}

/**
 * A fleet with every protected value supplied by `value(group, slot)`: device ids, names, sites
 * and addresses, job names and owners, alert messages and acknowledgers, the server's host name
 * and addresses, and the ids no report carries (jobs, alerts). Markers lists what was used.
 */
export function markerFleet(value: (group: MarkerGroup, slot: string) => string): MarkerFleet {
  const markers: Record<MarkerGroup, string[]> = {
    identity: [],
    production: [],
    labels: [],
    network: [],
    freeText: [],
    never: [],
  };
  const v = (group: MarkerGroup, slot: string): string => {
    const s = value(group, slot);
    markers[group].push(s);
    return s;
  };
  const devices: DeviceView[] = [];
  const windowJobs: Job[] = [];
  for (let i = 0; i < 3; i++) {
    const id = v('labels', `device-id-${i}`);
    devices.push(
      device({
        id,
        serial: `SN-${i}`,
        name: v('labels', `device-name-${i}`),
        siteId: v('labels', `site-${i}`),
        address: v('network', `device-address-${i}`),
        state: i === 0 ? 'error' : 'printing',
        currentJob: job({
          id: v('never', `job-id-${i}`),
          deviceId: id,
          name: v('production', `job-name-${i}`),
          owner: v('identity', `job-owner-${i}`),
        }),
        openAlerts: [
          alert({
            id: v('never', `alert-id-${i}`),
            deviceId: id,
            severity: i === 0 ? 'critical' : 'warning',
            message: v('freeText', `alert-message-${i}`),
            acknowledgedBy: v('identity', `alert-acker-${i}`),
            acknowledgedAt: '2025-03-14T09:50:00Z',
          }),
        ],
      }),
    );
    windowJobs.push(
      job({
        id: v('never', `window-job-id-${i}`),
        deviceId: id,
        name: v('never', `window-job-name-${i}`),
        owner: v('never', `window-job-owner-${i}`),
        state: 'failed',
      }),
    );
  }
  const base = {
    generatedAt: GENERATED_AT,
    devices,
    jobs: { since: WINDOW_START, jobs: windowJobs },
    server: server({
      hostName: v('network', 'server-host'),
      addresses: [v('network', 'server-address-0'), v('network', 'server-address-1')],
    }),
  };
  const first = devices[0];
  const trigger = first?.openAlerts[0];
  if (trigger === undefined) throw new Error('the marker fleet has an alert on its first device');
  return {
    periodic: { ...base, kind: 'periodic' },
    critical: { ...base, kind: 'critical', trigger },
    markers,
  };
}

/** Whether `value` appears in `json` (a JSON text), as JSON would escape it. */
export function appearsIn(json: string, value: string): boolean {
  return json.includes(JSON.stringify(value).slice(1, -1));
}
