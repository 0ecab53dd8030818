// One device on the Fleet page: state, current job with progress and ETA, low consumables, open
// alerts, last seen. A class component so that, among 500 cards, only the ones whose device view
// changed (a new object from the stream) render again.

import { Component } from 'preact';
import type { DeviceView } from '../api/types';
import { lowConsumables, worstSeverity } from '../fleet/fleet-query';
import { JOB_STATE_LABEL, KIND_LABEL, SEVERITY_LABEL } from '../format/labels';
import { formatAgo, formatEta } from '../format/time-format';
import { devicePath } from '../router';
import { NamedIcon } from './icons';
import { Link } from './link';
import { ProgressBar } from './meter-bar';
import { StateBadge } from './state-badge';

interface Props {
  device: DeviceView;
  /** Current time rounded to the refresh interval, so "ago" texts move together. */
  now: number;
}

export class DeviceCard extends Component<Props> {
  override shouldComponentUpdate(next: Props): boolean {
    return next.device !== this.props.device || next.now !== this.props.now;
  }

  override render() {
    const { device: d, now } = this.props;
    const job = d.currentJob;
    const low = lowConsumables(d);
    const worst = worstSeverity(d);
    const eta = job ? formatEta(job.estimatedEndAt, now) : null;
    const titleId = `device-${d.id}-title`;
    return (
      <li
        class={`device-card state-edge-${d.state}`}
        data-device-id={d.id}
        aria-labelledby={titleId}
      >
        <div class="card-head">
          <h3 id={titleId} class="card-title">
            <Link href={devicePath(d.id)}>{d.name || d.id}</Link>
          </h3>
          <StateBadge state={d.state} />
        </div>
        <p class="card-sub">
          {d.id} · {KIND_LABEL[d.kind]} · {d.model}
          {d.siteId ? ` · ${d.siteId}` : ''}
        </p>
        <div class="card-job">
          {job ? (
            <>
              <p class="job-line">
                <span class="job-name">{job.name}</span>
                <span class="job-pct">{job.progress.toFixed(job.progress < 10 ? 1 : 0)} %</span>
              </p>
              <ProgressBar value={job.progress} label={`Progress of ${job.name}`} />
              <p class="muted small">
                {job.state === 'printing' ? (eta ?? 'No estimate') : JOB_STATE_LABEL[job.state]} ·{' '}
                {job.owner}
              </p>
            </>
          ) : (
            <p class="muted">No current job</p>
          )}
        </div>
        <ul class="card-flags" aria-label="Attention">
          {d.openAlerts.length > 0 && worst ? (
            <li class={`flag severity-${worst}`}>
              <NamedIcon name="bell" />
              {d.openAlerts.length} open alert{d.openAlerts.length === 1 ? '' : 's'} ·{' '}
              {SEVERITY_LABEL[worst]}
            </li>
          ) : null}
          {low.map((c) => (
            <li key={c.slot} class={`flag consumable-${c.status}`}>
              <NamedIcon name="drop" />
              {c.slot} {Math.round(c.level)} % {c.status}
            </li>
          ))}
        </ul>
        <p class="card-foot muted small">
          Last seen <time dateTime={d.lastSeenAt ?? ''}>{formatAgo(d.lastSeenAt, now)}</time> ·
          firmware {d.firmwareVersion || '—'}
        </p>
      </li>
    );
  }
}
