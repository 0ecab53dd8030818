// `command-center watch`: follows the live stream (GET /api/v1/stream) of a running server and
// prints one line per change, or every message as NDJSON with --json. Reconnects with backoff when
// the connection drops; stops cleanly on Ctrl+C / SIGTERM; a refused credential ends it (exit 1).

import type { IncomingMessage } from 'node:http';
import type { Command } from 'commander';
import type WebSocket from 'ws';
import {
  CcError,
  type Alert,
  type DeviceCommand,
  type DeviceView,
  type Job,
} from '../../domain/index.js';
import {
  addServerOptions,
  connectionFailure,
  openStream,
  resolveStreamTarget,
  withLoginHint,
  type ServerOptions,
  type StreamTarget,
} from '../api-client.js';
import { countStates, formatStateCounts, useColor } from '../fleet-format.js';
import { ChangeTracker, formatChangeLine, formatClock, type ChangeLine } from '../fleet-changes.js';

interface WatchOptions extends ServerOptions {
  device?: string[];
  json?: boolean;
}

type StreamMessage =
  | { type: 'hello'; version: string; user: { username: string; role: string } }
  | { type: 'snapshot'; devices: DeviceView[] }
  | { type: 'device'; device: DeviceView }
  | { type: 'job'; job: Job }
  | { type: 'alert'; alert: Alert }
  | { type: 'command'; command: DeviceCommand }
  | { type: 'device-removed'; deviceId: string };

const PAYLOAD_KEY = {
  hello: 'user',
  snapshot: 'devices',
  device: 'device',
  job: 'job',
  alert: 'alert',
  command: 'command',
  'device-removed': 'deviceId',
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The server's message, when it is one this client knows (others are passed on by --json only). */
function parseMessage(value: unknown): StreamMessage | null {
  if (!isObject(value) || typeof value.type !== 'string' || !(value.type in PAYLOAD_KEY)) {
    return null;
  }
  const key = PAYLOAD_KEY[value.type as keyof typeof PAYLOAD_KEY];
  return value[key] === undefined || value[key] === null ? null : (value as StreamMessage);
}

/** The device a message is about; null for messages about the whole fleet or the connection. */
function deviceOf(message: StreamMessage): string | null {
  switch (message.type) {
    case 'hello':
    case 'snapshot':
      return null;
    case 'device':
      return message.device.id;
    case 'job':
      return message.job.deviceId;
    case 'alert':
      return message.alert.deviceId;
    case 'command':
      return message.command.deviceId;
    case 'device-removed':
      return message.deviceId;
  }
}

/** Backoff before reconnect attempt n (0-based): 1 s doubling to 30 s, ±20 % so clients spread. */
function reconnectDelayMs(attempt: number): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** The server pings every 30 s: this long without a ping or message means the link is dead. */
const SILENCE_LIMIT_MS = 75_000;

async function readBody(res: IncomingMessage, max = 64 * 1024): Promise<string> {
  let text = '';
  for await (const chunk of res) {
    text += String(chunk);
    if (text.length > max) break;
  }
  return text;
}

/** Why the server refused the upgrade, from its `{ error: { code, message } }` body. */
function refusal(status: number, body: string, base: string): CcError {
  let message = `the server answered HTTP ${status} to the stream request`;
  try {
    const parsed: unknown = JSON.parse(body);
    const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
    if (typeof error?.message === 'string') message = error.message;
  } catch {
    // Not JSON (a proxy's page, say): the status says enough.
    message = `${message} (${base})`;
  }
  if (status === 401) return withLoginHint(new CcError('UNAUTHENTICATED', message));
  if (status === 403) {
    return new CcError('FORBIDDEN', `${message}: this token may not read the fleet (fleet:read)`);
  }
  return new CcError(status === 404 ? 'ROUTE_NOT_FOUND' : 'INTERNAL', message);
}

interface Output {
  json: boolean;
  devices: Set<string>;
  color: boolean;
  out(line: string): void;
  note(line: string): void;
}

/** Runs until a signal (resolves) or a failure reconnecting cannot fix (rejects). */
function follow(target: StreamTarget, output: Output): Promise<void> {
  const tracker = new ChangeTracker();
  const wanted = (deviceId: string | null): boolean =>
    deviceId === null || output.devices.size === 0 || output.devices.has(deviceId);
  const now = (): string => formatClock(new Date());
  let snapshots = 0;
  const print = (lines: ChangeLine[]): void => {
    const at = new Date();
    for (const line of lines) {
      if (wanted(line.deviceId)) output.out(formatChangeLine(at, line, output.color));
    }
  };

  return new Promise<void>((resolve, reject) => {
    let socket: WebSocket | undefined;
    let stopping = false;
    let finished = false;
    let connectedOnce = false;
    let attempt = 0;
    let retryTimer: NodeJS.Timeout | undefined;
    let silenceTimer: NodeJS.Timeout | undefined;

    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(retryTimer);
      clearTimeout(silenceTimer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', onStdoutError);
      if (err === undefined) resolve();
      else reject(err);
    };

    function stop(): void {
      if (stopping) return;
      stopping = true;
      clearTimeout(retryTimer);
      clearTimeout(silenceTimer);
      const ws = socket;
      if (ws === undefined || ws.readyState === ws.CLOSED) {
        finish();
        return;
      }
      ws.close(1000, 'client stopped');
      // A server that does not answer the close frame is not waited for.
      setTimeout(() => ws.terminate(), 1000).unref();
    }

    function onStdoutError(err: NodeJS.ErrnoException): void {
      // The reader went away (`watch | head`): stop as if interrupted.
      if (err.code === 'EPIPE') stop();
      else finish(err);
    }

    const handle = (raw: string): void => {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return;
      }
      const message = parseMessage(value);
      if (message?.type === 'hello') {
        output.note(
          connectedOnce
            ? `${now()}  reconnected to ${target.base}`
            : `watching ${target.base} as ${message.user.username} (${message.user.role}); Ctrl+C to stop`,
        );
        connectedOnce = true;
        attempt = 0;
      }
      if (output.json) {
        if (message === null) output.out(raw);
        else if (message.type === 'snapshot') {
          const devices = message.devices.filter((d) => wanted(d.id));
          output.out(
            devices.length === message.devices.length
              ? raw
              : JSON.stringify({ ...message, devices }),
          );
        } else if (wanted(deviceOf(message))) output.out(raw);
        return;
      }
      if (message === null) return;
      switch (message.type) {
        case 'hello':
          return;
        case 'snapshot': {
          const lines = tracker.snapshot(message.devices);
          snapshots += 1;
          if (snapshots === 1) {
            const shown = message.devices.filter((d) => wanted(d.id));
            for (const id of output.devices) {
              if (!shown.some((d) => d.id === id))
                output.note(`no device ${id} yet: waiting for it`);
            }
            const counts = formatStateCounts(countStates(shown), output.color);
            output.out(
              formatChangeLine(
                new Date(),
                { deviceId: 'fleet', text: counts, style: null },
                output.color,
              ),
            );
          }
          print(lines);
          return;
        }
        case 'device':
          print(tracker.device(message.device));
          return;
        case 'job':
          print(tracker.job(message.job));
          return;
        case 'alert':
          print(tracker.alert(message.alert));
          return;
        case 'command':
          print(tracker.command(message.command));
          return;
        case 'device-removed':
          print(tracker.removed(message.deviceId));
          return;
      }
    };

    const connect = (): void => {
      const ws = openStream(target);
      socket = ws;
      let failure: unknown;
      let refused: CcError | undefined;
      const heard = (): void => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => ws.terminate(), SILENCE_LIMIT_MS);
      };
      ws.on('error', (err) => (failure ??= err));
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        // 5xx (a restarting server, a proxy) is worth another try; a refusal is not.
        refused = status >= 500 ? undefined : refusal(status, '', target.base);
        failure = new Error(`HTTP ${status}`);
        readBody(res)
          .then((body) => {
            if (refused !== undefined) refused = refusal(status, body, target.base);
          })
          .catch(() => undefined)
          .finally(() => ws.terminate());
      });
      ws.on('open', heard);
      ws.on('ping', heard);
      ws.on('message', (data, isBinary) => {
        heard();
        if (stopping || isBinary) return;
        try {
          handle(Buffer.isBuffer(data) ? data.toString('utf8') : '');
        } catch (err) {
          // A message of a shape this client does not know must not end the watch.
          const reason = err instanceof Error ? err.message : String(err);
          output.note(`${now()}  ignored a stream message this client cannot read (${reason})`);
        }
      });
      ws.on('close', (code, reasonBuffer) => {
        clearTimeout(silenceTimer);
        const reason = reasonBuffer.toString();
        if (stopping) return finish();
        if (refused !== undefined) return finish(refused);
        if (code === 1008) {
          return finish(
            withLoginHint(
              new CcError('SESSION_EXPIRED', `the server closed the stream: ${reason || 'policy'}`),
            ),
          );
        }
        const cause = failure === undefined ? undefined : connectionFailure(failure, target.base);
        if (!connectedOnce) {
          return finish(
            cause ??
              new CcError('SERVER_UNREACHABLE', `the stream closed at once (${code} ${reason})`),
          );
        }
        // A certificate that is not trusted stays untrusted: retrying would only repeat it.
        if (cause?.code === 'TLS_INVALID') return finish(cause);
        const why =
          cause !== undefined
            ? cause.message
            : code === 1001
              ? 'the server went away'
              : code === 1013
                ? 'the server dropped this client as too slow'
                : `connection lost (${code}${reason ? ` ${reason}` : ''})`;
        const delay = reconnectDelayMs(attempt);
        attempt += 1;
        output.note(`${now()}  ${why}; reconnecting in ${Math.max(1, Math.round(delay / 1000))} s`);
        retryTimer = setTimeout(connect, delay);
      });
    };

    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.stdout.on('error', onStdoutError);
    connect();
  });
}

export function registerWatchCommand(program: Command): void {
  addServerOptions(
    program
      .command('watch')
      .description(
        'follow live changes of the fleet: states, job progress, alerts, command results (Ctrl+C stops)',
      )
      .option(
        '--device <id>',
        'only this device (repeat for several)',
        (id: string, ids: string[] | undefined) => [...(ids ?? []), id],
      )
      .option('--json', 'print every stream message as one JSON line (NDJSON)'),
  ).action(async (options: WatchOptions) => {
    const target = await resolveStreamTarget(options);
    await follow(target, {
      json: options.json === true,
      devices: new Set(options.device ?? []),
      color: useColor(process.stdout, process.env),
      out: (line) => process.stdout.write(`${line}\n`),
      note: (line) => process.stderr.write(`${line}\n`),
    });
  });
}
