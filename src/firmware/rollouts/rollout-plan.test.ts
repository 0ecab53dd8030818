// Planning a rollout: which selected devices it takes, why it leaves the others, the order and
// canary group, the creator's site scope, and the decision when a device's turn comes.

import { describe, expect, it } from 'vitest';
import type { DeviceView } from '../../domain/index.js';
import type { FirmwarePackage } from '../../store/index.js';
import { catalogPackage, fleetDevice } from './rollout-test-harness.js';
import {
  countStatuses,
  incompatibility,
  judgeTurn,
  planRollout,
  type PlanInput,
} from './rollout-plan.js';

const NOW = '2026-06-01T00:00:00.000Z';

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    rolloutId: 'r1',
    pkg: catalogPackage(),
    selection: {},
    canarySize: 1,
    scope: null,
    busy: new Map(),
    now: NOW,
    ...over,
  };
}

describe('incompatibility', () => {
  const table: [string, Partial<DeviceView>, Partial<FirmwarePackage>, RegExp | null][] = [
    ['an older version of a listed model', {}, {}, null],
    ['a model the package is not for', { model: 'Fusion P3' }, {}, /model "Fusion P3" is not/],
    ['the same version', { firmwareVersion: '4.3.0' }, {}, /already on 4\.3\.0/],
    ['a newer version', { firmwareVersion: '4.10.0' }, {}, /not older than 4\.3\.0/],
    [
      'a newer version, downgrade allowed',
      { firmwareVersion: '5.0.0' },
      { allowDowngrade: true },
      null,
    ],
    ['the release after its pre-release', { firmwareVersion: '4.3.0-rc.1' }, {}, null],
    ['a version that is not semver (left to the device)', { firmwareVersion: 'v9' }, {}, null],
  ];
  it.each(table)('%s', (_name, device, pkg, expected) => {
    const reason = incompatibility(catalogPackage(pkg), fleetDevice('p1', device));
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });
});

describe('planRollout', () => {
  const fleet = [
    fleetDevice('p10'),
    fleetDevice('p2'),
    fleetDevice('p1'),
    fleetDevice('p3', { state: 'offline' }),
    fleetDevice('p4', { model: 'Fusion P3' }),
    fleetDevice('p5', { firmwareVersion: '4.3.0' }),
    fleetDevice('p6', { siteId: 'hall-b', model: 'Fusion P5 Pro' }),
    fleetDevice('p7', { state: 'printing' }),
  ];

  it('takes compatible devices in id order, canary first, offline ones skipped at the end', () => {
    const plan = planRollout(input({ canarySize: 2 }), fleet);
    expect(plan.devices.map((d) => [d.deviceId, d.stage, d.order, d.status])).toEqual([
      ['p1', 'canary', 0, 'queued'],
      ['p2', 'canary', 1, 'queued'],
      ['p6', 'rest', 2, 'queued'],
      ['p7', 'rest', 3, 'queued'],
      ['p10', 'rest', 4, 'queued'],
      ['p3', 'rest', 5, 'skipped'],
    ]);
    expect(plan.devices.find((d) => d.deviceId === 'p3')?.reason).toBe(
      'offline when the rollout was created',
    );
    expect(plan.devices.every((d) => d.toVersion === '4.3.0' && d.fromVersion === '4.2.0')).toBe(
      true,
    );
    expect(plan.excluded).toEqual([
      { deviceId: 'p4', reason: 'model "Fusion P3" is not one the package is for' },
      { deviceId: 'p5', reason: 'already on 4.3.0' },
    ]);
    expect(plan.unknown).toEqual([]);
    expect(plan.limitedToSites).toBeNull();
  });

  it('selects by models, sites and device ids together', () => {
    const bySite = planRollout(input({ selection: { sites: ['hall-b'] } }), fleet);
    expect(bySite.devices.map((d) => d.deviceId)).toEqual(['p6']);
    const byModel = planRollout(input({ selection: { models: ['Fusion P5 Pro'] } }), fleet);
    expect(byModel.devices.map((d) => d.deviceId)).toEqual(['p6']);
    const byIds = planRollout(
      input({ selection: { devices: ['p2', 'p10', 'nope'], sites: ['hall-a'] } }),
      fleet,
    );
    expect(byIds.devices.map((d) => d.deviceId)).toEqual(['p2', 'p10']);
    expect(byIds.unknown).toEqual(['nope']);
  });

  it('narrows the selection to the creator’s sites and says so', () => {
    const plan = planRollout(input({ scope: ['hall-b'] }), fleet);
    expect(plan.devices.map((d) => d.deviceId)).toEqual(['p6']);
    expect(plan.selection.sites).toEqual(['hall-b']);
    expect(plan.limitedToSites).toEqual(['hall-b']);
    const outside = planRollout(
      input({ scope: ['hall-b'], selection: { sites: ['hall-a', 'hall-b'], devices: ['p1'] } }),
      fleet,
    );
    expect(outside.selection.sites).toEqual(['hall-b']);
    // A device outside the scope is as unknown as a device that does not exist.
    expect(outside.unknown).toEqual(['p1']);
  });

  it('leaves out devices another unfinished rollout holds', () => {
    const plan = planRollout(input({ busy: new Map([['p2', 'r0']]) }), fleet);
    expect(plan.devices.map((d) => d.deviceId)).not.toContain('p2');
    expect(plan.excluded).toContainEqual({
      deviceId: 'p2',
      reason: 'already in unfinished rollout r0',
    });
  });

  it('makes the whole canary group of fewer devices than asked', () => {
    const plan = planRollout(
      input({ canarySize: 50, selection: { devices: ['p1', 'p2'] } }),
      fleet,
    );
    expect(plan.devices.map((d) => d.stage)).toEqual(['canary', 'canary']);
    expect(countStatuses(plan.devices)).toMatchObject({ queued: 2, skipped: 0 });
  });
});

describe('judgeTurn', () => {
  const pkg = catalogPackage();
  it.each([
    ['gone', undefined, { action: 'skip', reason: 'no longer in the fleet' }],
    [
      'offline',
      fleetDevice('p1', { state: 'offline' }),
      { action: 'skip', reason: 'offline when its turn came' },
    ],
    [
      'updated meanwhile',
      fleetDevice('p1', { firmwareVersion: '4.3.0' }),
      { action: 'done', reason: 'already on 4.3.0' },
    ],
    [
      'moved to a newer version',
      fleetDevice('p1', { firmwareVersion: '4.4.0' }),
      {
        action: 'skip',
        reason: 'on 4.4.0, not older than 4.3.0 (the package allows no downgrade)',
      },
    ],
    ['ready', fleetDevice('p1'), { action: 'push', fromVersion: '4.2.0' }],
  ])('%s', (_name, device, expected) => {
    expect(judgeTurn(pkg, device)).toEqual(expected);
  });
});
