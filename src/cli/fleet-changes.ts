// What `watch` prints: one line per live change of the fleet (state transitions, job milestones,
// alerts, low consumables, commands), from the stream's snapshots and events. Pure.

import {
  type Alert,
  type Consumable,
  type ConsumableStatus,
  type DeviceCommand,
  type DeviceView,
  type Job,
  type JobState,
} from '../domain/index.js';
import { paint, stateStyle, severityStyle, formatProgress, type Style } from './fleet-format.js';

export interface ChangeLine {
  deviceId: string;
  text: string;
  style: Style | null;
}

/** "14:03:07", local time. */
export function formatClock(at: Date): string {
  return [at.getHours(), at.getMinutes(), at.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** "14:03:07  printer-01      state idle → printing". */
export function formatChangeLine(at: Date, line: ChangeLine, color: boolean): string {
  const text = paint(line.text, line.style, color);
  return `${paint(formatClock(at), 'dim', color)}  ${line.deviceId.padEnd(14)}  ${text}`;
}

const MILESTONE = 25;
/** How many finished jobs and cleared alerts are remembered, so late repeats stay quiet. */
const MEMORY = 5000;

interface KnownJob {
  name: string;
  state: JobState;
  milestone: number;
}

interface KnownAlert {
  deviceId: string;
  code: string;
  cleared: boolean;
  acknowledged: boolean;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MEMORY) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}

const percent = (job: Job): string => formatProgress(job) ?? '';
const milestoneOf = (job: Job): number => Math.floor(job.progress / MILESTONE) * MILESTONE;

function consumableChange(c: Consumable, before: ConsumableStatus | undefined): ChangeLine | null {
  if (before === c.status || (before === undefined && c.status === 'ok')) return null;
  const what = `${c.slot} (${c.type})`;
  switch (c.status) {
    case 'ok':
      return {
        deviceId: c.deviceId,
        text: `${what} ok again, ${Math.round(c.level)}%`,
        style: 'green',
      };
    case 'low':
      return {
        deviceId: c.deviceId,
        text: `${what} low, ${Math.round(c.level)}%`,
        style: 'yellow',
      };
    case 'empty':
    case 'expired':
      return { deviceId: c.deviceId, text: `${what} ${c.status}`, style: 'red' };
  }
}

/**
 * Turns the live stream's full device views and events into what changed: state transitions, job
 * starts, ends and progress milestones (every 25 %), alerts raised, cleared and acknowledged,
 * consumables running low, command results. Device views repeat what job and alert events said
 * (and fill in what a reconnect missed); what was already said is not said again.
 */
export class ChangeTracker {
  private readonly devices = new Map<string, DeviceView>();
  private readonly jobs = new Map<string, KnownJob>();
  private readonly alerts = new Map<string, KnownAlert>();
  private readonly consumables = new Map<string, ConsumableStatus>();
  private primed = false;

  /** The first snapshot is the starting point; a later one (after a reconnect) is compared. */
  snapshot(devices: DeviceView[]): ChangeLine[] {
    const quiet = !this.primed;
    this.primed = true;
    const lines: ChangeLine[] = [];
    const present = new Set(devices.map((d) => d.id));
    for (const id of [...this.devices.keys()])
      if (!present.has(id)) lines.push(...this.removed(id));
    for (const d of devices) {
      const said = this.device(d);
      if (!quiet) lines.push(...said);
    }
    return lines;
  }

  device(view: DeviceView): ChangeLine[] {
    const lines: ChangeLine[] = [];
    const say = (text: string, style: Style | null = null): void => {
      lines.push({ deviceId: view.id, text, style });
    };
    const before = this.devices.get(view.id);
    if (before === undefined) {
      say(`new ${view.kind} "${view.name}", ${view.state}`, stateStyle(view.state));
    } else {
      if (before.state !== view.state) {
        say(`state ${before.state} → ${view.state}`, stateStyle(view.state));
      }
      if (before.name !== view.name) say(`renamed "${before.name}" → "${view.name}"`);
      if (before.siteId !== view.siteId) say(`moved to site ${view.siteId ?? '(none)'}`);
      if (before.firmwareVersion !== view.firmwareVersion) {
        say(`firmware ${before.firmwareVersion} → ${view.firmwareVersion}`);
      }
    }
    this.devices.set(view.id, view);
    if (view.currentJob !== null) lines.push(...this.job(view.currentJob));
    for (const c of view.consumables) {
      const key = `${c.deviceId}\u0000${c.slot}`;
      const change = consumableChange(c, this.consumables.get(key));
      this.consumables.set(key, c.status);
      if (change !== null) lines.push(change);
    }
    const open = new Set(view.openAlerts.map((a) => a.id));
    for (const a of view.openAlerts) lines.push(...this.alert(a));
    // An alert that left the open list was cleared, even when its own event was missed.
    for (const a of before?.openAlerts ?? []) {
      const known = this.alerts.get(a.id);
      if (open.has(a.id) || known === undefined || known.cleared) continue;
      remember(this.alerts, a.id, { ...known, cleared: true });
      say(`alert ${known.code} cleared`, 'green');
    }
    return lines;
  }

  job(job: Job): ChangeLine[] {
    const known = this.jobs.get(job.id);
    const milestone = milestoneOf(job);
    remember(this.jobs, job.id, { name: job.name, state: job.state, milestone });
    const say = (text: string, style: Style | null = null): ChangeLine[] => [
      { deviceId: job.deviceId, text: `job "${job.name}" ${text}`, style },
    ];
    if (known !== undefined && known.state === job.state) {
      return job.state === 'printing' && milestone > known.milestone && milestone < 100
        ? say(percent(job))
        : [];
    }
    switch (job.state) {
      case 'queued':
        return say('queued');
      case 'printing':
        if (known?.state === 'paused') return say(`resumed at ${percent(job)}`, 'green');
        return known === undefined && job.progress >= 1
          ? say(`printing, ${percent(job)}`, 'green')
          : say('started', 'green');
      case 'paused':
        return say(`paused at ${percent(job)}`, 'yellow');
      case 'completed':
        return say('completed', 'green');
      case 'failed':
        return say(`failed at ${percent(job)}`, 'red');
      case 'cancelled':
        return say(`cancelled at ${percent(job)}`, 'yellow');
    }
  }

  alert(alert: Alert): ChangeLine[] {
    const known = this.alerts.get(alert.id);
    const cleared = alert.clearedAt !== null;
    const acknowledged = alert.acknowledgedBy !== null;
    remember(this.alerts, alert.id, {
      deviceId: alert.deviceId,
      code: alert.code,
      cleared: cleared || known?.cleared === true,
      acknowledged: acknowledged || known?.acknowledged === true,
    });
    const lines: ChangeLine[] = [];
    const say = (text: string, style: Style | null): void => {
      lines.push({ deviceId: alert.deviceId, text, style });
    };
    if (known === undefined && !cleared) {
      say(
        `alert raised: ${alert.severity} ${alert.code} — ${alert.message}`,
        severityStyle(alert.severity),
      );
    }
    if (acknowledged && known?.acknowledged !== true) {
      say(`alert ${alert.code} acknowledged by ${alert.acknowledgedBy ?? '-'}`, null);
    }
    if (cleared && known?.cleared !== true && !(known === undefined && acknowledged)) {
      say(`alert ${alert.code} cleared`, 'green');
    }
    return lines;
  }

  command(command: DeviceCommand): ChangeLine[] {
    const target =
      command.action === 'acknowledge'
        ? `alert ${this.alerts.get(command.targetId)?.code ?? command.targetId}`
        : `job "${this.jobs.get(command.targetId)?.name ?? command.targetId}"`;
    const what = `${command.action} ${target}`;
    const reason = command.message === null ? '' : ` — ${command.message}`;
    const say = (text: string, style: Style | null): ChangeLine[] => [
      { deviceId: command.deviceId, text, style },
    ];
    switch (command.status) {
      case 'pending':
        return say(`${what} requested by ${command.requestedBy} via ${command.channel}`, null);
      case 'accepted':
        return say(`${what}: accepted${reason}`, 'green');
      case 'rejected':
        return say(`${what}: rejected${reason}`, 'yellow');
      case 'timed-out':
        return say(`${what}: timed out`, 'yellow');
      case 'failed':
        return say(`${what}: failed${reason}`, 'red');
    }
  }

  removed(deviceId: string): ChangeLine[] {
    if (!this.devices.delete(deviceId)) return [];
    return [{ deviceId, text: 'removed from the fleet', style: 'dim' }];
  }
}
