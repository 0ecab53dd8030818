// How the terminal client shows the fleet to people: relative times, progress, ETA, low
// consumables, counts per state, the fleet table (coloured only when asked to), the fleet table
// (coloured only when asked to). Pure: the caller passes the clock and colour. The live changes
// `watch` prints are in fleet-changes.ts.

import {
  DEVICE_STATES,
  isFinalJobState,
  type Alert,
  type AlertSeverity,
  type Consumable,
  type DeviceState,
  type DeviceView,
  type Job,
} from '../domain/index.js';

export type Style =
  'bold' | 'dim' | 'red' | 'boldRed' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan';

const SGR: Record<Style, [string, string]> = {
  bold: ['1', '22'],
  dim: ['2', '22'],
  red: ['31', '39'],
  boldRed: ['1;31', '22;39'],
  green: ['32', '39'],
  yellow: ['33', '39'],
  blue: ['34', '39'],
  magenta: ['35', '39'],
  cyan: ['36', '39'],
};

export function paint(text: string, style: Style | null, color: boolean): string {
  if (!color || style === null || text === '') return text;
  const [on, off] = SGR[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** Colour on a terminal unless NO_COLOR (https://no-color.org) or TERM=dumb; FORCE_COLOR wins. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function stateStyle(state: DeviceState): Style | null {
  switch (state) {
    case 'idle':
      return 'cyan';
    case 'printing':
      return 'green';
    case 'paused':
      return 'yellow';
    case 'error':
      return 'boldRed';
    case 'offline':
      return 'dim';
    case 'maintenance':
      return 'magenta';
    case 'updating':
      return 'blue';
  }
}

export function severityStyle(severity: AlertSeverity): Style {
  switch (severity) {
    case 'info':
      return 'cyan';
    case 'warning':
      return 'yellow';
    case 'error':
      return 'red';
    case 'critical':
      return 'boldRed';
  }
}

/** "45 s", "12 min", "1 h 05 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "12 s ago", "5 min ago", "just now" (also for times a skewed clock puts ahead), "never". */
export function formatRelativeTime(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const ms = now - then;
  if (ms < 1000) return 'just now';
  const text = formatDuration(ms);
  // Past a day the hours are noise: "3 d ago".
  return `${ms >= 86_400_000 ? text.replace(/ \d+ h$/, '') : text} ago`;
}

/** Whole percent, never rounded up to 100 before the job is done. */
export function formatProgress(job: Job | null): string | null {
  if (job === null) return null;
  return `${Math.min(100, Math.max(0, Math.floor(job.progress)))}%`;
}

/** Time left of an unfinished job: "12 min", "due" once its estimated end has passed. */
export function formatEta(job: Job | null, now: number): string | null {
  if (job === null || isFinalJobState(job.state) || job.estimatedEndAt === null) return null;
  const end = Date.parse(job.estimatedEndAt);
  if (Number.isNaN(end)) return null;
  return end <= now ? 'due' : formatDuration(end - now);
}

function consumableLabel(c: Consumable): string {
  return c.status === 'low' ? `${c.slot} ${Math.round(c.level)}%` : `${c.slot} ${c.status}`;
}

/** The consumables that need attention: "agent-1 12%, filter empty", at most `max` then "+N". */
export function formatLowConsumables(consumables: Consumable[], max = 2): string | null {
  const low = consumables.filter((c) => c.status !== 'ok');
  if (low.length === 0) return null;
  const shown = low.slice(0, max).map(consumableLabel);
  return low.length > max ? `${shown.join(', ')} +${low.length - max}` : shown.join(', ');
}

export type StateCounts = Record<DeviceState, number>;

export function countStates(devices: readonly { state: DeviceState }[]): StateCounts {
  const counts = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as StateCounts;
  for (const d of devices) counts[d.state] += 1;
  return counts;
}

/** "12 devices: 5 printing, 4 idle, 1 error" — states in their canonical order, zeros left out. */
export function formatStateCounts(counts: StateCounts, color: boolean): string {
  const total = DEVICE_STATES.reduce((n, s) => n + counts[s], 0);
  const parts = DEVICE_STATES.filter((s) => counts[s] > 0).map(
    (s) => `${counts[s]} ${paint(s, stateStyle(s), color)}`,
  );
  const head = `${total} device${total === 1 ? '' : 's'}`;
  return parts.length === 0 ? head : `${head}: ${parts.join(', ')}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

interface Cell {
  text: string;
  style: Style | null;
}

const cell = (text: string | number | null, style: Style | null = null): Cell => ({
  text: text === null ? '-' : String(text),
  style: text === null ? null : style,
});

/** Columns padded to their widest cell, measured before colour so escape codes never misalign. */
function renderCells(headers: string[], rows: Cell[][], color: boolean): string {
  const all = [headers.map((h) => cell(h, 'bold')), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i]?.text.length ?? 0)));
  return all
    .map((r) =>
      r
        .map((c, i) => {
          const padded = i === r.length - 1 ? c.text : c.text.padEnd(widths[i] ?? 0);
          // Colour the text only, not the padding, so underlines and backgrounds stay tight.
          return paint(c.text, c.style, color) + padded.slice(c.text.length);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

function alertsCell(alerts: Alert[]): Cell {
  if (alerts.length === 0) return cell(0, null);
  const order: AlertSeverity[] = ['critical', 'error', 'warning', 'info'];
  const worst = order.find((s) => alerts.some((a) => a.severity === s)) ?? 'info';
  return cell(alerts.length, severityStyle(worst));
}

export interface FleetTableOptions {
  now: number;
  color: boolean;
}

/** The fleet as `command-center status` prints it; a SITE column when any device has a site. */
export function renderFleetTable(devices: DeviceView[], { now, color }: FleetTableOptions): string {
  const withSite = devices.some((d) => d.siteId !== null);
  const headers = [
    'ID',
    'NAME',
    'KIND',
    ...(withSite ? ['SITE'] : []),
    'STATE',
    'JOB',
    'PROGRESS',
    'ETA',
    'LOW CONSUMABLES',
    'ALERTS',
    'LAST SEEN',
  ];
  const rows = devices.map((d) => {
    const low = formatLowConsumables(d.consumables);
    const empty = d.consumables.some((c) => c.status === 'empty' || c.status === 'expired');
    const job = d.currentJob;
    return [
      cell(d.id),
      cell(truncate(d.name, 24)),
      cell(d.kind),
      ...(withSite ? [cell(d.siteId)] : []),
      cell(d.state, stateStyle(d.state)),
      cell(job === null ? null : truncate(job.name, 28)),
      cell(formatProgress(job)),
      cell(formatEta(job, now)),
      cell(low, empty ? 'red' : 'yellow'),
      alertsCell(d.openAlerts),
      cell(formatRelativeTime(d.lastSeenAt, now), d.state === 'offline' ? 'dim' : null),
    ];
  });
  return renderCells(headers, rows, color);
}

/** One thing that changed on one device, as `watch` prints it. */
