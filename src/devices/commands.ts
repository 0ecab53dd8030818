// Remote actions on devices: pause / resume / cancel a job, acknowledge an alert. Each gets a
// command id and a durable record (who, what, when, and the result: accepted, rejected with the
// device's reason, timed out, or failed to deliver), which is also the action's audit record.
// Sent over the device's Web Services when it has pinned ones, else as an MQTT `commands`
// message whose answer comes back on `commands/{id}/result`. Every change goes to the live stream.

import { randomUUID } from 'node:crypto';
import {
  CcError,
  isCcError,
  toIso,
  type CommandAction,
  type CommandStatus,
  type DeviceCommand,
  type FleetChange,
  type FleetReader,
  type WsActionResult,
} from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { CommandFilter, Store } from '../store/index.js';
import type { Actor, DeviceRegistry } from './registry.js';
import type { DeviceEndpoint, WsClient } from './ws-client.js';

/** The MQTT side: the embedded broker (or any broker the server is connected to). */
export interface CommandBus {
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(
    filter: string,
    listener: (topic: string, payload: Buffer) => void,
  ): Promise<() => Promise<void>>;
}

export interface CommandServiceDeps {
  store: Store;
  fleet: FleetReader & { publish(change: FleetChange): void };
  client: WsClient;
  registry: Pick<DeviceRegistry, 'endpoint'>;
  bus: CommandBus | null;
  /** Polls a device at once so the outcome shows without waiting for its schedule. */
  pollNow?: (deviceId: string) => Promise<void>;
  logger: Logger;
  now?: () => number;
}

export interface CommandServiceConfig {
  commandTimeoutMs: number;
}

export interface SendCommandRequest {
  deviceId: string;
  action: CommandAction;
  /** The job (defaults to the device's current job) or the alert to act on. */
  targetId?: string;
  actor: Actor;
}

export interface CommandService {
  /** Sends the command and resolves with its final record (never pending). */
  send(request: SendCommandRequest): Promise<DeviceCommand>;
  get(id: string): Promise<DeviceCommand | undefined>;
  list(filter: CommandFilter): ReturnType<Store['commands']['list']>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const RESULT_FILTER = 'cc/v1/devices/+/commands/+/result';
const MAX_MESSAGE = 1024;

interface Waiter {
  deviceId: string;
  resolve: (outcome: { status: CommandStatus; message: string | null }) => void;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

/** A device's MQTT answer, checked: `{ commandId, ok, message }`. */
function parseResult(payload: Buffer): { commandId: string; ok: boolean; message: string } | null {
  if (payload.length > 16 * 1024) return null;
  try {
    const body: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof body !== 'object' || body === null) return null;
    const { commandId, ok, message } = body as Record<string, unknown>;
    if (typeof commandId !== 'string' || typeof ok !== 'boolean') return null;
    return { commandId, ok, message: typeof message === 'string' ? clip(message) : '' };
  } catch {
    return null;
  }
}

export function createCommandService(
  deps: CommandServiceDeps,
  config: CommandServiceConfig,
): CommandService {
  const { store, fleet, client, registry } = deps;
  const log = deps.logger;
  const now = deps.now ?? Date.now;
  const waiters = new Map<string, Waiter>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let stopping = false;

  function resolveTarget(req: SendCommandRequest): string {
    const device = fleet.get(req.deviceId);
    if (device === undefined) {
      throw new CcError('DEVICE_NOT_FOUND', `no device ${req.deviceId}`);
    }
    if (req.action === 'acknowledge') {
      if (req.targetId === undefined) {
        throw new CcError('VALIDATION_FAILED', 'acknowledge needs the alert id');
      }
      return req.targetId;
    }
    const target = req.targetId ?? device.currentJob?.id;
    if (target === undefined) {
      throw new CcError('CONFLICT', `device ${req.deviceId} has no current job to ${req.action}`);
    }
    return target;
  }

  async function finish(
    command: DeviceCommand,
    status: CommandStatus,
    message: string | null,
    source: string | null,
  ): Promise<DeviceCommand> {
    const stored = await store.commands.complete(command.id, {
      status,
      message,
      completedAt: toIso(now()),
    });
    const final = stored ?? { ...command, status, message, completedAt: toIso(now()) };
    fleet.publish({ type: 'command', command: final });
    await store.audit.append({
      id: randomUUID(),
      at: final.completedAt ?? toIso(now()),
      actor: command.requestedBy,
      action: command.action === 'acknowledge' ? 'alert.acknowledge' : `job.${command.action}`,
      target: command.targetId,
      outcome: status === 'accepted' ? 'ok' : status === 'rejected' ? 'refused' : 'failed',
      source,
      details: {
        deviceId: command.deviceId,
        commandId: command.id,
        channel: command.channel,
        status,
        ...(message !== null ? { message } : {}),
      },
    });
    return final;
  }

  async function overWebServices(
    command: DeviceCommand,
    endpoint: DeviceEndpoint,
  ): Promise<{ status: CommandStatus; message: string | null }> {
    const signal = AbortSignal.timeout(config.commandTimeoutMs);
    try {
      const result: WsActionResult =
        command.action === 'acknowledge'
          ? await client.acknowledgeAlert(endpoint, command.targetId, signal)
          : await client.jobAction(endpoint, command.targetId, command.action, signal);
      return result.accepted
        ? { status: 'accepted', message: clip(result.message) }
        : { status: 'rejected', message: clip(result.message) };
    } catch (err) {
      const message = clip(err instanceof Error ? err.message : String(err));
      if (!isCcError(err)) return { status: 'failed', message };
      switch (err.code) {
        case 'DEVICE_REJECTED':
        case 'NOT_FOUND':
          return { status: 'rejected', message };
        case 'DEVICE_TIMEOUT':
          return { status: 'timed-out', message };
        default:
          return { status: 'failed', message };
      }
    }
  }

  async function overMqtt(
    command: DeviceCommand,
    bus: CommandBus,
  ): Promise<{ status: CommandStatus; message: string | null }> {
    const answer = new Promise<{ status: CommandStatus; message: string | null }>((resolve) => {
      waiters.set(command.id, { deviceId: command.deviceId, resolve });
    });
    const timer = setTimeout(() => {
      waiters.get(command.id)?.resolve({
        status: 'timed-out',
        message: `no answer from the device within ${config.commandTimeoutMs} ms`,
      });
    }, config.commandTimeoutMs);
    try {
      const body = {
        id: command.id,
        action: command.action,
        ...(command.action === 'acknowledge'
          ? { alertId: command.targetId }
          : { jobId: command.targetId }),
      };
      await bus.publish(`cc/v1/devices/${command.deviceId}/commands`, JSON.stringify(body), {
        qos: 1,
        retain: false,
      });
      return await answer;
    } catch (err) {
      return { status: 'failed', message: clip(err instanceof Error ? err.message : String(err)) };
    } finally {
      clearTimeout(timer);
      waiters.delete(command.id);
    }
  }

  function onResult(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    const deviceId = parts[3];
    const result = parseResult(payload);
    if (result === null || deviceId === undefined) {
      log.warn({ deviceId }, 'ignoring a malformed command result');
      return;
    }
    const waiter = waiters.get(result.commandId);
    // A device answers only its own commands: the topic names the device that published.
    if (waiter === undefined || waiter.deviceId !== deviceId || parts[5] !== result.commandId) {
      return;
    }
    waiter.resolve({ status: result.ok ? 'accepted' : 'rejected', message: result.message });
  }

  return {
    async send(req) {
      if (stopping) throw new CcError('INTERNAL', 'the server is stopping');
      const targetId = resolveTarget(req);
      const endpoint = await registry.endpoint(req.deviceId);
      const bus = deps.bus;
      if (endpoint === undefined && bus === null) {
        throw new CcError('CONFLICT', `device ${req.deviceId} has no channel for commands`);
      }
      const command: DeviceCommand = {
        id: `cmd-${randomUUID()}`,
        deviceId: req.deviceId,
        action: req.action,
        targetId,
        channel: endpoint !== undefined ? 'web-services' : 'mqtt',
        status: 'pending',
        message: null,
        requestedBy: req.actor.name,
        requestedAt: toIso(now()),
        completedAt: null,
      };
      await store.commands.create(command);
      fleet.publish({ type: 'command', command });
      const outcome =
        endpoint !== undefined
          ? await overWebServices(command, endpoint)
          : await overMqtt(command, bus as CommandBus);
      const final = await finish(command, outcome.status, outcome.message, req.actor.source);
      log.info(
        { deviceId: req.deviceId, commandId: command.id, action: req.action, status: final.status },
        'device command finished',
      );
      if (final.status === 'accepted' && endpoint !== undefined) {
        await deps.pollNow?.(req.deviceId).catch(() => undefined);
      }
      return final;
    },
    get: (id) => store.commands.get(id),
    list: (filter) => store.commands.list(filter),
    async start() {
      stopping = false;
      // Commands left pending by a stop or crash can no longer be answered.
      for (const stale of await store.commands.pending()) {
        await finish(stale, 'timed-out', 'no answer before the server restarted', null);
      }
      if (deps.bus !== null) unsubscribe = await deps.bus.subscribe(RESULT_FILTER, onResult);
    },
    async stop() {
      stopping = true;
      for (const waiter of waiters.values()) {
        waiter.resolve({ status: 'timed-out', message: 'the server stopped before an answer' });
      }
      await unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
