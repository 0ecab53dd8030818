// The audit trail of the API Proxy: every call leaves a `proxy.call` record — who (the token's
// user), which device, what (method, path), how it ended (status, outcome, error code), how big and
// how long. A hot loop must not grow the log without bound, so identical read calls (and every
// unauthenticated refusal) within a window are folded into one extra record with a count; every
// authenticated write keeps a record of its own (the rate limit bounds those).

import { randomUUID } from 'node:crypto';
import { toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { AuditEntry, AuditRepository } from '../store/index.js';

export const PROXY_AUDIT_ACTION = 'proxy.call';

export interface ProxyCall {
  /** When the call arrived, ms since the epoch. */
  at: number;
  /** `alice (token)`, or `anonymous` when no valid token was sent. */
  actor: string;
  tokenId: string | null;
  source: string | null;
  deviceId: string | null;
  method: string;
  /** The normalised device path, or null when the target could not be parsed. */
  path: string | null;
  status: number;
  outcome: AuditEntry['outcome'];
  /** The error code of a refusal or failure. */
  code: string | null;
  /** Body bytes sent back / received. */
  bytes: number;
  requestBytes: number;
  ms: number;
  requestId: string;
}

export interface ProxyAudit {
  record(call: ProxyCall): void;
  /** Writes every open window's summary and waits for pending writes. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface ProxyAuditOptions {
  audit: Pick<AuditRepository, 'append'>;
  logger: Logger;
  /** Identical read calls within this window share one summary record; default 10 s. */
  windowMs?: number;
  /** Most open windows; the oldest are summarised early beyond it. Default 10 000. */
  maxWindows?: number;
  now?: () => number;
}

interface Window {
  openedAt: number;
  first: ProxyCall;
  /** Calls folded after the first (which was written at once). */
  count: number;
  bytes: number;
  maxMs: number;
  lastAt: number;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function aggregationKey(call: ProxyCall): string | null {
  if (call.tokenId === null) {
    // Unauthenticated refusals: one window per source and answer, whatever the path.
    return ['anon', call.source ?? '', call.outcome, call.status, call.code ?? ''].join('\u0000');
  }
  if (!SAFE.has(call.method)) return null;
  return [
    call.tokenId,
    call.deviceId ?? '',
    call.method,
    call.path ?? '',
    call.outcome,
    call.status,
    call.code ?? '',
  ].join('\u0000');
}

export function createProxyAudit(options: ProxyAuditOptions): ProxyAudit {
  const windowMs = options.windowMs ?? 10_000;
  const maxWindows = options.maxWindows ?? 10_000;
  const now = options.now ?? Date.now;
  const log = options.logger;
  const windows = new Map<string, Window>();
  const pending = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  function write(entry: AuditEntry): void {
    const p = options.audit
      .append(entry)
      .catch((err: unknown) => {
        log.error(
          { err, action: entry.action, target: entry.target },
          'could not write a proxy audit record',
        );
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  function entryOf(call: ProxyCall, details: Record<string, unknown>, at: number): AuditEntry {
    return {
      id: randomUUID(),
      at: toIso(at),
      actor: call.actor,
      action: PROXY_AUDIT_ACTION,
      target: call.deviceId ?? '',
      outcome: call.outcome,
      source: call.source,
      details: {
        method: call.method,
        path: call.path,
        status: call.status,
        ...(call.code === null ? {} : { code: call.code }),
        ...details,
      },
    };
  }

  function writeOne(call: ProxyCall): void {
    write(
      entryOf(
        call,
        {
          bytes: call.bytes,
          requestBytes: call.requestBytes,
          ms: Math.round(call.ms),
          requestId: call.requestId,
        },
        call.at,
      ),
    );
  }

  function close(key: string, w: Window): void {
    windows.delete(key);
    if (w.count === 0) return;
    write(
      entryOf(
        w.first.tokenId === null ? { ...w.first, path: null, deviceId: null } : w.first,
        {
          aggregated: true,
          count: w.count,
          bytes: w.bytes,
          maxMs: Math.round(w.maxMs),
          from: toIso(w.openedAt),
          to: toIso(w.lastAt),
        },
        w.lastAt,
      ),
    );
  }

  function sweep(all: boolean): void {
    const t = now();
    for (const [key, w] of windows) {
      if (all || t - w.openedAt >= windowMs) close(key, w);
    }
  }

  function ensureTimer(): void {
    if (timer !== undefined) return;
    timer = setInterval(() => {
      sweep(false);
      if (windows.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    }, windowMs);
    timer.unref();
  }

  return {
    record(call) {
      const key = aggregationKey(call);
      if (key === null) {
        writeOne(call);
        return;
      }
      const t = now();
      const open = windows.get(key);
      if (open !== undefined && t - open.openedAt < windowMs) {
        open.count += 1;
        open.bytes += call.bytes;
        open.maxMs = Math.max(open.maxMs, call.ms);
        open.lastAt = t;
        return;
      }
      if (open !== undefined) close(key, open);
      writeOne(call);
      if (windows.size >= maxWindows) {
        const oldest = windows.entries().next().value;
        if (oldest !== undefined) close(oldest[0], oldest[1]);
      }
      windows.set(key, { openedAt: t, first: call, count: 0, bytes: 0, maxMs: 0, lastAt: t });
      ensureTimer();
    },
    async flush() {
      sweep(true);
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      sweep(true);
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
