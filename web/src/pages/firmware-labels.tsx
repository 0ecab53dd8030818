// How firmware states read on the page: rollout states and device statuses as a word, an icon and a
// colour together, and a verification's checks as a ✓/✗ list with each check's detail.

import type { FirmwareCheck, RolloutDeviceStatus, RolloutSummary } from '../api/types';
import { NamedIcon, type IconName } from '../components/icons';

interface Look {
  label: string;
  icon: IconName;
}

export const DEVICE_STATUS_LOOK: Record<RolloutDeviceStatus, Look> = {
  queued: { label: 'Queued', icon: 'idle' },
  transferring: { label: 'Transferring', icon: 'download' },
  verifying: { label: 'Verifying', icon: 'maintenance' },
  installing: { label: 'Installing', icon: 'updating' },
  done: { label: 'Done', icon: 'check' },
  failed: { label: 'Failed', icon: 'error' },
  skipped: { label: 'Skipped', icon: 'stop' },
};

export type RolloutLook = 'running' | 'paused' | 'aborted' | 'completed' | 'completed-failures';

const ROLLOUT_LOOK: Record<RolloutLook, Look> = {
  running: { label: 'Running', icon: 'play' },
  paused: { label: 'Paused', icon: 'pause' },
  aborted: { label: 'Aborted', icon: 'stop' },
  completed: { label: 'Completed', icon: 'check' },
  'completed-failures': { label: 'Completed with failures', icon: 'error' },
};

export function rolloutLook(r: Pick<RolloutSummary, 'state' | 'counts'>): RolloutLook {
  switch (r.state) {
    case 'running':
    case 'paused':
    case 'aborted':
      return r.state;
    case 'completed':
      return r.counts.failed > 0 ? 'completed-failures' : 'completed';
  }
}

export function isFinished(r: Pick<RolloutSummary, 'state'>): boolean {
  return r.state === 'completed' || r.state === 'aborted';
}

export function DeviceStatusBadge({ status }: { status: RolloutDeviceStatus }) {
  const look = DEVICE_STATUS_LOOK[status];
  return (
    <span class={`fw-badge fw-status-${status}`} data-status={status}>
      <NamedIcon name={look.icon} /> {look.label}
    </span>
  );
}

export function RolloutStateBadge({
  rollout,
}: {
  rollout: Pick<RolloutSummary, 'state' | 'counts'>;
}) {
  const key = rolloutLook(rollout);
  const look = ROLLOUT_LOOK[key];
  return (
    <span class={`fw-badge fw-state-${key}`} data-state={rollout.state}>
      <NamedIcon name={look.icon} /> {look.label}
    </span>
  );
}

/** Every check of a verdict, passed or failed, with what it found. */
export function CheckList({ checks, label }: { checks: FirmwareCheck[]; label: string }) {
  if (checks.length === 0) return <p class="muted small">No check was reported.</p>;
  return (
    <ul class="fw-checks" aria-label={label}>
      {checks.map((c) => (
        <li key={c.name} class={c.ok ? 'fw-check-ok' : 'fw-check-failed'} data-check={c.name}>
          <span class="fw-check-mark" aria-hidden="true">
            {c.ok ? '✓' : '✗'}
          </span>{' '}
          <strong>{c.name}</strong> <span class="fw-check-word">{c.ok ? 'passed' : 'failed'}</span>
          {c.detail ? <span class="fw-check-detail">: {c.detail}</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** The first characters of a SHA-256 id, enough to tell packages apart on screen. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 12)}…` : id;
}

export function packageTitle(p: { packageName: string | null; toVersion: string | null }): string {
  return `${p.packageName ?? 'removed package'} ${p.toVersion ?? ''}`.trim();
}
