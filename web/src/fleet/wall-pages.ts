// The wall display's rotation: one screen per site (devices without a site together), long sites
// split into pages, devices needing attention first so a problem is always on a site's first page.

import type { DeviceView } from '../api/types';
import { sortDevices } from './fleet-query';

export interface WallScreen {
  siteId: string | null;
  page: number;
  pages: number;
  devices: DeviceView[];
  /** Every device of the site, for its counts. */
  siteDevices: DeviceView[];
}

export function wallScreens(devices: DeviceView[], perPage: number): WallScreen[] {
  const bySite = new Map<string | null, DeviceView[]>();
  for (const d of devices) {
    const list = bySite.get(d.siteId) ?? [];
    list.push(d);
    bySite.set(d.siteId, list);
  }
  const sites = [...bySite.keys()].sort((a, b) =>
    a === null ? 1 : b === null ? -1 : a.localeCompare(b, undefined, { numeric: true }),
  );
  const screens: WallScreen[] = [];
  for (const siteId of sites) {
    const siteDevices = sortDevices(bySite.get(siteId) ?? [], 'attention');
    const pages = Math.max(1, Math.ceil(siteDevices.length / perPage));
    for (let page = 0; page < pages; page += 1) {
      screens.push({
        siteId,
        page,
        pages,
        devices: siteDevices.slice(page * perPage, (page + 1) * perPage),
        siteDevices,
      });
    }
  }
  return screens;
}
