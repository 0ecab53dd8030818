// Runs one rollout: the canary stage first, then the rest, with at most `concurrency` pushes in
// flight. A failure that brings the failed devices to the threshold pauses it, and so does a canary
// stage that ends with a failure; pushes in flight then finish, but none starts. Abort cancels the
// pushes in flight; stop (server shutdown) cancels them too and queues their devices again.
//
// Memory is the truth while a rollout runs; every change is written to the store in the order it
// happened (one write queue per rollout), except progress percentages, which are written at most
// every `progressWriteMs` per device — the final status of a device is always written.

import { resolve, sep } from 'node:path';
import type { FleetReader } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import type {
  FirmwarePackage,
  Rollout,
  RolloutChanges,
  RolloutDevice,
  RolloutDeviceChanges,
  Store,
} from '../../store/index.js';
import { countStatuses, isFinalStatus, judgeTurn } from './rollout-plan.js';
import {
  PUSH_PHASES,
  SYSTEM_ACTOR,
  type FirmwarePush,
  type FirmwarePushProgress,
  type FirmwarePushResult,
  type RolloutActor,
  type RolloutDetail,
  type RolloutEvent,
  type RolloutServiceDeps,
} from './rollout-types.js';

export interface RunnerDeps {
  store: Pick<Store, 'rollouts'>;
  fleet: FleetReader;
  push: FirmwarePush;
  audit: RolloutServiceDeps['audit'];
  logger: Logger;
  now: () => Date;
  emit(event: RolloutEvent): void;
  /** Called once the rollout is finished (completed or aborted), after its last write. */
  onFinished(rolloutId: string): void;
}

export interface RunnerSettings {
  firmwareDir: string;
  pushTimeoutMs: number;
  progressWriteMs: number;
  abortGraceMs: number;
}

export interface RolloutRunner {
  readonly id: string;
  detail(): RolloutDetail;
  /** Starts queued devices if the rollout is running (after create, start or resume). */
  run(): void;
  pause(actor: RolloutActor): Promise<void>;
  resume(actor: RolloutActor): Promise<void>;
  abort(actor: RolloutActor): Promise<void>;
  /** Cancels pushes in flight without finishing the rollout: their devices are queued again. */
  stop(): Promise<void>;
}

type CancelReason = 'abort' | 'shutdown';

interface Flight {
  controller: AbortController;
  settled: Promise<void>;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The package file's absolute path; a catalog entry pointing outside the directory is refused. */
export function packagePath(firmwareDir: string, file: string): string {
  const root = resolve(firmwareDir);
  const path = resolve(root, file);
  if (!path.startsWith(root + sep)) {
    throw new Error(`package file ${JSON.stringify(file)} is outside the firmware directory`);
  }
  return path;
}

export function createRolloutRunner(
  deps: RunnerDeps,
  settings: RunnerSettings,
  pkg: FirmwarePackage,
  stored: Rollout,
  storedDevices: readonly RolloutDevice[],
): RolloutRunner {
  const log = deps.logger.child({ rolloutId: stored.id });
  let rollout: Rollout = { ...stored };
  const devices: RolloutDevice[] = storedDevices.map((d) => ({ ...d }));
  const index = new Map(devices.map((d, i) => [d.deviceId, i]));
  const flights = new Map<string, Flight>();
  const lastProgressWrite = new Map<string, number>();
  let stopping = false;
  let finished = false;
  let writes: Promise<void> = Promise.resolve();

  const nowIso = () => deps.now().toISOString();

  /** Appends a store write to the rollout's queue; failures are logged, later writes still run. */
  function enqueue(what: string, write: () => Promise<unknown>): Promise<void> {
    writes = writes.then(write).then(
      () => undefined,
      (err: unknown) => log.error({ err }, `cannot store ${what}`),
    );
    return writes;
  }

  function summary() {
    return {
      ...rollout,
      packageName: pkg.name,
      toVersion: pkg.version,
      total: devices.length,
      counts: countStatuses(devices),
    };
  }

  function setRollout(changes: RolloutChanges): Promise<void> {
    rollout = { ...rollout, ...changes, updatedAt: nowIso() };
    const snapshot = { ...changes, updatedAt: rollout.updatedAt };
    deps.emit({ type: 'rollout', rollout: summary() });
    return enqueue(`rollout ${rollout.id}`, () => deps.store.rollouts.update(rollout.id, snapshot));
  }

  function deviceOf(deviceId: string): RolloutDevice {
    const i = index.get(deviceId);
    const device = i === undefined ? undefined : devices[i];
    if (device === undefined) throw new Error(`device ${deviceId} is not in rollout ${rollout.id}`);
    return device;
  }

  function setDevice(deviceId: string, changes: RolloutDeviceChanges, store = true): void {
    const i = index.get(deviceId);
    if (i === undefined) return;
    const next = { ...deviceOf(deviceId), ...changes, updatedAt: nowIso() };
    devices[i] = next;
    deps.emit({ type: 'device', rolloutId: rollout.id, device: { ...next } });
    if (!store) return;
    lastProgressWrite.set(deviceId, deps.now().getTime());
    const snapshot = { ...changes, updatedAt: next.updatedAt };
    void enqueue(`device ${deviceId} of rollout ${rollout.id}`, () =>
      deps.store.rollouts.updateDevice(rollout.id, deviceId, snapshot),
    );
  }

  async function record(
    actor: RolloutActor,
    action: string,
    target: string,
    outcome: 'ok' | 'failed',
    details: Record<string, unknown>,
  ): Promise<void> {
    await deps.audit.record({
      actor: actor.name,
      source: actor.source,
      action,
      target,
      outcome,
      details,
    });
  }

  const failedCount = () => devices.filter((d) => d.status === 'failed').length;
  const canaryOpen = () => devices.some((d) => d.stage === 'canary' && !isFinalStatus(d.status));

  function onProgress(deviceId: string, progress: FirmwarePushProgress): void {
    const device = deviceOf(deviceId);
    const current = PUSH_PHASES.indexOf(device.status as (typeof PUSH_PHASES)[number]);
    const next = PUSH_PHASES.indexOf(progress.phase);
    // Only forward: a late report of an earlier phase changes nothing.
    if (current < 0 || next < current) return;
    const percent =
      progress.percent === null || !Number.isFinite(progress.percent)
        ? null
        : Math.min(100, Math.max(0, Math.round(progress.percent)));
    if (next === current && percent === device.progress) return;
    const phaseChanged = next !== current;
    const since = deps.now().getTime() - (lastProgressWrite.get(deviceId) ?? 0);
    setDevice(
      deviceId,
      { status: progress.phase, progress: percent },
      phaseChanged || since >= settings.progressWriteMs,
    );
  }

  /** Records how the push ended; 'failed' when it counts against the threshold. */
  function settle(
    device: RolloutDevice,
    result: FirmwarePushResult,
    cancel: CancelReason | null,
  ): 'done' | 'failed' | 'other' {
    const phase = device.status;
    // The device has the new version whatever the answer says (a push repeated after a restart is
    // refused as "not newer"): the work is done.
    if (
      result.firmwareVersion === device.toVersion ||
      (result.outcome === 'installed' && result.firmwareVersion === null)
    ) {
      setDevice(device.deviceId, { status: 'done', progress: null, reason: null });
      return 'done';
    }
    if (cancel === 'shutdown') {
      setDevice(device.deviceId, { status: 'queued', progress: null, reason: null });
      return 'other';
    }
    if (cancel === 'abort') {
      // Past the transfer the device goes on by itself: it may still end on the new version.
      const reason =
        phase === 'transferring'
          ? 'rollout aborted while transferring'
          : `rollout aborted while ${phase}: the device may still finish the installation`;
      setDevice(device.deviceId, { status: 'skipped', progress: null, reason });
      return 'other';
    }
    let reason: string;
    if (result.outcome === 'installed') {
      reason = `the device reports ${String(result.firmwareVersion)} after installing, not ${device.toVersion}`;
    } else if (result.outcome === 'refused') {
      reason = `refused by the device: ${result.reason ?? 'no reason given'}`;
    } else {
      reason = result.reason ?? 'installation failed';
    }
    setDevice(device.deviceId, { status: 'failed', progress: null, reason });
    return 'failed';
  }

  /** After a device reached a final status while the rollout runs: threshold, end of canary. */
  function deviceFinished(device: RolloutDevice): void {
    if (rollout.state !== 'running' || stopping) return;
    const failed = failedCount();
    if (device.status === 'failed' && failed >= rollout.failureThreshold) {
      void pauseFor(
        `failure threshold reached: ${failed} of ${devices.length} devices failed (threshold ${rollout.failureThreshold})`,
      );
      return;
    }
    if (device.stage === 'canary' && !canaryOpen()) endOfCanary();
  }

  /** A canary stage with any failure stops before the rest: someone should look first. */
  function endOfCanary(): void {
    const canary = devices.filter((d) => d.stage === 'canary');
    const failed = canary.filter((d) => d.status === 'failed').length;
    const rest = devices.filter((d) => d.stage === 'rest' && d.status === 'queued').length;
    if (failed > 0 && rest > 0) {
      void pauseFor(
        `canary stage ended with ${failed} of ${canary.length} devices failed; resume to update the other ${rest}`,
      );
    }
  }

  async function pauseFor(reason: string): Promise<void> {
    log.warn({ reason }, 'rollout paused');
    await setRollout({ state: 'paused', pausedReason: reason });
    await record(SYSTEM_ACTOR, 'firmware.rollout.pause', rollout.id, 'ok', {
      reason,
      counts: countStatuses(devices),
    });
  }

  async function runDevice(deviceId: string, fromVersion: string, file: string): Promise<void> {
    const controller = new AbortController();
    let release: () => void = () => undefined;
    const settled = new Promise<void>((r) => (release = r));
    flights.set(deviceId, { controller, settled });
    setDevice(deviceId, { status: 'transferring', progress: 0, reason: null, fromVersion });
    let result: FirmwarePushResult;
    try {
      result = await deps.push.push(deviceId, file, {
        signal: controller.signal,
        timeoutMs: settings.pushTimeoutMs,
        onProgress: (p) => onProgress(deviceId, p),
      });
    } catch (err) {
      result = { outcome: 'failed', reason: messageOf(err), firmwareVersion: null };
    }
    flights.delete(deviceId);
    const cancel = controller.signal.aborted ? (controller.signal.reason as CancelReason) : null;
    const outcome = settle(deviceOf(deviceId), result, cancel);
    const device = deviceOf(deviceId);
    if (outcome !== 'other') {
      const failed = outcome === 'failed';
      void record(
        SYSTEM_ACTOR,
        failed ? 'firmware.rollout.device-failed' : 'firmware.rollout.device-installed',
        deviceId,
        failed ? 'failed' : 'ok',
        {
          rolloutId: rollout.id,
          packageId: pkg.id,
          version: pkg.version,
          fromVersion,
          ...(failed ? { reason: device.reason } : {}),
        },
      );
    }
    release();
    deviceFinished(device);
    run();
  }

  function startDevice(device: RolloutDevice, file: string): void {
    const turn = judgeTurn(pkg, deps.fleet.get(device.deviceId));
    switch (turn.action) {
      case 'skip':
        setDevice(device.deviceId, { status: 'skipped', progress: null, reason: turn.reason });
        deviceFinished(deviceOf(device.deviceId));
        return;
      case 'done':
        setDevice(device.deviceId, { status: 'done', progress: null, reason: turn.reason });
        deviceFinished(deviceOf(device.deviceId));
        return;
      case 'push':
        runDevice(device.deviceId, turn.fromVersion, file).catch((err: unknown) =>
          log.error({ err, deviceId: device.deviceId }, 'rollout device task failed'),
        );
        return;
    }
  }

  async function complete(): Promise<void> {
    finished = true;
    const counts = countStatuses(devices);
    await setRollout({ state: 'completed', pausedReason: null, finishedAt: nowIso() });
    await record(
      SYSTEM_ACTOR,
      'firmware.rollout.complete',
      rollout.id,
      counts.failed > 0 ? 'failed' : 'ok',
      {
        packageId: pkg.id,
        version: pkg.version,
        counts,
      },
    );
    log.info({ counts }, 'rollout completed');
    deps.onFinished(rollout.id);
  }

  /** Read through a function: the state changes under the loop below (a pause on a failure). */
  const running = () => rollout.state === 'running' && !stopping && !finished;

  function run(): void {
    if (!running()) return;
    let file: string;
    try {
      file = packagePath(settings.firmwareDir, pkg.file);
    } catch (err) {
      void pauseFor(messageOf(err));
      return;
    }
    // Each pass may end devices at once (skipped, already done), which can open the next stage.
    for (;;) {
      const stage = canaryOpen() ? 'canary' : 'rest';
      const next = devices.find(
        (d) => d.status === 'queued' && d.stage === stage && !flights.has(d.deviceId),
      );
      if (next === undefined || flights.size >= rollout.concurrency) break;
      startDevice(next, file);
      if (!running()) return;
    }
    if (flights.size === 0 && devices.every((d) => isFinalStatus(d.status))) void complete();
  }

  async function waitFlights(ms: number): Promise<void> {
    const all = Promise.all([...flights.values()].map((f) => f.settled));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    await Promise.race([all, grace]);
    clearTimeout(timer);
  }

  return {
    id: rollout.id,
    detail: () => ({ ...summary(), devices: devices.map((d) => ({ ...d })) }),
    run,
    async pause(actor) {
      if (rollout.state !== 'running') return;
      const reason = `paused by ${actor.name}`;
      await setRollout({ state: 'paused', pausedReason: reason });
      await record(actor, 'firmware.rollout.pause', rollout.id, 'ok', {
        reason,
        counts: countStatuses(devices),
      });
    },
    async resume(actor) {
      if (rollout.state !== 'paused') return;
      const reason = rollout.pausedReason;
      await setRollout({ state: 'running', pausedReason: null });
      await record(actor, 'firmware.rollout.resume', rollout.id, 'ok', {
        pausedReason: reason,
        counts: countStatuses(devices),
      });
      run();
      await writes;
    },
    async abort(actor) {
      if (finished) return;
      finished = true;
      for (const d of devices) {
        if (d.status === 'queued') {
          setDevice(d.deviceId, { status: 'skipped', progress: null, reason: 'rollout aborted' });
        }
      }
      await setRollout({ state: 'aborted', pausedReason: null, finishedAt: nowIso() });
      const cancelled = [...flights.keys()];
      for (const f of flights.values()) f.controller.abort('abort' satisfies CancelReason);
      await waitFlights(settings.abortGraceMs);
      await record(actor, 'firmware.rollout.abort', rollout.id, 'ok', {
        cancelled,
        counts: countStatuses(devices),
      });
      await writes;
      deps.onFinished(rollout.id);
    },
    async stop() {
      stopping = true;
      for (const f of flights.values()) f.controller.abort('shutdown' satisfies CancelReason);
      // A push that ignores its signal is left behind: its device is queued again on next start.
      await waitFlights(settings.abortGraceMs);
      await writes;
    },
  };
}
