import { describe, expect, it } from 'vitest';
import { alert, device, job } from '../test-fixtures';
import {
  EMPTY_QUERY,
  countByState,
  filterDevices,
  fleetQueryToSearch,
  lowConsumables,
  parseFleetQuery,
  sitesOf,
  sortDevices,
  worstSeverity,
} from './fleet-query';

const fleet = [
  device('printer-10', {
    name: 'Printer 10',
    state: 'printing',
    siteId: 'plant-a',
    currentJob: job('j1', { progress: 80 }),
  }),
  device('printer-2', { name: 'Printer 2', state: 'error', siteId: 'plant-b' }),
  device('cooling-1', {
    name: 'Cooler',
    kind: 'cooling-unit',
    state: 'idle',
    model: 'CU1',
    serial: 'XZ-77',
  }),
  device('printer-3', {
    name: 'Printer 3',
    state: 'idle',
    siteId: 'plant-a',
    openAlerts: [alert('a1', { severity: 'critical' })],
  }),
];

describe('fleet query', () => {
  it('filters by site, kind, state and a search over id, name, model, serial and job', () => {
    expect(filterDevices(fleet, { ...EMPTY_QUERY, site: 'plant-a' }).map((d) => d.id)).toEqual([
      'printer-10',
      'printer-3',
    ]);
    expect(filterDevices(fleet, { ...EMPTY_QUERY, site: '-' }).map((d) => d.id)).toEqual([
      'cooling-1',
    ]);
    expect(filterDevices(fleet, { ...EMPTY_QUERY, kind: 'cooling-unit' })).toHaveLength(1);
    expect(filterDevices(fleet, { ...EMPTY_QUERY, state: 'error' }).map((d) => d.id)).toEqual([
      'printer-2',
    ]);
    expect(filterDevices(fleet, { ...EMPTY_QUERY, q: 'xz-7' }).map((d) => d.id)).toEqual([
      'cooling-1',
    ]);
    expect(filterDevices(fleet, { ...EMPTY_QUERY, q: 'BRACKET' }).map((d) => d.id)).toEqual([
      'printer-10',
    ]);
  });

  it('sorts names naturally and puts what needs a person first', () => {
    expect(sortDevices(fleet, 'name').map((d) => d.name)).toEqual([
      'Cooler',
      'Printer 2',
      'Printer 3',
      'Printer 10',
    ]);
    expect(sortDevices(fleet, 'attention').map((d) => d.id)).toEqual([
      'printer-2',
      'printer-10',
      'printer-3',
      'cooling-1',
    ]);
    expect(sortDevices(fleet, 'progress')[0]?.id).toBe('printer-10');
  });

  it('counts every state, zero included', () => {
    expect(countByState(fleet)).toEqual({
      error: 1,
      offline: 0,
      paused: 0,
      maintenance: 0,
      updating: 0,
      printing: 1,
      idle: 2,
    });
  });

  it('finds sites, the worst open alert and low consumables', () => {
    expect(sitesOf(fleet)).toEqual(['-', 'plant-a', 'plant-b']);
    expect(worstSeverity(fleet[3]!)).toBe('critical');
    expect(worstSeverity(fleet[0]!)).toBeNull();
    const d = device('x', {
      consumables: [
        {
          deviceId: 'x',
          slot: 'a',
          type: 'agent',
          level: 9,
          status: 'low',
          expiresAt: null,
          updatedAt: '',
        },
        {
          deviceId: 'x',
          slot: 'b',
          type: 'agent',
          level: 90,
          status: 'ok',
          expiresAt: null,
          updatedAt: '',
        },
      ],
    });
    expect(lowConsumables(d).map((c) => c.slot)).toEqual(['a']);
  });

  it('round-trips through the URL and ignores unknown sorts', () => {
    const query = {
      site: 'plant-a',
      kind: 'printer',
      state: 'idle',
      q: 'line 2',
      sort: 'name' as const,
    };
    expect(parseFleetQuery(fleetQueryToSearch(query))).toEqual(query);
    expect(fleetQueryToSearch(EMPTY_QUERY)).toBe('');
    expect(parseFleetQuery('?sort=bogus').sort).toBe('attention');
  });
});
