// One rollout in detail, live: its state and why it paused, a bar of devices per status, Pause /
// Resume / Abort (abort after an explicit confirmation), and every device's status, progress and
// the reason it failed or was skipped.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { RolloutDetail, RolloutDevice, RolloutSummary } from '../api/types';
import { useApp, useFleetVersion } from '../app-context';
import { NamedIcon } from '../components/icons';
import { ProgressBar } from '../components/meter-bar';
import { formatDateTime } from '../format/time-format';
import {
  DEVICE_STATUS_LOOK,
  DeviceStatusBadge,
  RolloutStateBadge,
  isFinished,
  packageTitle,
} from './firmware-labels';
import { useRolloutFollow, type FollowMode } from './firmware-rollout-live';
import { messageOf } from './users-page';

type Action = 'pause' | 'resume' | 'abort';

const ACTION_DONE: Record<Action, string> = {
  pause: 'Paused: pushes under way finish, no new one starts.',
  resume: 'Resumed: queued devices go on.',
  abort: 'Aborted: pushes under way are cancelled, queued devices skipped.',
};

const MODE_TEXT: Record<FollowMode, string> = {
  loading: 'Loading…',
  stream: 'Live',
  polling: `Updating every 2 s`,
  finished: 'Finished: no more changes',
};

export function RolloutDetailPanel({
  id,
  onClose,
  onChanged,
}: {
  id: string;
  onClose: () => void;
  /** The rollout changed through an action here: the list loads again. */
  onChanged: () => void;
}) {
  const { rollout, error, mode, apply } = useRolloutFollow(id);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id]);

  return (
    <section class="panel fw-detail" aria-labelledby="fw-detail-title" data-rollout-detail={id}>
      <div class="fw-detail-head">
        <h2 id="fw-detail-title" tabIndex={-1} ref={heading}>
          Rollout {rollout ? packageTitle(rollout) : ''} <code class="small">{id.slice(0, 8)}</code>
        </h2>
        <button type="button" class="button" onClick={onClose}>
          Close details
        </button>
      </div>
      {error ? (
        <p class="callout error" role="alert">
          The rollout could not be loaded: {error}
          {rollout ? ' (showing the last known state)' : ''}
        </p>
      ) : null}
      {rollout === null ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : (
        <RolloutBody rollout={rollout} mode={mode} apply={apply} onChanged={onChanged} />
      )}
    </section>
  );
}

function RolloutBody({
  rollout: r,
  mode,
  apply,
  onChanged,
}: {
  rollout: RolloutDetail;
  mode: FollowMode;
  apply: (r: RolloutDetail) => void;
  onChanged: () => void;
}) {
  return (
    <>
      <p class="fw-detail-state">
        <RolloutStateBadge rollout={r} />{' '}
        <span class="small muted" data-follow-mode={mode}>
          {MODE_TEXT[mode]}
        </span>
      </p>
      {r.state === 'paused' && r.pausedReason ? (
        <p class="callout warning fw-paused" role="status" data-paused-reason>
          <NamedIcon name="pause" /> <strong>Paused:</strong> {r.pausedReason}
        </p>
      ) : null}
      <CountsBar rollout={r} />
      <dl class="status-list fw-detail-facts">
        <dt>Created</dt>
        <dd>
          {formatDateTime(r.createdAt)} by {r.createdBy}
        </dd>
        {r.finishedAt ? (
          <>
            <dt>Finished</dt>
            <dd>{formatDateTime(r.finishedAt)}</dd>
          </>
        ) : null}
        <dt>Selection</dt>
        <dd>{selectionText(r.selection)}</dd>
        <dt>Settings</dt>
        <dd>
          canary {r.canarySize}, {r.concurrency} at a time, pauses at {r.failureThreshold} failed
        </dd>
      </dl>
      <RolloutActions rollout={r} apply={apply} onChanged={onChanged} />
      <DeviceTable devices={r.devices} />
    </>
  );
}

function selectionText(s: RolloutSummary['selection']): string {
  const parts = [
    s.models ? `models ${s.models.join(', ')}` : null,
    s.sites ? `sites ${s.sites.join(', ')}` : null,
    s.devices ? `${s.devices.length} listed devices` : null,
  ].filter((p) => p !== null);
  return parts.length > 0 ? parts.join('; ') : 'the whole fleet';
}

/** Devices per status as one bar, with the same numbers in words beside it. */
export function CountsBar({ rollout: r }: { rollout: Pick<RolloutSummary, 'counts' | 'total'> }) {
  const c = r.counts;
  const parts = [
    { key: 'done', label: 'done', n: c.done },
    { key: 'failed', label: 'failed', n: c.failed },
    { key: 'active', label: 'in progress', n: c.transferring + c.verifying + c.installing },
    { key: 'queued', label: 'queued', n: c.queued },
    { key: 'skipped', label: 'skipped', n: c.skipped },
  ];
  const total = Math.max(1, r.total);
  const text = parts.map((p) => `${p.n} ${p.label}`).join(', ');
  return (
    <div class="fw-counts" data-counts>
      <div class="fw-counts-bar" role="img" aria-label={`Devices: ${text}, of ${r.total}`}>
        {parts.map((p) =>
          p.n > 0 ? (
            <span
              key={p.key}
              class={`fw-seg fw-seg-${p.key}`}
              style={{ width: `${(p.n / total) * 100}%` }}
            />
          ) : null,
        )}
      </div>
      <ul class="fw-legend" aria-hidden="true">
        {parts.map((p) => (
          <li key={p.key} data-count={p.key}>
            <span class={`fw-swatch fw-seg-${p.key}`} /> {p.n} {p.label}
          </li>
        ))}
        <li>of {r.total}</li>
      </ul>
    </div>
  );
}

function RolloutActions({
  rollout: r,
  apply,
  onChanged,
}: {
  rollout: RolloutDetail;
  apply: (r: RolloutDetail) => void;
  onChanged: () => void;
}) {
  const { api, can } = useApp();
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirmAbort, setConfirmAbort] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const question = useRef<HTMLDivElement>(null);
  const abortButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirmAbort) question.current?.focus();
  }, [confirmAbort]);

  if (!can('firmware:manage')) {
    return isFinished(r) ? null : (
      <p class="small muted" data-permission-needed>
        Pausing, resuming and aborting need the <code>firmware:manage</code> permission.
      </p>
    );
  }
  if (isFinished(r)) return null;

  async function act(action: Action): Promise<void> {
    setBusy(action);
    setResult(null);
    try {
      const next = await api.post<RolloutDetail>(
        `/api/v1/firmware/rollouts/${encodeURIComponent(r.id)}/${action}`,
      );
      apply(next);
      setResult({ ok: true, text: ACTION_DONE[action] });
      onChanged();
    } catch (err) {
      setResult({ ok: false, text: `Not done: ${messageOf(err)}` });
    } finally {
      setBusy(null);
      setConfirmAbort(false);
    }
  }

  return (
    <>
      <div class="actions" role="group" aria-label="Rollout actions">
        {r.state === 'running' ? (
          <button
            type="button"
            class="button"
            disabled={busy !== null}
            onClick={() => void act('pause')}
          >
            <NamedIcon name="pause" /> {busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
        ) : null}
        {r.state === 'paused' ? (
          <button
            type="button"
            class="button primary"
            disabled={busy !== null}
            onClick={() => void act('resume')}
          >
            <NamedIcon name="play" /> {busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
        ) : null}
        {confirmAbort ? null : (
          <button
            type="button"
            class="button danger"
            ref={abortButton}
            disabled={busy !== null}
            onClick={() => setConfirmAbort(true)}
          >
            <NamedIcon name="stop" /> Abort…
          </button>
        )}
      </div>
      {confirmAbort ? (
        <div
          class="callout warning fw-confirm"
          role="group"
          aria-labelledby="fw-abort-q"
          tabIndex={-1}
          ref={question}
        >
          <p id="fw-abort-q">
            <strong>Abort this rollout?</strong>
          </p>
          <p>
            Pushes under way are cancelled and the {r.counts.queued} queued{' '}
            {r.counts.queued === 1 ? 'device is' : 'devices are'} skipped. A device cancelled after
            the transfer may still finish installing by itself. This cannot be undone.
          </p>
          <div class="confirm">
            <button
              type="button"
              class="button danger"
              disabled={busy !== null}
              onClick={() => void act('abort')}
            >
              {busy === 'abort' ? 'Aborting…' : 'Yes, abort'}
            </button>
            <button
              type="button"
              class="button"
              disabled={busy !== null}
              onClick={() => {
                setConfirmAbort(false);
                requestAnimationFrame(() => abortButton.current?.focus());
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <div aria-live="polite" class="fw-result" data-action-result>
        {result ? (
          <p class={result.ok ? 'fw-ok' : 'form-error'}>
            <NamedIcon name={result.ok ? 'check' : 'error'} /> {result.text}
          </p>
        ) : null}
      </div>
    </>
  );
}

function DeviceTable({ devices }: { devices: RolloutDevice[] }) {
  const { fleet } = useApp();
  useFleetVersion(fleet);
  if (devices.length === 0)
    return <p class="muted">No device of this rollout is visible to you.</p>;
  return (
    <div class="table-wrap">
      <table class="table fw-devices" aria-label="Devices of the rollout">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Stage</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Version</th>
            <th scope="col">Reason</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => {
            const name = fleet.devices.get(d.deviceId)?.name;
            const moving = d.status === 'transferring' || d.status === 'installing';
            return (
              <tr key={d.deviceId} data-device-id={d.deviceId} data-status={d.status}>
                <td>
                  {name ?? d.deviceId}
                  {name ? (
                    <div class="small muted">
                      <code>{d.deviceId}</code>
                    </div>
                  ) : null}
                </td>
                <td>{d.stage === 'canary' ? 'Canary' : 'Rest'}</td>
                <td>
                  <DeviceStatusBadge status={d.status} />
                </td>
                <td class="fw-progress-cell">
                  {moving && d.progress !== null ? (
                    <>
                      <ProgressBar
                        value={d.progress}
                        label={`${DEVICE_STATUS_LOOK[d.status].label} ${d.deviceId}`}
                      />
                      <span class="small">{Math.round(d.progress)} %</span>
                    </>
                  ) : moving ? (
                    <span class="small muted">under way</span>
                  ) : null}
                </td>
                <td class="small">
                  {d.fromVersion ?? '?'} → {d.toVersion}
                </td>
                <td class="fw-reason">{d.reason ?? ''}</td>
                <td class="small">{formatDateTime(d.updatedAt)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
