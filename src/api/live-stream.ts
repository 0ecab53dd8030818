// The live stream hub: sends each WebSocket client a snapshot of the fleet, then fleet changes.
// Device updates are coalesced per client (latest per device, flushed every coalesceMs); jobs and
// alerts are sent in order. A client that does not read falls behind only up to a bound: while
// its socket buffer is over the limit nothing more is written (pending device updates stay at one
// per device), and if it stays over for longer than a grace period it is disconnected.
// A site-scoped client sees only devices of its sites (and their jobs, alerts and commands); a
// device that leaves its scope is sent to it as removed. Connections of a user whose access changed
// (disabled, deleted, new role or sites, sessions ended) are closed, so they reconnect with the
// access they have now.

import type { Principal } from '../auth/index.js';
import { deviceVisible } from './device-scope.js';
import type { DeviceView, FleetChange, FleetReader } from '../domain/index.js';
import type { Logger, Registry } from '../observability/index.js';
import { Counter, Gauge } from '../observability/index.js';

/** What the hub needs of a WebSocket (the `ws` library's socket satisfies it). */
export interface StreamSocket {
  readonly readyState: number;
  readonly OPEN: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'pong' | 'close', listener: () => void): unknown;
}

export interface LiveStreamOptions {
  coalesceMs: number;
  maxBufferedBytes: number;
  /** How long a client may stay over maxBufferedBytes before it is disconnected. */
  slowClientGraceMs?: number;
  heartbeatMs?: number;
  /** Most job/alert events queued for one client before it counts as too slow. */
  maxQueuedEvents?: number;
}

export interface LiveStreamDeps {
  fleet: FleetReader;
  onChange: (listener: (change: FleetChange) => void) => () => void;
  logger: Logger;
  metrics: Registry;
  version: string;
}

export interface LiveStreamStats {
  clients: number;
  /** Device updates waiting, summed over clients (at most clients × fleet size). */
  pendingDevices: number;
  queuedEvents: number;
  slowDisconnects: number;
}

export interface LiveStream {
  start(): void;
  attach(socket: StreamSocket, principal: Principal): void;
  /** Closes every connection of the user (their access changed); returns how many. */
  closeUser(userId: string): number;
  stats(): LiveStreamStats;
  stop(): void;
}

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
export const CLOSE_POLICY_VIOLATION = 1008;
export const ACCESS_CHANGED_REASON = 'access changed';
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Client {
  socket: StreamSocket;
  principal: Principal;
  /** For a scoped client: the devices it was shown (to tell it when one leaves its scope). */
  shown: Set<string> | null;
  devices: Map<string, DeviceView>;
  events: string[];
  overSince: number | null;
  alive: boolean;
  expiry: NodeJS.Timeout | undefined;
}

export function createLiveStream(deps: LiveStreamDeps, options: LiveStreamOptions): LiveStream {
  const { logger } = deps;
  const grace = options.slowClientGraceMs ?? 5000;
  const maxQueued = options.maxQueuedEvents ?? 10_000;
  const clients = new Set<Client>();
  // One serialization per device view, however many clients receive it.
  const serialized = new WeakMap<DeviceView, string>();
  let slowDisconnects = 0;
  let unsubscribe: (() => void) | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  const gauge = new Gauge({
    name: 'cc_stream_clients',
    help: 'Connected live-stream WebSocket clients',
    registers: [deps.metrics],
  });
  const slowCounter = new Counter({
    name: 'cc_stream_slow_disconnects_total',
    help: 'Live-stream clients disconnected for not reading fast enough',
    registers: [deps.metrics],
  });

  function deviceMessage(device: DeviceView): string {
    let text = serialized.get(device);
    if (text === undefined) {
      text = JSON.stringify({ type: 'device', device });
      serialized.set(device, text);
    }
    return text;
  }

  function drop(client: Client): void {
    if (!clients.delete(client)) return;
    clearTimeout(client.expiry);
    client.devices.clear();
    client.events.length = 0;
    gauge.set(clients.size);
  }

  function closeSlow(client: Client, reason: string): void {
    drop(client);
    slowDisconnects += 1;
    slowCounter.inc();
    logger.warn({ reason }, 'live-stream client disconnected: too slow');
    client.socket.close(CLOSE_TRY_AGAIN_LATER, 'client too slow');
    // The close frame may never get through a full buffer: do not wait for the client.
    setTimeout(() => client.socket.terminate(), 1000).unref();
  }

  function deviceOf(change: FleetChange): string {
    switch (change.type) {
      case 'device':
        return change.device.id;
      case 'device-removed':
        return change.deviceId;
      case 'job':
        return change.job.deviceId;
      case 'alert':
        return change.alert.deviceId;
      case 'command':
        return change.command.deviceId;
    }
  }

  function push(client: Client, event: string): void {
    client.events.push(event);
    if (client.events.length > maxQueued) closeSlow(client, 'event queue full');
  }

  /** What a scoped client is told of a change: the change, a removal, or nothing. */
  function scopedChange(client: Client, change: FleetChange): FleetChange | null {
    const shown = client.shown;
    if (shown === null) return change;
    const deviceId = deviceOf(change);
    if (change.type === 'device-removed') {
      return shown.delete(deviceId) ? change : null;
    }
    const device = change.type === 'device' ? change.device : deps.fleet.get(deviceId);
    if (device && deviceVisible(client.principal, device)) {
      shown.add(deviceId);
      return change;
    }
    // Moved out of the client's sites: gone, as far as this client is concerned.
    client.devices.delete(deviceId);
    return shown.delete(deviceId) ? { type: 'device-removed', deviceId } : null;
  }

  function onChange(change: FleetChange): void {
    const event = change.type === 'device' ? undefined : JSON.stringify(change);
    for (const client of clients) {
      const seen = scopedChange(client, change);
      if (seen === null) continue;
      if (seen.type === 'device') {
        client.devices.set(seen.device.id, seen.device);
      } else {
        // A removed device's pending update would otherwise follow its removal.
        if (seen.type === 'device-removed') client.devices.delete(seen.deviceId);
        push(client, seen === change && event !== undefined ? event : JSON.stringify(seen));
      }
    }
  }

  function flush(client: Client, now: number): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.devices.size === 0 && client.events.length === 0) return;
    if (client.socket.bufferedAmount > options.maxBufferedBytes) {
      client.overSince ??= now;
      if (now - client.overSince > grace) closeSlow(client, 'buffer over limit');
      return;
    }
    client.overSince = null;
    for (const event of client.events) client.socket.send(event);
    client.events.length = 0;
    for (const device of client.devices.values()) client.socket.send(deviceMessage(device));
    client.devices.clear();
  }

  function heartbeat(): void {
    for (const client of clients) {
      if (!client.alive) {
        drop(client);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  function attach(socket: StreamSocket, principal: Principal): void {
    const client: Client = {
      socket,
      principal,
      shown: principal.sites === null ? null : new Set(),
      devices: new Map(),
      events: [],
      overSince: null,
      alive: true,
      expiry: undefined,
    };
    clients.add(client);
    gauge.set(clients.size);
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => drop(client));
    // Clients have nothing to say on this stream; incoming messages are ignored.
    if (principal.expiresAt !== null) {
      const ms = Math.min(MAX_TIMER_MS, Math.max(0, Date.parse(principal.expiresAt) - Date.now()));
      client.expiry = setTimeout(() => {
        drop(client);
        socket.close(CLOSE_POLICY_VIOLATION, 'credentials expired');
      }, ms);
      client.expiry.unref();
    }
    socket.send(
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        version: deps.version,
        serverTime: new Date().toISOString(),
        coalesceMs: options.coalesceMs,
        user: { username: principal.username, role: principal.role, sites: principal.sites },
      }),
    );
    const devices = deps.fleet.list().filter((d) => deviceVisible(principal, d));
    for (const d of devices) client.shown?.add(d.id);
    socket.send(JSON.stringify({ type: 'snapshot', devices }));
  }

  function closeUser(userId: string): number {
    let closed = 0;
    for (const client of [...clients]) {
      if (client.principal.userId !== userId) continue;
      drop(client);
      client.socket.close(CLOSE_POLICY_VIOLATION, ACCESS_CHANGED_REASON);
      closed += 1;
    }
    return closed;
  }

  return {
    start() {
      unsubscribe ??= deps.onChange(onChange);
      flushTimer ??= setInterval(() => {
        const now = Date.now();
        for (const client of clients) flush(client, now);
      }, options.coalesceMs);
      heartbeatTimer ??= setInterval(heartbeat, options.heartbeatMs ?? 30_000);
    },
    attach,
    closeUser,
    stats() {
      let pendingDevices = 0;
      let queuedEvents = 0;
      for (const c of clients) {
        pendingDevices += c.devices.size;
        queuedEvents += c.events.length;
      }
      return { clients: clients.size, pendingDevices, queuedEvents, slowDisconnects };
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      clearInterval(flushTimer);
      clearInterval(heartbeatTimer);
      flushTimer = heartbeatTimer = undefined;
      for (const client of [...clients]) {
        drop(client);
        client.socket.close(1001, 'server shutting down');
      }
    },
  };
}
