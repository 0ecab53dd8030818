// Ingest: device MQTT payloads → validated messages → fleet state → changes for listeners and
// writes committed in groups. Malformed payloads are counted, logged once per device per interval
// and dropped; `handle` rejects only when valid writes could not be made durable.

import type { AppConfig } from '../config/index.js';
import {
  FleetState,
  isCcError,
  isValidDeviceId,
  toIso,
  type Alert,
  type FleetChange,
  type FleetUpdate,
} from '../domain/index.js';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Registry } from '../observability/index.js';
import type { Store } from '../store/index.js';
import type { StorageGate } from '../storage-health/index.js';
import { createBatchWriter } from './batch-writer.js';
import { createIngestMetrics } from './ingest-metrics.js';
import {
  DEVICE_CHANNELS,
  type DeviceChannel,
  type Ingest,
  type IngestOutcome,
} from './ingest-types.js';
import { createMalformedLog } from './malformed-log.js';
import { parsePayload, type ParsedMessage } from './payload-parser.js';

export interface IngestDeps {
  store: Store;
  logger: Logger;
  metrics: Registry;
  /** Clock for receive times and log intervals (tests pass their own). */
  now?: () => number;
  /** Refuses writes while the data directory is full, and hears of writes that failed for it. */
  storage?: StorageGate;
}

export type IngestConfig = AppConfig['ingest'];

const EMPTY_FLEET = { devices: [], activeJobs: [], consumables: [], openAlerts: [] };

function isDeviceChannel(value: string): value is DeviceChannel {
  return (DEVICE_CHANNELS as readonly string[]).includes(value);
}

export function createIngest(deps: IngestDeps, config: IngestConfig): Ingest {
  // The caller passes the subsystem's child logger (app.ts: { subsystem: 'ingest' }).
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const metrics = createIngestMetrics(deps.metrics);
  const malformedLog = createMalformedLog(logger, config.malformedLogIntervalMs, now);
  const writer = createBatchWriter(
    {
      store: deps.store,
      logger,
      metrics,
      ...(deps.storage ? { storage: deps.storage } : {}),
    },
    { batchDelayMs: config.batchDelayMs, batchMaxSize: config.batchMaxSize },
  );
  const listeners = new Set<(change: FleetChange) => void>();
  let state = new FleetState(EMPTY_FLEET);
  let started = false;

  function drop(deviceId: string, channel: string, code: string, message: string): IngestOutcome {
    metrics.malformed.inc({ channel, reason: code });
    malformedLog.report({ deviceId, channel, code, message });
    return { accepted: false, code, message };
  }

  function emit(changes: readonly FleetChange[]): void {
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (err) {
          // A broken listener must not stop ingest nor the other listeners.
          logger.error({ err, change: change.type }, 'fleet change listener failed');
        }
      }
    }
  }

  function apply(deviceId: string, parsed: ParsedMessage, receivedAt: string): FleetUpdate {
    switch (parsed.channel) {
      case 'state':
        return state.applyState(deviceId, parsed.msg, receivedAt);
      case 'telemetry':
        return state.applyTelemetry(deviceId, parsed.msg, receivedAt);
      case 'events':
        return state.applyEvent(deviceId, parsed.msg, receivedAt);
      case 'status':
        return state.applyStatus(deviceId, parsed.status, receivedAt);
    }
  }

  async function handle(
    deviceId: string,
    channel: DeviceChannel,
    payload: Buffer,
  ): Promise<IngestOutcome> {
    if (!started) throw new CcError('INTERNAL', 'ingest is not started');
    // Typed, but callers outside TypeScript's reach may still pass anything.
    const channelName: string = channel;
    if (!isDeviceChannel(channelName)) {
      return drop(deviceId, 'unknown', 'UNKNOWN_CHANNEL', `no such channel: ${channelName}`);
    }
    if (!isValidDeviceId(deviceId)) {
      return drop('(invalid)', channelName, 'INVALID_DEVICE_ID', 'device id is not valid');
    }
    const result = parsePayload(channelName, payload);
    if (!result.ok) return drop(deviceId, channelName, result.code, result.message);
    let update: FleetUpdate;
    try {
      update = apply(deviceId, result.parsed, toIso(now()));
    } catch (err) {
      if (isCcError(err) && err.code === 'VALIDATION_FAILED') {
        return drop(deviceId, channelName, 'SCHEMA_INVALID', err.message);
      }
      throw err;
    }
    metrics.accepted.inc({ channel: channelName });
    // Listeners see the change at once; the store keeps it once the batch commits.
    emit(update.changes);
    // While the disk is full the message is refused at once, not queued: the broker does not
    // acknowledge it and the device resends it later, which writes its rows again.
    deps.storage?.assertWritable('mqtt');
    await writer.write(update.writes);
    return { accepted: true };
  }

  async function acknowledgeAlert(alertId: string, by: string): Promise<Alert | undefined> {
    const at = toIso(now());
    const update = state.acknowledgeAlert(alertId, by, at);
    const [acked] = update.writes.alerts;
    if (acked !== undefined) {
      emit(update.changes);
      await writer.write(update.writes, 'fleet');
      return acked;
    }
    const open = state.openAlert(alertId);
    if (open !== undefined) return open;
    // Not open: a cleared alert from history is acknowledged in the store directly.
    const stored = await deps.store.alerts.acknowledge(alertId, by, at);
    if (stored !== undefined) emit([{ type: 'alert', alert: stored }]);
    return stored;
  }

  async function mutate(
    change: (fleet: FleetState) => FleetUpdate | readonly FleetUpdate[],
  ): Promise<void> {
    if (!started) throw new CcError('INTERNAL', 'ingest is not started');
    const result = change(state);
    const updates: readonly FleetUpdate[] = Array.isArray(result)
      ? (result as readonly FleetUpdate[])
      : [result as FleetUpdate];
    const writes = {
      devices: [],
      jobs: [],
      alerts: [],
      consumables: [],
      metrics: [],
    } as FleetUpdate['writes'];
    for (const update of updates) {
      emit(update.changes);
      writes.devices.push(...update.writes.devices);
      writes.jobs.push(...update.writes.jobs);
      writes.alerts.push(...update.writes.alerts);
      writes.consumables.push(...update.writes.consumables);
      writes.metrics.push(...update.writes.metrics);
    }
    deps.storage?.assertWritable('fleet');
    await writer.write(writes, 'fleet');
  }

  return {
    fleet: {
      get: (deviceId) => state.get(deviceId),
      list: () => state.list(),
    },
    handle,
    mutate,
    publish: (change) => emit([change]),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    acknowledgeAlert,
    async start() {
      const { store } = deps;
      const [devices, activeJobs, consumables, openAlerts] = await Promise.all([
        store.devices.all(),
        store.jobs.active(),
        store.consumables.all(),
        store.alerts.open(),
      ]);
      state = new FleetState({ devices, activeJobs, consumables, openAlerts });
      started = true;
      logger.info(
        { devices: devices.length, activeJobs: activeJobs.length, openAlerts: openAlerts.length },
        'fleet state loaded',
      );
    },
    async stop() {
      await writer.stop();
      started = false;
    },
  };
}
