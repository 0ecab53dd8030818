// The uplink at a glance: enrolled or not and whether reports get through, where they go and by
// which route, the last success, attempt and error, the retry schedule, and the outbox depth
// against its bounds.

import type { UplinkStatus } from '../api/types';
import { useNow } from '../app-context';
import { NamedIcon, type IconName } from '../components/icons';
import { formatAgo, formatDateTime, formatDuration } from '../format/time-format';

type UplinkHealth = 'not-enrolled' | 'switched-off' | 'failing' | 'waiting' | 'delivering';

interface HealthLook {
  label: string;
  icon: IconName;
  tone: 'muted' | 'warning' | 'critical' | 'info' | 'ok';
}

const HEALTH: Record<UplinkHealth, HealthLook> = {
  'not-enrolled': { label: 'Not enrolled', icon: 'offline', tone: 'muted' },
  'switched-off': { label: 'Enrolled — sending switched off', icon: 'pause', tone: 'warning' },
  failing: { label: 'Enrolled — delivery failing', icon: 'error', tone: 'critical' },
  waiting: { label: 'Enrolled — no report delivered yet', icon: 'updating', tone: 'info' },
  delivering: { label: 'Enrolled — reports delivered', icon: 'check', tone: 'ok' },
};

export function uplinkHealth(s: UplinkStatus): UplinkHealth {
  if (!s.enrolled) return 'not-enrolled';
  if (!s.enabled) return 'switched-off';
  // The server clears lastError on the next success, so either one means the last attempt failed.
  if (s.delivery.consecutiveFailures > 0 || s.lastError !== null) return 'failing';
  if (s.lastSuccessAt === null) return 'waiting';
  return 'delivering';
}

/** Binary units, as the outbox bounds are configured in bytes: "512 B", "1.5 KiB", "10 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'] as const;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = value.toLocaleString(undefined, { maximumFractionDigits: value < 10 ? 1 : 0 });
  return `${text} ${units[unit] ?? 'GiB'}`;
}

/** "3 min ago" or "in 2 min", beside the full local time, so both readings are at hand. */
const FUTURE_SLACK_MS = 5000;

export function Moment({ iso, now }: { iso: string | null; now: number }) {
  if (iso === null) return <>never</>;
  const t = Date.parse(iso);
  // `now` ticks every few seconds and clocks differ a little: a time that is at most that far
  // ahead has just happened, and reads as past rather than "in 0 s".
  const relative =
    Number.isNaN(t) || t - now < FUTURE_SLACK_MS
      ? formatAgo(iso, Math.max(now, t))
      : `in ${formatDuration(t - now)}`;
  return (
    <time dateTime={iso}>
      {relative} <span class="muted">({formatDateTime(iso)})</span>
    </time>
  );
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function UplinkStatusPanel({ status }: { status: UplinkStatus }) {
  const now = useNow(5000);
  const health = uplinkHealth(status);
  const look = HEALTH[health];
  const { enrollment, delivery, route } = status;
  return (
    <section class="panel cloud-status" aria-labelledby="cloud-status">
      <h2 id="cloud-status">Status</h2>
      <p class={`cloud-health cloud-tone-${look.tone}`} data-health={health}>
        <NamedIcon name={look.icon} /> <strong>{look.label}</strong>
      </p>
      {health === 'not-enrolled' ? (
        <p>Nothing leaves this site until it is enrolled with the vendor cloud.</p>
      ) : null}
      {!status.enabled ? (
        <p class="callout warning">
          Sending is switched off in the configuration (<code>uplink.enabled: false</code>): no
          report leaves this site. Switch it on and restart to deliver reports.
        </p>
      ) : null}
      {status.lastError ? (
        <div class="callout error cloud-last-error" data-last-error>
          <p>
            <NamedIcon name="error" /> <strong>Last error</strong>{' '}
            <Moment iso={status.lastError.at} now={now} />
          </p>
          <p class="cloud-error-message">{status.lastError.message}</p>
        </div>
      ) : null}
      <dl class="status-list cloud-status-list">
        {enrollment ? (
          <>
            <dt>Organization</dt>
            <dd>{enrollment.organizationId}</dd>
            <dt>Site id</dt>
            <dd>
              <code>{enrollment.siteId}</code>
            </dd>
            <dt>Endpoint</dt>
            <dd>
              <code>{enrollment.endpoint}</code>
            </dd>
            <dt>Enrolled</dt>
            <dd>
              <Moment iso={enrollment.enrolledAt} now={now} /> by {enrollment.enrolledBy}
            </dd>
            <dt>Key id</dt>
            <dd>
              <code>{enrollment.kid}</code>
            </dd>
          </>
        ) : null}
        <dt>Route</dt>
        <dd data-route={route.via}>
          {route.via === 'proxy' ? (
            <>
              Through proxy <code>{route.proxy ?? '(configured proxy)'}</code>
            </>
          ) : (
            'Direct (no proxy)'
          )}
        </dd>
        <dt>Last success</dt>
        <dd>
          <Moment iso={status.lastSuccessAt} now={now} />
          {delivery.lastDelivered ? (
            <span class="muted">
              {' '}
              · report #{delivery.lastDelivered.seq},{' '}
              {delivery.lastDelivered.via === 'proxy' ? 'through the proxy' : 'direct'}
            </span>
          ) : null}
        </dd>
        <dt>Last attempt</dt>
        <dd>
          <Moment iso={status.lastAttemptAt} now={now} />
        </dd>
        {delivery.consecutiveFailures > 0 ? (
          <>
            <dt>Backing off</dt>
            <dd data-backoff>
              {plural(delivery.consecutiveFailures, 'consecutive failure', 'consecutive failures')}
              {delivery.retryAt ? (
                <>
                  ; next try <Moment iso={delivery.retryAt} now={now} />
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        <dt>Report interval</dt>
        <dd>every {formatDuration(status.intervalSeconds * 1000)}</dd>
        <dt>Next report</dt>
        <dd>
          {status.nextReportAt ? (
            <Moment iso={status.nextReportAt} now={now} />
          ) : (
            <span class="muted">not scheduled</span>
          )}
        </dd>
      </dl>
      <OutboxSection outbox={status.outbox} now={now} />
    </section>
  );
}

function OutboxSection({ outbox, now }: { outbox: UplinkStatus['outbox']; now: number }) {
  const { limits } = outbox;
  const share = limits.maxBytes > 0 ? Math.min(1, outbox.bytes / limits.maxBytes) : 0;
  const pct = Math.round(share * 100);
  const fill = pct >= 90 ? 'full' : pct >= 60 ? 'high' : 'ok';
  const sizeText = `${formatBytes(outbox.bytes)} of ${formatBytes(limits.maxBytes)}`;
  return (
    <section aria-labelledby="cloud-outbox" class="cloud-outbox" data-outbox>
      <h3 id="cloud-outbox">Outbox (reports waiting for the cloud)</h3>
      <dl class="status-list">
        <dt>Queued</dt>
        <dd data-outbox-count>
          {plural(outbox.count, 'report', 'reports')}{' '}
          <span class="muted">(at most {limits.maxItems.toLocaleString()})</span>
        </dd>
        <dt>Size</dt>
        <dd>
          <div class="cloud-meter">
            <div
              class={`bar cloud-fill-${fill}`}
              role="meter"
              aria-label="Outbox size"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={pct}
              aria-valuetext={`${sizeText} (${pct} %)`}
            >
              <div class="bar-fill" style={{ width: `${pct}%` }} />
            </div>
            <span data-outbox-size>
              {sizeText} ({pct} %)
            </span>
          </div>
        </dd>
        <dt>Critical</dt>
        <dd data-outbox-critical>
          {plural(outbox.criticalCount, 'critical report', 'critical reports')}{' '}
          <span class="muted">(dropped last when the outbox is full)</span>
        </dd>
        <dt>Oldest</dt>
        <dd>{outbox.oldestAt ? <Moment iso={outbox.oldestAt} now={now} /> : 'nothing waiting'}</dd>
        {outbox.droppedTotal > 0 ? (
          <>
            <dt>Dropped</dt>
            <dd data-outbox-dropped class="cloud-tone-warning">
              {plural(outbox.droppedTotal, 'report', 'reports')} since the server started, to stay
              within the bounds
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}
