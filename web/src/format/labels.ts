// Words for the values the API sends: states, kinds, severities, metric names and units.

import type { AlertSeverity, DeviceKind, DeviceState, JobState } from '../api/types';

export const STATE_LABEL: Record<DeviceState, string> = {
  idle: 'Idle',
  printing: 'Printing',
  paused: 'Paused',
  error: 'Error',
  offline: 'Offline',
  maintenance: 'Maintenance',
  updating: 'Updating',
};

export const KIND_LABEL: Record<DeviceKind, string> = {
  printer: 'Printer',
  'processing-station': 'Processing station',
  'build-unit': 'Build unit',
  'cooling-unit': 'Cooling unit',
};

export const JOB_STATE_LABEL: Record<JobState, string> = {
  queued: 'Queued',
  printing: 'Printing',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const SEVERITY_LABEL: Record<AlertSeverity, string> = {
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  info: 'Info',
};

export const NO_SITE = 'No site';

export function siteLabel(siteId: string | null): string {
  return siteId ?? NO_SITE;
}

/** "chamberTemp" → "Chamber temp", "powerW" → "Power", "chamber.humidity" → "Chamber humidity". */
export function metricLabel(name: string): string {
  const base = name.replace(/W$/, '').replace(/Lpm$/, '');
  const words = base
    .replace(/[._]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The unit a metric name implies, by the conventions of the simulator and common devices. */
export function metricUnit(name: string): string {
  if (/temp/i.test(name)) return '°C';
  if (/humidity|level|percent/i.test(name)) return '%';
  if (/W$/.test(name)) return 'W';
  if (/Lpm$|flow/i.test(name)) return 'L/min';
  if (/pressure/i.test(name)) return 'bar';
  return '';
}

export function formatMetric(name: string, value: number): string {
  const unit = metricUnit(name);
  const digits = Math.abs(value) >= 100 ? 0 : 1;
  const text = value.toLocaleString(undefined, { maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}
