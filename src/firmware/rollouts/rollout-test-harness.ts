// Fixtures for rollout tests: fleet devices and catalog packages, a push whose every call the test
// drives (progress, outcome, cancellation), and waiting for a rollout to reach a state by its events.

import type { DeviceView } from '../../domain/index.js';
import type { FirmwarePackage } from '../../store/index.js';
import type {
  FirmwarePush,
  FirmwarePushResult,
  PushPhase,
  RolloutDetail,
  RolloutService,
} from './rollout-types.js';

const NOW = '2026-06-01T00:00:00.000Z';

export function fleetDevice(id: string, over: Partial<DeviceView> = {}): DeviceView {
  return {
    id,
    kind: 'printer',
    model: 'Fusion P5',
    serial: `SN-${id}`,
    name: `Printer ${id}`,
    siteId: 'hall-a',
    firmwareVersion: '4.2.0',
    address: null,
    state: 'idle',
    lastSeenAt: NOW,
    stateAt: NOW,
    currentJob: null,
    consumables: [],
    openAlerts: [],
    metrics: {},
    ...over,
  };
}

export function catalogPackage(over: Partial<FirmwarePackage> = {}): FirmwarePackage {
  return {
    id: 'f'.repeat(64),
    name: 'fusion-fw',
    version: '4.3.0',
    models: ['Fusion P5', 'Fusion P5 Pro'],
    imageSize: 1000,
    imageSha256: 'e'.repeat(64),
    releasedAt: '2026-05-01T00:00:00.000Z',
    expiresAt: '2099-05-01T00:00:00.000Z',
    allowDowngrade: false,
    signers: ['6e9f1435dfeb728c'],
    packageBytes: 4096,
    file: 'fusion-fw-4.3.0.tar',
    source: 'upload',
    addedAt: NOW,
    addedBy: 'admin',
    checks: [],
    ...over,
  };
}

/** One push in progress, driven by the test. */
export interface PushCall {
  deviceId: string;
  file: string;
  signal: AbortSignal | undefined;
  readonly settled: boolean;
  progress(phase: PushPhase, percent: number | null): void;
  finish(result: FirmwarePushResult): void;
  /** Reports every phase, then installed with `version`. */
  install(version: string): void;
}

export interface ScriptedPush extends FirmwarePush {
  calls: PushCall[];
  active(): PushCall[];
  /** Most pushes that were in flight at once. */
  maxInFlight(): number;
  /** The next call not taken yet, waiting for it to start if need be. */
  next(timeoutMs?: number): Promise<PushCall>;
  /** When set, each push answers by itself with what this returns (undefined: the test drives it). */
  auto: ((deviceId: string) => FirmwarePushResult | undefined) | null;
}

export function scriptedPush(): ScriptedPush {
  const calls: PushCall[] = [];
  let taken = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const active = () => calls.filter((c) => !c.settled);

  const scripted: ScriptedPush = {
    calls,
    active,
    maxInFlight: () => peak,
    auto: null,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (taken >= calls.length) {
        if (Date.now() > deadline) throw new Error(`no push started (${calls.length} so far)`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const call = calls[taken];
      taken += 1;
      if (call === undefined) throw new Error('no push call');
      return call;
    },
    push(deviceId, file, options) {
      return new Promise<FirmwarePushResult>((resolve) => {
        let settled = false;
        const finish = (result: FirmwarePushResult) => {
          if (settled) return;
          settled = true;
          resolve(result);
        };
        const call: PushCall = {
          deviceId,
          file,
          signal: options.signal,
          get settled() {
            return settled;
          },
          progress: (phase, percent) => {
            if (!settled) options.onProgress?.({ phase, percent });
          },
          finish,
          install(version) {
            call.progress('transferring', 50);
            call.progress('transferring', 100);
            call.progress('verifying', null);
            call.progress('installing', 0);
            call.progress('installing', 100);
            finish({ outcome: 'installed', reason: null, firmwareVersion: version });
          },
        };
        options.signal?.addEventListener('abort', () =>
          finish({ outcome: 'failed', reason: 'cancelled', firmwareVersion: null }),
        );
        calls.push(call);
        peak = Math.max(peak, active().length);
        for (const wake of waiting.splice(0)) wake();
        const answer = scripted.auto?.(deviceId);
        if (answer !== undefined) {
          setImmediate(() => {
            if (answer.outcome === 'installed' && answer.firmwareVersion !== null) {
              call.install(answer.firmwareVersion);
            } else {
              call.progress('transferring', 100);
              call.progress('verifying', null);
              finish(answer);
            }
          });
        }
      });
    },
  };
  return scripted;
}

/** Resolves with the rollout once `predicate` holds, re-checked on each of its change events. */
export async function waitForRollout(
  service: RolloutService,
  id: string,
  predicate: (detail: RolloutDetail) => boolean,
  timeoutMs = 5000,
): Promise<RolloutDetail> {
  let last: RolloutDetail | undefined;
  return new Promise<RolloutDetail>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, detail?: RolloutDetail) => {
      if (done) return;
      done = true;
      off();
      clearTimeout(timer);
      if (err) reject(err);
      else if (detail) resolve(detail);
    };
    const check = () => {
      service.get(id).then(
        (detail) => {
          last = detail;
          if (detail && predicate(detail)) finish(null, detail);
        },
        (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
      );
    };
    const off = service.onChange((event) => {
      if (event.type === 'rollout' ? event.rollout.id === id : event.rolloutId === id) check();
    });
    const timer = setTimeout(() => {
      const state = last
        ? `${last.state} ${JSON.stringify(last.counts)} ${last.pausedReason ?? ''}`
        : 'unknown';
      finish(new Error(`rollout ${id} did not reach the expected state in time (now ${state})`));
    }, timeoutMs);
    check();
  });
}

/** Resolves once `check` returns true (re-checked every 10 ms), for what has no event: the store. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
