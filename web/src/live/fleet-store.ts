// The live fleet in the browser: device views by id, kept current by stream messages. Listeners
// are told at most once per animation frame however many messages arrived, so a fleet of 500
// devices updating every 250 ms costs one render per frame, not one per message.

import type { Alert, DeviceView, Job, StreamMessage } from '../api/types';

export type FleetEvent =
  | { type: 'job'; job: Job }
  | { type: 'alert'; alert: Alert }
  | { type: 'command'; command: Extract<StreamMessage, { type: 'command' }>['command'] };

export type Scheduler = (fn: () => void) => void;

/** requestAnimationFrame, falling back to a timer where there is none (tests, hidden tabs). */
export const frameScheduler: Scheduler = (fn) => {
  if (typeof requestAnimationFrame === 'function' && document.visibilityState !== 'hidden') {
    requestAnimationFrame(() => fn());
  } else {
    setTimeout(fn, 100);
  }
};

/** An alert's change applied to a device's open alerts: updated, added, or removed when cleared. */
export function withAlert(device: DeviceView, alert: Alert): DeviceView {
  const others = device.openAlerts.filter((a) => a.id !== alert.id);
  const openAlerts = alert.clearedAt === null ? [...others, alert] : others;
  openAlerts.sort((a, b) => a.raisedAt.localeCompare(b.raisedAt));
  return { ...device, openAlerts };
}

export class FleetStore {
  readonly devices = new Map<string, DeviceView>();
  /** Bumped on every change, so views can tell whether to render again. */
  version = 0;
  /** False until the stream's first snapshot. */
  ready = false;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: FleetEvent) => void>();
  private pending = false;

  constructor(private readonly schedule: Scheduler = frameScheduler) {}

  apply(message: StreamMessage): void {
    switch (message.type) {
      case 'hello':
        return;
      case 'snapshot':
        this.devices.clear();
        for (const device of message.devices) this.devices.set(device.id, device);
        this.ready = true;
        break;
      case 'device':
        this.devices.set(message.device.id, message.device);
        break;
      case 'device-removed':
        this.devices.delete(message.deviceId);
        break;
      case 'job':
        this.emit({ type: 'job', job: message.job });
        return;
      case 'alert': {
        const device = this.devices.get(message.alert.deviceId);
        // The device's own update follows, but the acknowledgement should show at once.
        if (device) this.devices.set(device.id, withAlert(device, message.alert));
        this.emit({ type: 'alert', alert: message.alert });
        break;
      }
      case 'command':
        this.emit({ type: 'command', command: message.command });
        return;
    }
    this.changed();
  }

  /** Replaces one device from an API answer (e.g. after an action), if it is newer. */
  put(device: DeviceView): void {
    this.devices.set(device.id, device);
    this.changed();
  }

  list(): DeviceView[] {
    return [...this.devices.values()];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onEvent(listener: (event: FleetEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  reset(): void {
    this.devices.clear();
    this.ready = false;
    this.changed();
  }

  private emit(event: FleetEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  private changed(): void {
    this.version += 1;
    if (this.pending) return;
    this.pending = true;
    this.schedule(() => {
      this.pending = false;
      for (const listener of this.listeners) listener();
    });
  }
}
