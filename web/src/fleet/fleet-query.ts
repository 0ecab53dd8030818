// Filtering, searching, sorting and counting the fleet — pure functions the Fleet page and the
// wall display share, kept here so they are tested without a browser.

import type { AlertSeverity, Consumable, DeviceState, DeviceView } from '../api/types';
import { ALERT_SEVERITIES, DEVICE_STATES } from '../api/types';

export const SORTS = ['attention', 'name', 'state', 'lastSeen', 'progress'] as const;
export type FleetSort = (typeof SORTS)[number];

export const SORT_LABEL: Record<FleetSort, string> = {
  attention: 'Needs attention first',
  name: 'Name',
  state: 'State',
  lastSeen: 'Last seen',
  progress: 'Job progress',
};

export interface FleetQuery {
  site: string;
  kind: string;
  state: string;
  q: string;
  sort: FleetSort;
}

export const EMPTY_QUERY: FleetQuery = { site: '', kind: '', state: '', q: '', sort: 'attention' };

/** Site filter value for devices without a site. */
export const NO_SITE_VALUE = '-';

/** How urgently a state wants a person: lower is more urgent (DEVICE_STATES is in that order). */
export function stateRank(state: DeviceState): number {
  return DEVICE_STATES.indexOf(state);
}

export function severityRank(severity: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(severity);
}

/** The most severe open alert's severity, or null without open alerts. */
export function worstSeverity(device: DeviceView): AlertSeverity | null {
  let worst: AlertSeverity | null = null;
  for (const alert of device.openAlerts) {
    if (worst === null || severityRank(alert.severity) < severityRank(worst))
      worst = alert.severity;
  }
  return worst;
}

export function lowConsumables(device: DeviceView): Consumable[] {
  return device.consumables.filter((c) => c.status !== 'ok');
}

/** 0 = needs a person now … larger = fine; used by the "needs attention" sort and the wall. */
export function attentionScore(device: DeviceView): number {
  const worst = worstSeverity(device);
  const alertScore = worst === null ? 4 : severityRank(worst);
  const consumableScore = lowConsumables(device).length > 0 ? 0 : 1;
  return stateRank(device.state) * 10 + alertScore * 2 + consumableScore;
}

export function matchesSearch(device: DeviceView, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [device.id, device.name, device.model, device.serial, device.currentJob?.name ?? ''].some(
    (field) => field.toLowerCase().includes(needle),
  );
}

export function filterDevices(devices: DeviceView[], query: FleetQuery): DeviceView[] {
  return devices.filter(
    (d) =>
      (!query.site || (d.siteId ?? NO_SITE_VALUE) === query.site) &&
      (!query.kind || d.kind === query.kind) &&
      (!query.state || d.state === query.state) &&
      matchesSearch(d, query.q),
  );
}

const byName = (a: DeviceView, b: DeviceView): number =>
  (a.name || a.id).localeCompare(b.name || b.id, undefined, { numeric: true }) ||
  a.id.localeCompare(b.id);

export function sortDevices(devices: DeviceView[], sort: FleetSort): DeviceView[] {
  const list = [...devices];
  switch (sort) {
    case 'name':
      return list.sort(byName);
    case 'state':
      return list.sort((a, b) => stateRank(a.state) - stateRank(b.state) || byName(a, b));
    case 'attention':
      return list.sort((a, b) => attentionScore(a) - attentionScore(b) || byName(a, b));
    case 'lastSeen':
      return list.sort(
        (a, b) => (b.lastSeenAt ?? '').localeCompare(a.lastSeenAt ?? '') || byName(a, b),
      );
    case 'progress':
      return list.sort(
        (a, b) => (b.currentJob?.progress ?? -1) - (a.currentJob?.progress ?? -1) || byName(a, b),
      );
  }
}

export function countByState(devices: DeviceView[]): Record<DeviceState, number> {
  const counts = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Record<
    DeviceState,
    number
  >;
  for (const d of devices) counts[d.state] += 1;
  return counts;
}

/** Site ids present in the fleet, sorted, with NO_SITE_VALUE for devices without one. */
export function sitesOf(devices: DeviceView[]): string[] {
  const sites = new Set<string>();
  for (const d of devices) sites.add(d.siteId ?? NO_SITE_VALUE);
  return [...sites].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** Reads a query from URL search parameters, ignoring values it does not know. */
export function parseFleetQuery(search: string): FleetQuery {
  const params = new URLSearchParams(search);
  const sort = params.get('sort') ?? '';
  return {
    site: params.get('site') ?? '',
    kind: params.get('kind') ?? '',
    state: params.get('state') ?? '',
    q: params.get('q') ?? '',
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as FleetSort) : 'attention',
  };
}

export function fleetQueryToSearch(query: FleetQuery): string {
  const params = new URLSearchParams();
  if (query.site) params.set('site', query.site);
  if (query.kind) params.set('kind', query.kind);
  if (query.state) params.set('state', query.state);
  if (query.q) params.set('q', query.q);
  if (query.sort !== 'attention') params.set('sort', query.sort);
  const text = params.toString();
  return text ? `?${text}` : '';
}
