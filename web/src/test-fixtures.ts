// Device views and alerts for the dashboard's unit and component tests.

import type { Alert, DeviceView, Job } from './api/types';

export function device(id: string, over: Partial<DeviceView> = {}): DeviceView {
  return {
    id,
    kind: 'printer',
    model: 'Fusion P5',
    serial: `SN-${id}`,
    name: `Printer ${id}`,
    siteId: null,
    firmwareVersion: '4.1.8',
    address: null,
    state: 'idle',
    lastSeenAt: '2025-03-01T12:00:00.000Z',
    stateAt: '2025-03-01T12:00:00.000Z',
    currentJob: null,
    consumables: [],
    openAlerts: [],
    metrics: {},
    ...over,
  };
}

export function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id,
    deviceId: 'p1',
    name: `Bracket ${id}`,
    owner: 'ana',
    state: 'printing',
    progress: 42.5,
    startedAt: '2025-03-01T11:00:00.000Z',
    estimatedEndAt: '2025-03-01T13:05:00.000Z',
    endedAt: null,
    layer: 410,
    layers: 960,
    materialUsedG: 120,
    updatedAt: '2025-03-01T12:00:00.000Z',
    ...over,
  };
}

export function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id,
    deviceId: 'p1',
    code: 'DOOR_OPEN',
    severity: 'warning',
    message: 'Front door open',
    raisedAt: '2025-03-01T11:58:00.000Z',
    clearedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    ...over,
  };
}
