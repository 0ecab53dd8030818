// Follows one rollout live: loads it, then follows its Server-Sent Events (a snapshot, then device
// and rollout changes) while it is unfinished. If the stream cannot be opened or breaks, it falls
// back to loading the rollout every 2 s, which works through any proxy; both stop once the rollout
// is completed or aborted. Only the newest answer is kept.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  ROLLOUT_DEVICE_STATUSES,
  type RolloutDetail,
  type RolloutDevice,
  type RolloutDeviceStatus,
  type RolloutSummary,
} from '../api/types';
import { useApp } from '../app-context';
import { isFinished } from './firmware-labels';
import { messageOf } from './users-page';

export const ROLLOUT_POLL_MS = 2000;

export type FollowMode = 'loading' | 'stream' | 'polling' | 'finished';

export function countStatuses(devices: RolloutDevice[]): Record<RolloutDeviceStatus, number> {
  const counts = Object.fromEntries(ROLLOUT_DEVICE_STATUSES.map((s) => [s, 0])) as Record<
    RolloutDeviceStatus,
    number
  >;
  for (const d of devices) counts[d.status] += 1;
  return counts;
}

function withDevice(r: RolloutDetail, device: RolloutDevice): RolloutDetail {
  const at = r.devices.findIndex((d) => d.deviceId === device.deviceId);
  const devices =
    at === -1 ? [...r.devices, device] : r.devices.map((d, i) => (i === at ? device : d));
  return { ...r, devices, counts: countStatuses(devices), total: devices.length };
}

/** An event's JSON data; null when it is not JSON (the next snapshot or poll corrects the view). */
function dataOf(e: Event): unknown {
  try {
    return JSON.parse((e as MessageEvent<string>).data);
  } catch {
    return null;
  }
}

export function useRolloutFollow(id: string) {
  const { api } = useApp();
  const [rollout, setRollout] = useState<RolloutDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<FollowMode>('loading');
  const latest = useRef(0);
  const stop = useRef<() => void>(() => undefined);

  /** A rollout an action or a load answered with; anything older in flight is ignored. */
  const apply = useCallback((next: RolloutDetail) => {
    latest.current += 1;
    setRollout(next);
    setError(null);
    if (isFinished(next)) {
      stop.current();
      setMode('finished');
    }
  }, []);

  const load = useCallback(() => {
    latest.current += 1;
    const ticket = latest.current;
    return api.get<RolloutDetail>(`/api/v1/firmware/rollouts/${encodeURIComponent(id)}`).then(
      (r) => {
        if (ticket !== latest.current) return null;
        apply(r);
        return r;
      },
      (err: unknown) => {
        if (ticket === latest.current) setError(messageOf(err));
        return null;
      },
    );
  }, [api, id, apply]);

  useEffect(() => {
    let closed = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;

    const poll = () => {
      if (closed || timer !== undefined) return;
      setMode('polling');
      timer = setInterval(() => {
        if (document.visibilityState !== 'hidden') void load();
      }, ROLLOUT_POLL_MS);
    };
    stop.current = () => {
      closed = true;
      source?.close();
      clearInterval(timer);
    };

    const follow = () => {
      if (closed) return;
      if (typeof EventSource !== 'function') {
        poll();
        return;
      }
      try {
        source = new EventSource(`/api/v1/firmware/rollouts/${encodeURIComponent(id)}/events`);
      } catch {
        poll();
        return;
      }
      setMode('stream');
      source.addEventListener('snapshot', (e) => {
        const r = dataOf(e) as RolloutDetail | null;
        if (r) apply(r);
      });
      source.addEventListener('device', (e) => {
        const d = dataOf(e) as RolloutDevice | null;
        if (!d) return;
        latest.current += 1;
        setRollout((r) => (r ? withDevice(r, d) : r));
      });
      source.addEventListener('rollout', (e) => {
        const s = dataOf(e) as RolloutSummary | null;
        if (!s) return;
        latest.current += 1;
        setRollout((r) => (r ? { ...r, ...s, devices: r.devices } : r));
        if (isFinished(s)) {
          // The stream ends by itself after the last device; a final load makes sure of the rest.
          stop.current();
          setMode('finished');
          void load();
        }
      });
      source.addEventListener('error', () => {
        // The stream ended or broke. EventSource would reconnect on its own, but a proxy that
        // buffers or cuts streams would make it loop: poll instead, which always works.
        source?.close();
        source = null;
        if (closed) return;
        poll();
        void load();
      });
    };

    void load().then((r) => {
      if (r === null || !isFinished(r)) follow();
    });
    return () => {
      stop.current();
      // Answers arriving after the view is gone must not be applied.
      latest.current += 1;
    };
  }, [id, load, apply]);

  return { rollout, error, mode, apply, reload: load };
}
