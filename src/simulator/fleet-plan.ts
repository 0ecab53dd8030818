// Plans a simulated fleet: how many devices of each kind, and their ids.

import type { DeviceKind } from '../domain/index.js';

export interface PlannedDevice {
  id: string;
  kind: DeviceKind;
}

const ID_PREFIX: Record<DeviceKind, string> = {
  printer: 'printer',
  'processing-station': 'station',
  'build-unit': 'build-unit',
  'cooling-unit': 'cooling',
};

/**
 * Half printers, the rest shared between processing stations, build units and cooling units, as on
 * a typical site (12 → 6 printers, 2 stations, 2 build units, 2 cooling units). The seed is kept in
 * the signature so plans may vary later without changing callers; today the plan depends on n only.
 */
export function planFleet(n: number, _seed: number): PlannedDevice[] {
  if (!Number.isInteger(n) || n < 0 || n > 9999) {
    throw new RangeError(`fleet size must be an integer from 0 to 9999, got ${n}`);
  }
  const printers = Math.ceil(n / 2);
  const rest = n - printers;
  const stations = Math.ceil(rest / 3);
  const buildUnits = Math.ceil((rest - stations) / 2);
  const cooling = rest - stations - buildUnits;
  const counts: [DeviceKind, number][] = [
    ['printer', printers],
    ['processing-station', stations],
    ['build-unit', buildUnits],
    ['cooling-unit', cooling],
  ];
  const width = Math.max(2, String(Math.max(printers, stations, buildUnits, cooling)).length);
  return counts.flatMap(([kind, count]) =>
    Array.from({ length: count }, (_, i) => ({
      id: `${ID_PREFIX[kind]}-${String(i + 1).padStart(width, '0')}`,
      kind,
    })),
  );
}

/** The kind a device id implies (`printer-03` → printer); printer when the id says nothing. */
export function kindFromId(id: string): DeviceKind {
  for (const [kind, prefix] of Object.entries(ID_PREFIX) as [DeviceKind, string][]) {
    if (id.startsWith(`${prefix}-`)) return kind;
  }
  return 'printer';
}
