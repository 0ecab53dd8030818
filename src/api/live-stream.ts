// The live stream hub: sends each WebSocket client a snapshot of the fleet, then fleet changes.
// Device updates are coalesced per client (latest per device, flushed every coalesceMs); jobs and
// alerts are sent in order. A client that does not read falls behind only up to a bound: while
// its socket buffer is over the limit nothing more is written (pending device updates stay at one
// per device), and if it stays over for longer than a grace period it is disconnected.

import type { Principal } from '../auth/index.js';
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
  stats(): LiveStreamStats;
  stop(): void;
}

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
export const CLOSE_POLICY_VIOLATION = 1008;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Client {
  socket: StreamSocket;
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

  function onChange(change: FleetChange): void {
    const event = change.type === 'device' ? undefined : JSON.stringify(change);
    for (const client of clients) {
      if (change.type === 'device') {
        client.devices.set(change.device.id, change.device);
      } else if (event !== undefined) {
        // A removed device's pending update would otherwise follow its removal.
        if (change.type === 'device-removed') client.devices.delete(change.deviceId);
        client.events.push(event);
        if (client.events.length > maxQueued) closeSlow(client, 'event queue full');
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
        user: { username: principal.username, role: principal.role },
      }),
    );
    socket.send(JSON.stringify({ type: 'snapshot', devices: deps.fleet.list() }));
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
