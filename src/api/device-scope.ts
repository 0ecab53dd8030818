// Site scope for everything that reads or acts on a device: a principal limited to some sites sees
// only devices in those sites. A device outside them answers exactly like a device that does not
// exist (404), so a scoped user or token learns nothing about other sites. Every route and the live
// stream go through these helpers; unscoped principals (sites: null) see every device, including
// devices with no site or with a site id no site has.

import { siteVisible, type Principal } from '../auth/index.js';
import { CcError, type FleetReader } from '../domain/index.js';
import type { Store } from '../store/index.js';

export interface DeviceScopeDeps {
  fleet: FleetReader;
  store: Pick<Store, 'devices' | 'registrations'>;
}

/** Whether `principal` may see a device of `device.siteId`. */
export function deviceVisible(principal: Principal, device: { siteId: string | null }): boolean {
  return siteVisible(principal.sites, device.siteId);
}

/**
 * A device's site: the live fleet's, else the stored device's, else its registration's; undefined
 * for a device known nowhere.
 */
export async function siteOfDevice(
  deps: DeviceScopeDeps,
  deviceId: string,
): Promise<string | null | undefined> {
  const live = deps.fleet.get(deviceId);
  if (live) return live.siteId;
  const stored = await deps.store.devices.get(deviceId);
  if (stored) return stored.siteId;
  const registration = await deps.store.registrations.get(deviceId);
  return registration ? registration.siteId : undefined;
}

/** Whether `principal` may see the device with this id (an unknown device only when unscoped). */
export async function deviceIdVisible(
  principal: Principal,
  deps: DeviceScopeDeps,
  deviceId: string,
): Promise<boolean> {
  if (principal.sites === null) return true;
  const siteId = await siteOfDevice(deps, deviceId);
  return siteId !== undefined && siteVisible(principal.sites, siteId);
}

/** Throws DEVICE_NOT_FOUND — the same answer as for a device that does not exist — when hidden. */
export async function assertDeviceVisible(
  principal: Principal,
  deps: DeviceScopeDeps,
  deviceId: string,
): Promise<void> {
  if (!(await deviceIdVisible(principal, deps, deviceId))) {
    throw new CcError('DEVICE_NOT_FOUND', `no device with id ${deviceId}`);
  }
}

/**
 * The devices a scoped principal may see, as a filter for history lists (jobs, alerts, commands);
 * undefined for an unscoped principal (no filter).
 */
export function visibleDeviceIds(principal: Principal, fleet: FleetReader): string[] | undefined {
  if (principal.sites === null) return undefined;
  return fleet
    .list()
    .filter((d) => deviceVisible(principal, d))
    .map((d) => d.id);
}
