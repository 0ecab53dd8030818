// What each simulated kind of device is: plausible models, consumable slots, alert codes and the
// operating points its telemetry moves between.

import type { AlertSeverity, DeviceKind } from '../domain/index.js';
import type { Prng } from './prng.js';

export interface ConsumableSpec {
  slot: string;
  type: string;
  /** Level points used per hour of printing (0 for consumables that do not deplete by use). */
  usePerHour: number;
}

export interface AlertSpec {
  code: string;
  severity: AlertSeverity;
  message: string;
}

export interface KindSpec {
  models: readonly string[];
  serialPrefix: string;
  label: string;
  /** Printers run jobs; the other kinds support them and report telemetry and consumables. */
  runsJobs: boolean;
  consumables: readonly ConsumableSpec[];
  alerts: readonly AlertSpec[];
}

export const KIND_SPECS: Record<DeviceKind, KindSpec> = {
  printer: {
    models: ['Fusion P5', 'Fusion P5 Pro', 'Fusion P3'],
    serialPrefix: 'FP',
    label: 'Printer',
    runsJobs: true,
    consumables: [
      { slot: 'agent-fusing', type: 'agent', usePerHour: 9 },
      { slot: 'agent-detailing', type: 'agent', usePerHour: 6 },
      { slot: 'printhead-1', type: 'printhead', usePerHour: 1.5 },
      { slot: 'material', type: 'material', usePerHour: 12 },
      { slot: 'filter', type: 'filter', usePerHour: 0.8 },
      { slot: 'lamp', type: 'lamp', usePerHour: 0.4 },
    ],
    alerts: [
      { code: 'DOOR_OPEN', severity: 'info', message: 'Front door opened' },
      { code: 'HUMIDITY_HIGH', severity: 'warning', message: 'Chamber humidity above 60 %' },
      { code: 'PRINTHEAD_NOZZLES', severity: 'warning', message: 'Printhead nozzle health low' },
      { code: 'BED_TEMP_DEVIATION', severity: 'error', message: 'Bed temperature out of range' },
    ],
  },
  'processing-station': {
    models: ['Process Station PS2', 'Process Station PS2+'],
    serialPrefix: 'PS',
    label: 'Station',
    runsJobs: false,
    consumables: [
      { slot: 'material-hopper', type: 'material', usePerHour: 0 },
      { slot: 'filter', type: 'filter', usePerHour: 0 },
    ],
    alerts: [
      { code: 'BATH_TEMP_LOW', severity: 'warning', message: 'Bath temperature below set point' },
      { code: 'SIEVE_CLOGGED', severity: 'warning', message: 'Sieve needs cleaning' },
    ],
  },
  'build-unit': {
    models: ['Build Unit BU4'],
    serialPrefix: 'BU',
    label: 'Build Unit',
    runsJobs: false,
    consumables: [{ slot: 'powder', type: 'material', usePerHour: 0 }],
    alerts: [{ code: 'LID_UNLOCKED', severity: 'info', message: 'Build unit lid unlocked' }],
  },
  'cooling-unit': {
    models: ['Cooling Unit CU1'],
    serialPrefix: 'CU',
    label: 'Cooling',
    runsJobs: false,
    consumables: [
      { slot: 'coolant', type: 'coolant', usePerHour: 0 },
      { slot: 'filter', type: 'filter', usePerHour: 0 },
    ],
    alerts: [
      { code: 'FLOW_LOW', severity: 'warning', message: 'Coolant flow below 6 l/min' },
      { code: 'PUMP_FAULT', severity: 'critical', message: 'Coolant pump not responding' },
    ],
  },
};

export const JOB_NAMES = [
  'Bracket housing',
  'Gear set v3',
  'Drone arm',
  'Manifold block',
  'Orthotic insoles',
  'Enclosure lid',
  'Gripper fingers',
  'Duct adapter',
  'Hinge pins',
  'Lattice test cube',
  'Sensor mount',
  'Cable clips',
] as const;

export const JOB_OWNERS = [
  'a.keller',
  'm.rossi',
  'j.chen',
  's.novak',
  'l.dubois',
  'k.tanaka',
  'r.silva',
  'e.larsen',
] as const;

export interface DeviceIdentity {
  model: string;
  serial: string;
  name: string;
  firmwareVersion: string;
}

export function deviceIdentity(id: string, kind: DeviceKind, prng: Prng): DeviceIdentity {
  const spec = KIND_SPECS[kind];
  const number = /(\d+)$/.exec(id)?.[1] ?? '1';
  const line = String.fromCharCode(65 + ((Number(number) - 1) % 4));
  return {
    model: prng.pick(spec.models),
    serial: `${spec.serialPrefix}${String(prng.int(10_000_000, 99_999_999))}`,
    name: `${spec.label} ${number} · Line ${line}`,
    firmwareVersion: `4.${prng.int(1, 3)}.${prng.int(0, 9)}`,
  };
}
