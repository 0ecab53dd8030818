// Delivers the outbox to the cloud, oldest report first, one connection per report: at a
// controlled rate while it drains after an outage, and with exponential backoff and jitter while
// the cloud, the proxy or the network is away. What the cloud answered decides each report's fate:
// accepted (or already held) → removed; refused for good (replayed, malformed) → removed and
// counted; anything transient → kept, first in line, for the next attempt.

import type { Logger } from '../observability/index.js';
import type { OutboxItem, Store } from '../store/index.js';
import { cloudUrl } from './enrollment.js';
import type { Outbox, SendOutcome } from './outbox.js';
import { describeSendFailure, failureKind } from './send-failure.js';
import { postJson, type SendPolicy, type SendResult } from './sender/index.js';

export interface DeliverySettings {
  drainPerMinute: number;
  backoffMaxSeconds: number;
  /** First retry delay; doubles per failure up to backoffMaxSeconds. */
  backoffBaseMs: number;
}

/** What the cloud may ask for in an answer (DESIGN §4.4; docs/protocols/cloud-uplink.md). */
export interface CloudAnswer {
  settings?: { reportIntervalSeconds?: number };
  requests?: Array<{ id: string; kind: string }>;
}

export interface DeliveryDeps {
  outbox: Outbox;
  store: Pick<Store, 'uplink'>;
  logger: Logger;
  /** The cloud base URL of the current enrollment; null when not enrolled. */
  endpoint(): string | null;
  policy(): SendPolicy;
  onAnswer(answer: CloudAnswer): void;
  metrics?: { attempt(outcome: string): void };
  now?: () => number;
  random?: () => number;
}

export interface DeliveryState {
  consecutiveFailures: number;
  /** When the next attempt is due after failures; null when not backing off. */
  retryAt: string | null;
  lastDelivered: { seq: number; at: string; via: 'direct' | 'proxy' } | null;
}

export interface Delivery {
  /** Starts a drain now, or as soon as the current one ends; `force` skips a pending backoff. */
  kick(force?: boolean): void;
  /** Resolves when no drain is running (tests and shutdown). */
  idle(): Promise<void>;
  state(): DeliveryState;
  /** Forgets failures, the pending retry and the last delivery (a new or no enrollment). */
  reset(): void;
  stop(): Promise<void>;
}

const ACCEPTED = new Set([200, 201, 202]);
const MAX_REQUESTS = 8;

/** The parts of an accepting answer the server acts on; anything malformed is ignored. */
export function parseCloudAnswer(body: unknown): CloudAnswer {
  if (typeof body !== 'object' || body === null) return {};
  const { settings, requests } = body as { settings?: unknown; requests?: unknown };
  const answer: CloudAnswer = {};
  const interval = (settings as { reportIntervalSeconds?: unknown } | null | undefined)
    ?.reportIntervalSeconds;
  if (typeof interval === 'number' && Number.isSafeInteger(interval) && interval > 0) {
    answer.settings = { reportIntervalSeconds: interval };
  }
  if (Array.isArray(requests)) {
    answer.requests = requests
      .slice(0, MAX_REQUESTS)
      .filter(
        (r): r is { id: string; kind: string } =>
          typeof (r as { id?: unknown } | null)?.id === 'string' &&
          typeof (r as { kind?: unknown }).kind === 'string',
      )
      .map((r) => ({ id: r.id.slice(0, 64), kind: r.kind.slice(0, 32) }));
  }
  return answer;
}

function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | null)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** Waits `ms`, or less if `signal` aborts; leaves no listener behind either way. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createDelivery(deps: DeliveryDeps, settings: DeliverySettings): Delivery {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const paceMs = Math.ceil(60_000 / settings.drainPerMinute);
  let failures = 0;
  /** The cloud's Retry-After on the last failed attempt, in ms; 0 when it gave none. */
  let retryAfterMs = 0;
  let retryAt: number | null = null;
  let lastDelivered: DeliveryState['lastDelivered'] = null;
  let running: Promise<void> | null = null;
  /** Set when a kick arrives during a drain (an object, so a drain's await does not hide it). */
  const pending = { again: false };
  const kickedDuringDrain = (): boolean => pending.again;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const abort = new AbortController();

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      kick(true);
    }, delayMs);
    timer.unref();
  }

  function backoffMs(): number {
    const ceiling = Math.min(
      settings.backoffMaxSeconds * 1000,
      settings.backoffBaseMs * 2 ** Math.min(failures - 1, 30),
    );
    // "Equal jitter": at least half the delay, so retries of many sites spread without ever
    // hammering the cloud right after it comes back.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  async function recordFailure(message: string): Promise<void> {
    const at = new Date(now()).toISOString();
    await deps.store.uplink.updateState({ lastAttemptAt: at, lastError: { message, at } });
  }

  async function sendOne(item: OutboxItem, endpoint: string): Promise<SendOutcome> {
    let result: SendResult;
    try {
      result = await postJson(
        cloudUrl(endpoint, 'v1/reports'),
        JSON.parse(item.body) as unknown,
        deps.policy(),
        abort.signal,
      );
    } catch (err) {
      deps.metrics?.attempt(failureKind(err));
      const message = describeSendFailure(err);
      deps.logger.warn(
        { seq: item.seq, kind: failureKind(err), reason: message },
        'uplink delivery failed',
      );
      await recordFailure(message);
      return 'retry';
    }
    const at = new Date(now()).toISOString();
    if (ACCEPTED.has(result.status)) {
      deps.metrics?.attempt('delivered');
      lastDelivered = { seq: item.seq, at, via: result.via };
      await deps.store.uplink.updateState({
        lastAttemptAt: at,
        lastSuccessAt: at,
        lastError: null,
      });
      deps.onAnswer(parseCloudAnswer(result.body));
      return 'delivered';
    }
    const code = errorCodeOf(result.body);
    deps.metrics?.attempt(`http-${result.status}`);
    if (result.status === 409 || result.status === 400 || result.status === 413) {
      // The cloud holds a newer report (409 REPLAYED) or cannot ever read this one: sending it
      // again would be refused again, and it would block every report behind it.
      deps.logger.warn(
        { seq: item.seq, status: result.status, code },
        'the cloud refused an uplink report for good',
      );
      await deps.store.uplink.updateState({ lastAttemptAt: at });
      return 'reject';
    }
    retryAfterMs = (result.retryAfterSeconds ?? 0) * 1000;
    const message =
      result.status === 401
        ? `the cloud does not accept this site's reports (${code ?? 'HTTP 401'}): enroll again`
        : `the cloud answered HTTP ${result.status}${code ? ` ${code}` : ''}`;
    deps.logger.warn({ seq: item.seq, status: result.status, code }, 'uplink delivery failed');
    await recordFailure(message);
    return 'retry';
  }

  async function drainLoop(): Promise<void> {
    for (;;) {
      pending.again = false;
      const endpoint = deps.endpoint();
      if (endpoint === null || stopped) return;
      const result = await deps.outbox.drain((item) => sendOne(item, endpoint), {
        maxItems: 1,
        signal: abort.signal,
      });
      if (result.stoppedBy === 'aborted') return;
      if (result.stoppedBy === 'retry') {
        failures += 1;
        // A busy cloud's Retry-After is honoured (within the configured ceiling), never shortened.
        const delay = Math.max(
          backoffMs(),
          Math.min(retryAfterMs, settings.backoffMaxSeconds * 1000),
        );
        retryAfterMs = 0;
        retryAt = now() + delay;
        schedule(delay);
        return;
      }
      if (result.delivered + result.rejected > 0) {
        failures = 0;
        retryAt = null;
      }
      if (result.stoppedBy === 'empty' && !kickedDuringDrain()) return;
      if (result.stoppedBy === 'limit') {
        // Pace the drain: one report per interval, so a backlog reaches the cloud at a rate it
        // (and the site's uplink) can take.
        await pause(paceMs, abort.signal);
      }
    }
  }

  function kick(force = false): void {
    if (stopped) return;
    if (!force && retryAt !== null && now() < retryAt) return;
    if (running) {
      pending.again = true;
      return;
    }
    clearTimeout(timer);
    running = drainLoop()
      .catch((err: unknown) => {
        deps.logger.error({ err }, 'the uplink delivery loop failed');
        failures += 1;
        const delay = backoffMs();
        retryAt = now() + delay;
        schedule(delay);
      })
      .finally(() => {
        running = null;
        if (pending.again && !stopped) kick(true);
      });
  }

  return {
    kick,
    async idle() {
      while (running) await running;
    },
    state: () => ({
      consecutiveFailures: failures,
      retryAt: retryAt === null ? null : new Date(retryAt).toISOString(),
      lastDelivered,
    }),
    reset() {
      clearTimeout(timer);
      timer = undefined;
      failures = 0;
      retryAt = null;
      retryAfterMs = 0;
      lastDelivered = null;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      if (running) await running;
    },
  };
}
