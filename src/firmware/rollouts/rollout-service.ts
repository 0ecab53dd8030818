// Staged firmware rollouts: creating one from a catalog package and a device selection, running it
// (one runner per unfinished rollout), pause / resume / abort, live change events, and picking
// unfinished rollouts up again after a restart.

import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { CcError, type Page } from '../../domain/index.js';
import type { FirmwarePackage, Rollout, RolloutDevice } from '../../store/index.js';
import { countStatuses, isInFlightStatus, planRollout } from './rollout-plan.js';
import { createRolloutRunner, packagePath, type RolloutRunner } from './rollout-runner.js';
import type {
  CreateRolloutInput,
  CreatedRollout,
  RolloutActor,
  RolloutDetail,
  RolloutEvent,
  RolloutService,
  RolloutServiceDeps,
  RolloutSettings,
  RolloutSummary,
} from './rollout-types.js';

const DEFAULT_CANARY_SIZE = 1;
const DEFAULT_FAILURE_THRESHOLD = 1;
const MAX_COUNT = 100_000;
/** Excluded devices named in a "nothing to update" error message. */
const EXCLUDED_IN_MESSAGE = 5;

function wholeNumber(value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CcError(
      'VALIDATION_FAILED',
      `${field} must be a whole number from ${min} to ${max}`,
      {
        field,
      },
    );
  }
  return value;
}

function summaryOf(
  rollout: Rollout,
  devices: readonly RolloutDevice[],
  pkg: FirmwarePackage | undefined,
): RolloutSummary {
  return {
    ...rollout,
    packageName: pkg?.name ?? null,
    toVersion: pkg?.version ?? devices[0]?.toVersion ?? null,
    total: devices.length,
    counts: countStatuses(devices),
  };
}

export function createRolloutService(
  deps: RolloutServiceDeps,
  settings: RolloutSettings,
): RolloutService {
  const log = deps.logger.child({ subsystem: 'rollouts' });
  const now = deps.now ?? (() => new Date());
  const { store } = deps;
  const listeners = new Set<(event: RolloutEvent) => void>();
  const runners = new Map<string, RolloutRunner>();
  const maxConcurrency = wholeNumber(settings.maxConcurrency, 'maxConcurrency', 1, 1000);
  const defaultConcurrency = Math.min(settings.defaultConcurrency ?? 4, maxConcurrency);
  let stopping = false;

  function emit(event: RolloutEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err }, 'a rollout listener failed');
      }
    }
  }

  function runnerFor(pkg: FirmwarePackage, rollout: Rollout, devices: RolloutDevice[]) {
    const runner = createRolloutRunner(
      {
        store,
        fleet: deps.fleet,
        push: deps.push,
        audit: deps.audit,
        logger: log,
        now,
        emit,
        onFinished: (id) => runners.delete(id),
      },
      {
        firmwareDir: deps.firmwareDir,
        pushTimeoutMs: settings.pushTimeoutMs,
        progressWriteMs: settings.progressWriteMs ?? 500,
        abortGraceMs: settings.abortGraceMs ?? 5000,
      },
      pkg,
      rollout,
      devices,
    );
    runners.set(rollout.id, runner);
    return runner;
  }

  async function storedRollout(id: string): Promise<Rollout> {
    const rollout = await store.rollouts.get(id);
    if (rollout === undefined) throw new CcError('NOT_FOUND', `no rollout ${id}`);
    return rollout;
  }

  /** The runner of an unfinished rollout, loaded from the store when this server has none yet. */
  async function unfinishedRunner(id: string, verb: string): Promise<RolloutRunner> {
    const loaded = runners.get(id);
    if (loaded) return loaded;
    const rollout = await storedRollout(id);
    if (rollout.state === 'completed' || rollout.state === 'aborted') {
      throw new CcError('CONFLICT', `rollout ${id} is ${rollout.state}: it cannot be ${verb}`);
    }
    return load(rollout);
  }

  async function load(rollout: Rollout): Promise<RolloutRunner> {
    const pkg = await store.firmware.get(rollout.packageId);
    if (pkg === undefined) {
      // The database keeps an unfinished rollout's package in the catalog; this is not expected.
      throw new CcError('CONFLICT', `rollout ${rollout.id}: package ${rollout.packageId} is gone`);
    }
    const devices = await store.rollouts.devices(rollout.id);
    const at = now().toISOString();
    for (const d of devices) {
      // Pushes cut short by a crash or a restart: the device's own checks make a second push safe.
      if (isInFlightStatus(d.status)) {
        d.status = 'queued';
        d.progress = null;
        d.reason = null;
        d.updatedAt = at;
        await store.rollouts.updateDevice(rollout.id, d.deviceId, {
          status: 'queued',
          progress: null,
          reason: null,
          updatedAt: at,
        });
      }
    }
    return runners.get(rollout.id) ?? runnerFor(pkg, rollout, devices);
  }

  /** Devices held by unfinished rollouts, with the rollout holding each. */
  async function busyDevices(): Promise<Map<string, string>> {
    const busy = new Map<string, string>();
    for (const r of await store.rollouts.unfinished()) {
      for (const d of await store.rollouts.devices(r.id)) busy.set(d.deviceId, r.id);
    }
    return busy;
  }

  async function checkPackageUsable(pkg: FirmwarePackage): Promise<void> {
    if (Date.parse(pkg.expiresAt) <= now().getTime()) {
      throw new CcError(
        'FIRMWARE_EXPIRED',
        `package ${pkg.name} ${pkg.version} expired at ${pkg.expiresAt}: devices would refuse it`,
      );
    }
    try {
      await stat(packagePath(deps.firmwareDir, pkg.file));
    } catch {
      // The catalog entry is there but its file is not: nothing could be pushed.
      throw new CcError(
        'CONFLICT',
        `the file of package ${pkg.name} ${pkg.version} is missing from the firmware directory`,
      );
    }
  }

  async function detailOf(id: string): Promise<RolloutDetail | undefined> {
    const runner = runners.get(id);
    if (runner) return runner.detail();
    const rollout = await store.rollouts.get(id);
    if (rollout === undefined) return undefined;
    const devices = await store.rollouts.devices(id);
    const pkg = await store.firmware.get(rollout.packageId);
    return { ...summaryOf(rollout, devices, pkg), devices };
  }

  async function act(
    id: string,
    verb: string,
    action: (runner: RolloutRunner) => Promise<void>,
  ): Promise<RolloutDetail> {
    const runner = await unfinishedRunner(id, verb);
    const { state } = runner.detail();
    // A rollout that just finished may still have its runner for its last writes.
    if (state === 'completed' || state === 'aborted') {
      throw new CcError('CONFLICT', `rollout ${id} is ${state}: it cannot be ${verb}`);
    }
    await action(runner);
    return runner.detail();
  }

  return {
    async create(input: CreateRolloutInput, actor: RolloutActor): Promise<CreatedRollout> {
      if (stopping) throw new CcError('CONFLICT', 'the server is stopping');
      const canarySize = wholeNumber(
        input.canarySize ?? DEFAULT_CANARY_SIZE,
        'canarySize',
        0,
        MAX_COUNT,
      );
      const concurrency = wholeNumber(
        input.concurrency ?? defaultConcurrency,
        'concurrency',
        1,
        maxConcurrency,
      );
      const failureThreshold = wholeNumber(
        input.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
        'failureThreshold',
        1,
        MAX_COUNT,
      );
      const pkg = await store.firmware.get(input.packageId);
      if (pkg === undefined) {
        throw new CcError('NOT_FOUND', `no firmware package ${input.packageId} in the catalog`);
      }
      await checkPackageUsable(pkg);

      const id = randomUUID();
      const at = now().toISOString();
      const plan = planRollout(
        {
          rolloutId: id,
          pkg,
          selection: input.selection,
          canarySize,
          scope: input.scope ?? null,
          busy: await busyDevices(),
          now: at,
        },
        deps.fleet.list(),
      );
      if (plan.unknown.length > 0) {
        throw new CcError('DEVICE_NOT_FOUND', `no device with id ${plan.unknown.join(', ')}`, {
          devices: plan.unknown,
        });
      }
      if (!plan.devices.some((d) => d.status === 'queued')) {
        const offline = plan.devices.length;
        const why = plan.excluded
          .slice(0, EXCLUDED_IN_MESSAGE)
          .map((e) => `${e.deviceId}: ${e.reason}`)
          .join('; ');
        const more =
          plan.excluded.length > EXCLUDED_IN_MESSAGE
            ? ` and ${plan.excluded.length - EXCLUDED_IN_MESSAGE} more`
            : '';
        const parts = [
          ...(offline > 0 ? [`${offline} offline`] : []),
          ...(plan.excluded.length > 0 ? [`${why}${more}`] : []),
        ];
        throw new CcError(
          'CONFLICT',
          `no device in the selection can take ${pkg.name} ${pkg.version}` +
            (parts.length > 0 ? ` (${parts.join('; ')})` : ': the selection matches no device'),
          { excluded: plan.excluded },
        );
      }

      const rollout: Rollout = {
        id,
        packageId: pkg.id,
        state: 'running',
        pausedReason: null,
        canarySize: plan.devices.filter((d) => d.stage === 'canary').length,
        concurrency,
        failureThreshold,
        selection: plan.selection,
        createdAt: at,
        createdBy: actor.name,
        updatedAt: at,
        finishedAt: null,
      };
      await store.rollouts.create(rollout, plan.devices);
      const counts = countStatuses(plan.devices);
      await deps.audit.record({
        actor: actor.name,
        source: actor.source,
        action: 'firmware.rollout.create',
        target: id,
        outcome: 'ok',
        details: {
          packageId: pkg.id,
          name: pkg.name,
          version: pkg.version,
          selection: plan.selection,
          devices: plan.devices.length,
          canary: rollout.canarySize,
          concurrency,
          failureThreshold,
          skipped: counts.skipped,
          excluded: plan.excluded.length,
        },
      });
      log.info(
        { rolloutId: id, packageId: pkg.id, devices: plan.devices.length },
        'rollout created',
      );
      const runner = runnerFor(pkg, rollout, plan.devices);
      emit({ type: 'rollout', rollout: summaryOf(rollout, plan.devices, pkg) });
      runner.run();
      return { ...runner.detail(), excluded: plan.excluded, limitedToSites: plan.limitedToSites };
    },

    get: detailOf,

    async list(filter): Promise<Page<RolloutSummary>> {
      const page = await store.rollouts.list(filter);
      const items: RolloutSummary[] = [];
      for (const rollout of page.items) {
        const runner = runners.get(rollout.id);
        if (runner) {
          const { devices: _devices, ...summary } = runner.detail();
          items.push(summary);
        } else {
          const devices = await store.rollouts.devices(rollout.id);
          items.push(summaryOf(rollout, devices, await store.firmware.get(rollout.packageId)));
        }
      }
      return { ...page, items };
    },

    pause: (id, actor) => act(id, 'paused', (r) => r.pause(actor)),
    resume: (id, actor) => act(id, 'resumed', (r) => r.resume(actor)),
    abort: (id, actor) => act(id, 'aborted', (r) => r.abort(actor)),

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async start() {
      stopping = false;
      for (const rollout of await store.rollouts.unfinished()) {
        try {
          const runner = await load(rollout);
          log.info({ rolloutId: rollout.id, state: rollout.state }, 'rollout picked up');
          runner.run();
        } catch (err) {
          log.error({ err, rolloutId: rollout.id }, 'cannot pick the rollout up');
        }
      }
    },

    async stop() {
      stopping = true;
      await Promise.all([...runners.values()].map((r) => r.stop()));
      runners.clear();
    },
  };
}
