// One device on the Fleet page: state, current job with progress and ETA, low consumables, open
// alerts, last seen. A class component that renders again only when what the card shows changed:
// among 500 devices streaming telemetry, most updates bring new metrics and a new last-seen time
// only, and those leave every card as it is.

import { Component } from 'preact';
import type { AlertSeverity, DeviceState, DeviceView, JobState } from '../api/types';
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

/** Everything the card shows, as plain values: the render reads nothing else of the device. */
export interface CardFace {
  id: string;
  title: string;
  state: DeviceState;
  sub: string;
  job: {
    name: string;
    progress: number;
    percent: string;
    /** The ETA while printing, otherwise the job's state. */
    status: string;
    owner: string;
  } | null;
  alerts: { count: number; worst: AlertSeverity } | null;
  low: { slot: string; level: number; status: string }[];
  seen: string;
  firmware: string;
}

export function cardFace(d: DeviceView, now: number, eta = formatEta): CardFace {
  const job = d.currentJob;
  const worst = worstSeverity(d);
  return {
    id: d.id,
    title: d.name || d.id,
    state: d.state,
    sub: `${d.id} · ${KIND_LABEL[d.kind]} · ${d.model}${d.siteId ? ` · ${d.siteId}` : ''}`,
    job: job
      ? {
          name: job.name,
          progress: job.progress,
          percent: job.progress.toFixed(job.progress < 10 ? 1 : 0),
          status: jobStatus(
            job.state,
            job.state === 'printing' ? eta(job.estimatedEndAt, now) : null,
          ),
          owner: job.owner,
        }
      : null,
    alerts: d.openAlerts.length > 0 && worst ? { count: d.openAlerts.length, worst } : null,
    low: lowConsumables(d).map((c) => ({
      slot: c.slot,
      level: Math.round(c.level),
      status: c.status,
    })),
    seen: formatAgo(d.lastSeenAt, now),
    firmware: d.firmwareVersion || '—',
  };
}

function jobStatus(state: JobState, eta: string | null): string {
  return state === 'printing' ? (eta ?? 'No estimate') : JOB_STATE_LABEL[state];
}

export class DeviceCard extends Component<Props> {
  /** The face on screen (as JSON, to compare) and the one about to be rendered. */
  private shown = '';
  private next: CardFace | undefined;
  private seenAt: HTMLTimeElement | null = null;
  /** Formatting times with the locale is slow, and a job's estimate rarely changes: the last
   * ETA text is kept with what it was made from. */
  private eta: { endAt: string | null; now: number; text: string | null } | undefined;

  private readonly etaText = (endAt: string | null, now: number): string | null => {
    if (this.eta?.endAt !== endAt || this.eta.now !== now) {
      this.eta = { endAt, now, text: formatEta(endAt, now) };
    }
    return this.eta.text;
  };

  private readonly setSeenAt = (el: HTMLTimeElement | null): void => {
    this.seenAt = el;
  };

  override shouldComponentUpdate(next: Props): boolean {
    if (next.device === this.props.device && next.now === this.props.now) return false;
    const face = cardFace(next.device, next.now, this.etaText);
    if (JSON.stringify(face) !== this.shown) {
      this.next = face;
      return true;
    }
    // Same face: only the machine-readable last-seen time moves, without a render.
    this.seenAt?.setAttribute('datetime', next.device.lastSeenAt ?? '');
    return false;
  }

  override render() {
    const { device, now } = this.props;
    const face = this.next ?? cardFace(device, now, this.etaText);
    this.next = undefined;
    this.shown = JSON.stringify(face);
    const titleId = `device-${face.id}-title`;
    const job = face.job;
    return (
      <li
        class={`device-card state-edge-${face.state}`}
        data-device-id={face.id}
        aria-labelledby={titleId}
      >
        <div class="card-head">
          <h3 id={titleId} class="card-title">
            <Link href={devicePath(face.id)}>{face.title}</Link>
          </h3>
          <StateBadge state={face.state} />
        </div>
        <p class="card-sub">{face.sub}</p>
        <div class="card-job">
          {job ? (
            <>
              <p class="job-line">
                <span class="job-name">{job.name}</span>
                <span class="job-pct">{job.percent} %</span>
              </p>
              <ProgressBar value={job.progress} label={`Progress of ${job.name}`} />
              <p class="muted small">
                {job.status} · {job.owner}
              </p>
            </>
          ) : (
            <p class="muted">No current job</p>
          )}
        </div>
        <ul class="card-flags" aria-label="Attention">
          {face.alerts ? (
            <li class={`flag severity-${face.alerts.worst}`}>
              <NamedIcon name="bell" />
              {face.alerts.count} open alert{face.alerts.count === 1 ? '' : 's'} ·{' '}
              {SEVERITY_LABEL[face.alerts.worst]}
            </li>
          ) : null}
          {face.low.map((c) => (
            <li key={c.slot} class={`flag consumable-${c.status}`}>
              <NamedIcon name="drop" />
              {c.slot} {c.level} % {c.status}
            </li>
          ))}
        </ul>
        <p class="card-foot muted small">
          Last seen{' '}
          <time ref={this.setSeenAt} dateTime={device.lastSeenAt ?? ''}>
            {face.seen}
          </time>{' '}
          · firmware {face.firmware}
        </p>
      </li>
    );
  }
}
