// Which devices a rollout takes, in what order, and what to do with each when its turn comes: the
// selection (models, sites, device ids, narrowed to the creator's sites), compatibility with the
// package, and the canary group. Pure: the service looks the inputs up and stores the result.

import type { DeviceView } from '../../domain/index.js';
import type {
  FirmwarePackage,
  RolloutDevice,
  RolloutDeviceStatus,
  RolloutSelection,
} from '../../store/index.js';
import { compareVersions, isSemver } from '../semver.js';
import type { ExcludedDevice, RolloutCounts } from './rollout-types.js';

export interface PlanInput {
  rolloutId: string;
  pkg: FirmwarePackage;
  selection: RolloutSelection;
  canarySize: number;
  /** Sites the creator is limited to; null for every site. */
  scope: readonly string[] | null;
  /** Devices already held by another unfinished rollout, with that rollout's id. */
  busy: ReadonlyMap<string, string>;
  now: string;
}

export interface RolloutPlan {
  /** The selection as stored: its sites narrowed to the creator's scope. */
  selection: RolloutSelection;
  devices: RolloutDevice[];
  excluded: ExcludedDevice[];
  /** Device ids the selection names that the fleet does not have (or the creator cannot see). */
  unknown: string[];
  limitedToSites: string[] | null;
}

const byId = new Intl.Collator('en', { numeric: true });

/** Why a device cannot take this package, or null when it can. */
export function incompatibility(pkg: FirmwarePackage, device: DeviceView): string | null {
  if (!pkg.models.includes(device.model)) {
    return `model ${JSON.stringify(device.model)} is not one the package is for`;
  }
  const installed = device.firmwareVersion;
  if (installed === pkg.version) return `already on ${pkg.version}`;
  // A version the device reports that is not semver is left to the device's own check.
  if (!pkg.allowDowngrade && isSemver(installed) && compareVersions(installed, pkg.version) >= 0) {
    return `on ${installed}, not older than ${pkg.version} (the package allows no downgrade)`;
  }
  return null;
}

/** The selection with its sites narrowed to the scope, and the sites the scope limited it to. */
function scoped(
  selection: RolloutSelection,
  scope: readonly string[] | null,
): { selection: RolloutSelection; limitedToSites: string[] | null } {
  if (scope === null) return { selection, limitedToSites: null };
  const sites =
    selection.sites === undefined ? [...scope] : selection.sites.filter((s) => scope.includes(s));
  return { selection: { ...selection, sites }, limitedToSites: [...scope] };
}

function selected(selection: RolloutSelection, device: DeviceView): boolean {
  return (
    (selection.models === undefined || selection.models.includes(device.model)) &&
    (selection.sites === undefined ||
      (device.siteId !== null && selection.sites.includes(device.siteId))) &&
    (selection.devices === undefined || selection.devices.includes(device.id))
  );
}

/**
 * Plans a rollout over the live fleet. Taken devices are queued in a stable order (device id,
 * numbers compared as numbers), the first `canarySize` of them as the canary stage; devices that
 * are offline are taken but skipped, so the rollout shows them. Incompatible devices, and devices
 * another unfinished rollout holds, are not taken: they are listed in `excluded` with the reason.
 */
export function planRollout(input: PlanInput, fleet: readonly DeviceView[]): RolloutPlan {
  const { selection, limitedToSites } = scoped(input.selection, input.scope);
  const candidates = fleet
    .filter((d) => selected(selection, d))
    .sort((a, b) => byId.compare(a.id, b.id));
  const known = new Set(candidates.map((d) => d.id));
  const unknown = (selection.devices ?? []).filter((id) => !known.has(id));

  const excluded: ExcludedDevice[] = [];
  const queued: DeviceView[] = [];
  const offline: DeviceView[] = [];
  for (const device of candidates) {
    const reason = incompatibility(input.pkg, device);
    const holder = input.busy.get(device.id);
    if (reason !== null) excluded.push({ deviceId: device.id, reason });
    else if (holder !== undefined) {
      excluded.push({ deviceId: device.id, reason: `already in unfinished rollout ${holder}` });
    } else if (device.state === 'offline') offline.push(device);
    else queued.push(device);
  }

  const canary = Math.min(input.canarySize, queued.length);
  const member = (
    device: DeviceView,
    order: number,
    status: RolloutDeviceStatus,
    reason: string | null,
  ): RolloutDevice => ({
    rolloutId: input.rolloutId,
    deviceId: device.id,
    stage: order < canary ? 'canary' : 'rest',
    order,
    status,
    reason,
    fromVersion: device.firmwareVersion,
    toVersion: input.pkg.version,
    progress: null,
    updatedAt: input.now,
  });
  const devices = [
    ...queued.map((d, i) => member(d, i, 'queued', null)),
    ...offline.map((d, i) =>
      member(d, queued.length + i, 'skipped', 'offline when the rollout was created'),
    ),
  ];
  return { selection, devices, excluded, unknown, limitedToSites };
}

/** What to do with a queued device when its turn comes, judged on the live fleet. */
export type Turn =
  | { action: 'push'; fromVersion: string }
  | { action: 'skip'; reason: string }
  | { action: 'done'; reason: string };

export function judgeTurn(pkg: FirmwarePackage, device: DeviceView | undefined): Turn {
  if (device === undefined) return { action: 'skip', reason: 'no longer in the fleet' };
  if (device.state === 'offline') return { action: 'skip', reason: 'offline when its turn came' };
  // Updated meanwhile (by hand, or by this rollout before a restart): nothing left to do.
  if (device.firmwareVersion === pkg.version) {
    return { action: 'done', reason: `already on ${pkg.version}` };
  }
  const reason = incompatibility(pkg, device);
  if (reason !== null) return { action: 'skip', reason };
  return { action: 'push', fromVersion: device.firmwareVersion };
}

export const FINAL_DEVICE_STATUSES = ['done', 'failed', 'skipped'] as const;
export const IN_FLIGHT_DEVICE_STATUSES = ['transferring', 'verifying', 'installing'] as const;

export function isFinalStatus(status: RolloutDeviceStatus): boolean {
  return (FINAL_DEVICE_STATUSES as readonly string[]).includes(status);
}

export function isInFlightStatus(status: RolloutDeviceStatus): boolean {
  return (IN_FLIGHT_DEVICE_STATUSES as readonly string[]).includes(status);
}

export function countStatuses(devices: readonly RolloutDevice[]): RolloutCounts {
  const counts: RolloutCounts = {
    queued: 0,
    transferring: 0,
    verifying: 0,
    installing: 0,
    done: 0,
    failed: 0,
    skipped: 0,
  };
  for (const d of devices) counts[d.status] += 1;
  return counts;
}
