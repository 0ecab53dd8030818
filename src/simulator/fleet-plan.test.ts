import { describe, expect, it } from 'vitest';
import { isValidDeviceId } from '../domain/index.js';
import { kindFromId, planFleet } from './fleet-plan.js';

function countKinds(n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of planFleet(n, 1)) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
  return counts;
}

describe('fleet plan', () => {
  it('plans 12 devices as 6 printers, 2 stations, 2 build units and 2 cooling units', () => {
    expect(countKinds(12)).toEqual({
      printer: 6,
      'processing-station': 2,
      'build-unit': 2,
      'cooling-unit': 2,
    });
    expect(planFleet(12, 1).map((d) => d.id)).toContain('printer-01');
    expect(planFleet(12, 1).map((d) => d.id)).toContain('cooling-02');
  });

  it('plans 4 devices with one of each kind', () => {
    expect(planFleet(4, 7)).toEqual([
      { id: 'printer-01', kind: 'printer' },
      { id: 'printer-02', kind: 'printer' },
      { id: 'station-01', kind: 'processing-station' },
      { id: 'build-unit-01', kind: 'build-unit' },
    ]);
  });

  it.each([0, 1, 5, 13, 100, 1000])('plans exactly %i valid, unique ids', (n) => {
    const plan = planFleet(n, 3);
    expect(plan).toHaveLength(n);
    expect(new Set(plan.map((d) => d.id)).size).toBe(n);
    expect(plan.every((d) => isValidDeviceId(d.id) && kindFromId(d.id) === d.kind)).toBe(true);
  });

  it.each([-1, 1.5, Number.NaN, 10_000])('refuses a fleet size of %s', (n) => {
    expect(() => planFleet(n, 1)).toThrow(RangeError);
  });
});
