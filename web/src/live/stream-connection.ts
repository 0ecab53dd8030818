// The WebSocket to /api/v1/stream: parses messages, reports its state for the connection
// indicator, reconnects with backoff, and tells the app when the session is gone (close code 1008,
// or a refused upgrade followed by a 401 from /api/v1/auth/me).

import type { StreamMessage } from '../api/types';
import { reconnectDelay } from './backoff';

export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'live'; since: number }
  | { state: 'reconnecting'; retryAt: number; attempt: number }
  | { state: 'closed' };

/** The part of the browser's WebSocket this module uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface StreamConnectionOptions {
  url: string;
  onMessage(message: StreamMessage): void;
  onStatus(status: ConnectionStatus): void;
  /** The session ended: stop and send the user to the login page. */
  onSessionLost(): void;
  /** True while the session is valid; false after a 401 (asked when an upgrade was refused). */
  sessionValid(): Promise<boolean>;
  createSocket?: (url: string) => SocketLike;
  random?: () => number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface StreamConnection {
  /** Retry at once (e.g. the browser came back online). */
  reconnectNow(): void;
  close(): void;
}

/** Closed by the server because the session or token expired (docs/api.md). */
const CLOSE_CREDENTIALS_EXPIRED = 1008;

const MESSAGE_TYPES = new Set([
  'hello',
  'snapshot',
  'device',
  'job',
  'alert',
  'command',
  'device-removed',
]);

export function parseStreamMessage(data: unknown): StreamMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const value = JSON.parse(data) as { type?: unknown };
    return typeof value.type === 'string' && MESSAGE_TYPES.has(value.type)
      ? (value as StreamMessage)
      : null;
  } catch {
    return null;
  }
}

export function openStreamConnection(options: StreamConnectionOptions): StreamConnection {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer =
    options.clearTimer ??
    ((handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  let socket: SocketLike | undefined;
  let timer: unknown;
  let attempt = 0;
  let stopped = false;

  function connect(): void {
    if (stopped) return;
    timer = undefined;
    options.onStatus({ state: 'connecting' });
    let opened = false;
    const ws = createSocket(options.url);
    socket = ws;
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      options.onStatus({ state: 'live', since: now() });
    };
    ws.onmessage = (event) => {
      const message = parseStreamMessage(event.data);
      if (message) options.onMessage(message);
    };
    ws.onclose = (event) => {
      if (socket !== ws || stopped) return;
      socket = undefined;
      if (event.code === CLOSE_CREDENTIALS_EXPIRED) {
        lose();
        return;
      }
      if (opened) {
        schedule();
        return;
      }
      // The upgrade failed: a browser cannot see why, so ask whether the session still stands.
      options.sessionValid().then(
        (valid) => (valid ? schedule() : lose()),
        () => schedule(),
      );
    };
  }

  function schedule(): void {
    if (stopped) return;
    const delay = reconnectDelay(attempt, random());
    attempt += 1;
    options.onStatus({ state: 'reconnecting', retryAt: now() + delay, attempt });
    timer = setTimer(connect, delay);
  }

  function lose(): void {
    stop();
    options.onSessionLost();
  }

  function stop(): void {
    stopped = true;
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    const ws = socket;
    socket = undefined;
    ws?.close(1000, 'bye');
    options.onStatus({ state: 'closed' });
  }

  connect();
  return {
    reconnectNow() {
      if (stopped || socket) return;
      if (timer !== undefined) clearTimer(timer);
      connect();
    },
    close: stop,
  };
}
