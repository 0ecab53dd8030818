// The Web Services poller: reads every pinned device's status, alerts, consumables and recent jobs
// over HTTPS and merges them into fleet state beside MQTT (newest device time wins).
//
// - Adaptive interval: fast while a device is busy (printing, paused, updating), slow when idle,
//   each stretched or shrunk by a random jitter so a thousand devices never poll in lock-step.
// - Bounded concurrency: due devices wait in a queue; at most `pollConcurrency` polls run at once.
//   The wait is measured as poll lag.
// - Unreachable devices back off exponentially (capped); a changed certificate stops polling the
//   device and tells the registry, which raises an alert until an admin approves it.
// - Liveness: a device heard from on no channel for `offlineAfterMs` is marked offline.

import { setMaxListeners } from 'node:events';
import type { AppConfig } from '../config/index.js';
import {
  isCcError,
  parseIso,
  toIso,
  type DeviceState,
  type FleetReader,
  type StateMessage,
} from '../domain/index.js';
import type { Logger, Registry } from '../observability/index.js';
import { createPollerMetrics } from './poller-metrics.js';
import type { DeviceRegistry, FleetPort, PollControl } from './registry.js';
import type { WsClient } from './ws-client.js';

export type PollerConfig = Pick<
  AppConfig['devices'],
  | 'pollActiveMs'
  | 'pollIdleMs'
  | 'pollJitterPercent'
  | 'pollConcurrency'
  | 'backoffMaxMs'
  | 'offlineAfterMs'
>;

export interface PollerDeps {
  registry: Pick<DeviceRegistry, 'endpoint' | 'pollable' | 'reportMismatch'>;
  client: WsClient;
  fleet: FleetPort & { reader: FleetReader };
  logger: Logger;
  metrics: Registry;
  now?: () => number;
  random?: () => number;
}

export interface PollerStats {
  scheduled: number;
  running: number;
  queued: number;
  polls: number;
  failures: number;
}

export interface Poller extends PollControl {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Polls a device now (e.g. right after a command), outside its schedule. */
  pollNow(deviceId: string): Promise<void>;
  stats(): PollerStats;
}

interface Identity {
  kind: StateMessage['kind'];
  model: string;
  serial: string;
}

interface Tracked {
  id: string;
  timer: NodeJS.Timeout | undefined;
  /** When the poll was due (for lag); null when not queued. */
  dueAt: number | null;
  running: Promise<void> | null;
  failures: number;
  identity: Identity | null;
  /** Device time of the last jobs answer: the next asks only for what changed since. */
  jobsSince: string | null;
  /** Last outcome logged, so a failing device logs when it changes, not on every poll. */
  lastError: string | null;
}

const BUSY: ReadonlySet<DeviceState> = new Set(['printing', 'paused', 'updating']);

function unboundedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export function createPoller(deps: PollerDeps, config: PollerConfig): Poller {
  const { client, registry, fleet } = deps;
  const log = deps.logger;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const metrics = createPollerMetrics(deps.metrics);
  const tracked = new Map<string, Tracked>();
  const queue: Tracked[] = [];
  let running = 0;
  let polls = 0;
  let failures = 0;
  let stopped = true;
  // One signal aborts every request in flight at stop; each request listens to it.
  let abort = unboundedController();
  let livenessTimer: NodeJS.Timeout | undefined;

  function jitter(ms: number): number {
    const spread = config.pollJitterPercent / 100;
    return Math.max(1, Math.round(ms * (1 + (random() * 2 - 1) * spread)));
  }

  function nextDelay(t: Tracked, state: DeviceState | null): number {
    if (t.failures > 0) {
      const backoff = config.pollActiveMs * 2 ** Math.min(t.failures - 1, 30);
      return jitter(Math.min(config.backoffMaxMs, backoff));
    }
    return jitter(state !== null && BUSY.has(state) ? config.pollActiveMs : config.pollIdleMs);
  }

  function arm(t: Tracked, delayMs: number): void {
    clearTimeout(t.timer);
    if (stopped || !tracked.has(t.id)) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      enqueue(t);
    }, delayMs);
  }

  function enqueue(t: Tracked): void {
    if (stopped || t.dueAt !== null || t.running !== null) return;
    t.dueAt = now();
    queue.push(t);
    metrics.queued.set(queue.length);
    drain();
  }

  function drain(): void {
    while (!stopped && running < config.pollConcurrency && queue.length > 0) {
      const t = queue.shift();
      if (t === undefined) break;
      metrics.queued.set(queue.length);
      if (!tracked.has(t.id)) continue;
      metrics.lagSeconds.observe(Math.max(0, now() - (t.dueAt ?? now())) / 1000);
      t.dueAt = null;
      void run(t);
    }
  }

  function run(t: Tracked): Promise<void> {
    running += 1;
    metrics.running.set(running);
    const started = now();
    const p = pollOnce(t)
      .then((state) => {
        if (state !== 'stop') arm(t, nextDelay(t, state));
      })
      .catch((err: unknown) => {
        // pollOnce handles device errors; anything here is a bug or the store failing.
        log.error({ err, deviceId: t.id }, 'device poll failed unexpectedly');
        t.failures += 1;
        arm(t, nextDelay(t, null));
      })
      .finally(() => {
        metrics.durationSeconds.observe((now() - started) / 1000);
        t.running = null;
        running -= 1;
        metrics.running.set(running);
        drain();
      });
    t.running = p;
    return p;
  }

  async function identityOf(t: Tracked, endpoint: Parameters<WsClient['status']>[0]) {
    if (t.identity !== null) return t.identity;
    const known = fleet.reader.get(t.id);
    const id = known ?? (await client.identity(endpoint, abort.signal));
    if (known === undefined && id.id !== t.id) {
      throw new Error(`the device at ${endpoint.baseUrl} now answers as ${id.id}, not ${t.id}`);
    }
    t.identity = { kind: id.kind, model: id.model, serial: id.serial };
    return t.identity;
  }

  /** One poll; resolves with the device's state (null when unknown) or 'stop'. */
  async function pollOnce(t: Tracked): Promise<DeviceState | null | 'stop'> {
    const endpoint = await registry.endpoint(t.id);
    if (endpoint === undefined) {
      untrack(t.id);
      return 'stop';
    }
    polls += 1;
    try {
      const identity = await identityOf(t, endpoint);
      const signal = abort.signal;
      const [status, consumables, alerts, jobs] = await Promise.all([
        client.status(endpoint, signal),
        client.consumables(endpoint, signal),
        client.alerts(endpoint, signal),
        client.jobs(endpoint, t.jobsSince, signal),
      ]);
      const receivedAt = toIso(now());
      const msg: StateMessage = {
        ts: status.ts,
        ...identity,
        name: status.name,
        firmwareVersion: status.firmwareVersion,
        state: status.state,
        job: status.job,
        consumables: consumables.consumables,
        alerts: alerts.alerts,
      };
      await fleet.mutate((f) => [
        f.applyState(t.id, msg, receivedAt),
        ...jobs.jobs.map((job) =>
          f.applyEvent(t.id, { type: 'job.updated', ts: jobs.ts, job }, receivedAt),
        ),
      ]);
      t.jobsSince = jobs.ts;
      if (t.lastError !== null) log.info({ deviceId: t.id }, 'device answers again');
      t.failures = 0;
      t.lastError = null;
      metrics.polls.inc({ outcome: 'ok' });
      return status.state;
    } catch (err) {
      if (stopped) return 'stop';
      const code = isCcError(err) ? err.code : 'ERROR';
      metrics.polls.inc({ outcome: code });
      // The device answered but the disk is full: the answer is dropped (counted above, logged once
      // by the storage monitor) and the next poll, on the usual schedule, brings it again.
      if (code === 'STORAGE_FULL') return null;
      failures += 1;
      if (code === 'DEVICE_CERTIFICATE_MISMATCH') {
        const presented = await client
          .probe(endpoint.baseUrl)
          .then((p) => p.fingerprint256)
          .catch(() => undefined);
        if (presented !== undefined && presented !== endpoint.fingerprint256) {
          await registry.reportMismatch(t.id, presented);
          untrack(t.id);
          return 'stop';
        }
      }
      t.failures += 1;
      const message = err instanceof Error ? err.message : String(err);
      if (t.lastError !== code) {
        log.warn({ deviceId: t.id, code, err: message }, 'device poll failed; backing off');
      }
      t.lastError = code;
      return null;
    }
  }

  function untrack(deviceId: string): void {
    const t = tracked.get(deviceId);
    if (t === undefined) return;
    clearTimeout(t.timer);
    tracked.delete(deviceId);
    const i = queue.indexOf(t);
    if (i >= 0) queue.splice(i, 1);
    metrics.scheduled.set(tracked.size);
  }

  function track(deviceId: string, firstDelayMs: number): void {
    let t = tracked.get(deviceId);
    if (t === undefined) {
      t = {
        id: deviceId,
        timer: undefined,
        dueAt: null,
        running: null,
        failures: 0,
        identity: null,
        jobsSince: null,
        lastError: null,
      };
      tracked.set(deviceId, t);
      metrics.scheduled.set(tracked.size);
    } else {
      // Re-approved or re-credentialed: start afresh.
      t.failures = 0;
      t.identity = null;
    }
    if (t.running === null && t.dueAt === null) arm(t, firstDelayMs);
  }

  function sweepLiveness(): void {
    const limit = now() - config.offlineAfterMs;
    const silent: string[] = [];
    for (const device of fleet.reader.list()) {
      if (device.state === 'offline') continue;
      const seen = device.lastSeenAt === null ? null : parseIso(device.lastSeenAt);
      if (seen === null || seen < limit) silent.push(device.id);
    }
    if (silent.length === 0) return;
    fleet
      .mutate((f) => silent.map((id) => f.markOffline(id)))
      .catch((err: unknown) => log.error({ err }, 'cannot mark silent devices offline'));
  }

  return {
    async start() {
      stopped = false;
      abort = unboundedController();
      const ids = await deps.registry.pollable();
      // Spread the first polls over one busy interval instead of all at once.
      for (const id of ids) track(id, Math.floor(random() * config.pollActiveMs));
      const every = Math.max(250, Math.min(5000, Math.floor(config.offlineAfterMs / 4)));
      livenessTimer = setInterval(sweepLiveness, every);
      log.info({ devices: ids.length }, 'device poller started');
    },
    async stop() {
      stopped = true;
      clearInterval(livenessTimer);
      abort.abort();
      for (const t of tracked.values()) clearTimeout(t.timer);
      queue.length = 0;
      await Promise.allSettled(
        [...tracked.values()].flatMap((t) => (t.running === null ? [] : [t.running])),
      );
      tracked.clear();
    },
    schedule(deviceId) {
      if (stopped) return;
      track(deviceId, 0);
    },
    unschedule(deviceId) {
      untrack(deviceId);
    },
    async pollNow(deviceId) {
      const t = tracked.get(deviceId);
      if (t === undefined || stopped) return;
      if (t.running !== null) await t.running;
      clearTimeout(t.timer);
      const i = queue.indexOf(t);
      if (i >= 0) queue.splice(i, 1);
      t.dueAt = null;
      await run(t);
    },
    stats() {
      return { scheduled: tracked.size, running, queued: queue.length, polls, failures };
    },
  };
}
