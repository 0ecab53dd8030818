// Device: identity, live metric charts (last hour by default, up to 30 days, drag to zoom), the
// current job with pause / resume / cancel for roles that may act, consumables, alerts with
// acknowledge, recent jobs and alerts from history, and MQTT access for `devices:manage`.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/api-client';
import type { Alert, DeviceCommand, DeviceView, Job, MetricHistory, Page } from '../api/types';
import { useApp, useFleetVersion, useNow, useTitle } from '../app-context';
import { AlertRow } from '../components/alert-row';
import { DeviceTokenPanel } from '../components/device-token-panel';
import { Link } from '../components/link';
import { LevelBar, ProgressBar } from '../components/meter-bar';
import { MetricChart, type SeriesData } from '../components/metric-chart';
import { StateBadge } from '../components/state-badge';
import { withAlert, type FleetEvent } from '../live/fleet-store';
import { appendLive, RANGES, seriesFromHistory, type RangeKey } from '../fleet/metric-series';
import { JOB_STATE_LABEL, KIND_LABEL, SEVERITY_LABEL, siteLabel } from '../format/labels';
import { formatAgo, formatDateTime, formatEta } from '../format/time-format';

type View = { range: RangeKey } | { from: number; to: number };

const ACTION_LABEL = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' } as const;
type JobAction = keyof typeof ACTION_LABEL;

/** Words for a command's outcome, shown after an action. */
export function commandOutcome(command: DeviceCommand): { text: string; ok: boolean } {
  const what = `${ACTION_LABEL[command.action as JobAction]} ${command.targetId}`;
  switch (command.status) {
    case 'accepted':
      return { text: `${what}: accepted by ${command.deviceId}`, ok: true };
    case 'pending':
      return { text: `${what}: sent, waiting for ${command.deviceId}`, ok: true };
    case 'rejected':
      return {
        text: `${what}: refused by the device — ${command.message ?? 'no reason given'}`,
        ok: false,
      };
    case 'timed-out':
      return { text: `${what}: ${command.deviceId} did not answer in time`, ok: false };
    case 'failed':
      return {
        text: `${what}: could not be delivered — ${command.message ?? 'unknown error'}`,
        ok: false,
      };
  }
}

function useDevice(id: string): { device: DeviceView | null; missing: boolean } {
  const { fleet, api } = useApp();
  useFleetVersion(fleet);
  const [fetched, setFetched] = useState<DeviceView | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    // The stream's snapshot may not have arrived yet: ask the API once.
    api
      .get<DeviceView>(`/api/v1/devices/${encodeURIComponent(id)}`)
      .then(setFetched, (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) setMissing(true);
      });
  }, [api, id]);
  const live = fleet.devices.get(id) ?? null;
  return { device: live ?? fetched, missing: missing && !live };
}

export function DevicePage({ id }: { id: string }) {
  const app = useApp();
  const { device, missing } = useDevice(id);
  useTitle(device ? device.name || device.id : id);
  const now = useNow(5000);

  if (missing) {
    return (
      <section class="page" aria-labelledby="page-title">
        <h1 id="page-title">Device not found</h1>
        <p>
          No device with id <code>{id}</code>. It may have been removed. Back to the{' '}
          <Link href="/fleet">fleet</Link>.
        </p>
      </section>
    );
  }
  if (!device) {
    return (
      <section class="page" aria-busy="true">
        <h1 id="page-title">{id}</h1>
        <p class="muted">Loading…</p>
      </section>
    );
  }
  return (
    <section class="page" aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" class="breadcrumb muted small">
        <Link href="/fleet">Fleet</Link> / {device.id}
      </nav>
      <div class="device-head">
        <h1 id="page-title">{device.name || device.id}</h1>
        <StateBadge state={device.state} large />
        <span class="muted">Last seen {formatAgo(device.lastSeenAt, now)}</span>
      </div>
      <dl class="identity panel">
        <div>
          <dt>Device id</dt>
          <dd>{device.id}</dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{KIND_LABEL[device.kind]}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{device.model || '—'}</dd>
        </div>
        <div>
          <dt>Serial number</dt>
          <dd>{device.serial || '—'}</dd>
        </div>
        <div>
          <dt>Site</dt>
          <dd>{siteLabel(device.siteId)}</dd>
        </div>
        <div>
          <dt>Firmware version</dt>
          <dd>{device.firmwareVersion || '—'}</dd>
        </div>
        <div>
          <dt>Web Services address</dt>
          <dd>{device.address ?? 'none (MQTT only)'}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{formatDateTime(device.lastSeenAt)}</dd>
        </div>
      </dl>
      <div class="device-layout">
        <div class="stack">
          <CurrentJob device={device} now={now} canAct={app.can('jobs:act')} />
          <MetricsPanel device={device} />
          <DeviceJobs deviceId={device.id} />
        </div>
        <div class="stack">
          <OpenAlerts device={device} now={now} />
          <Consumables device={device} now={now} />
          <DeviceAlertHistory deviceId={device.id} />
          {app.can('devices:manage') ? <DeviceTokenPanel deviceId={device.id} /> : null}
        </div>
      </div>
    </section>
  );
}

function CurrentJob({ device, now, canAct }: { device: DeviceView; now: number; canAct: boolean }) {
  const { api, notify, me } = useApp();
  const [busy, setBusy] = useState<JobAction | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const job = device.currentJob;

  async function act(action: JobAction): Promise<void> {
    if (!job) return;
    setBusy(action);
    setConfirmCancel(false);
    try {
      const command = await api.post<DeviceCommand>(
        `/api/v1/jobs/${encodeURIComponent(job.id)}/${action}`,
      );
      const outcome = commandOutcome(command);
      notify(outcome.text, outcome.ok ? 'success' : 'error');
    } catch (err) {
      notify(
        `${ACTION_LABEL[action]} failed: ${err instanceof Error ? err.message : String(err)}`,
        'error',
      );
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="panel" aria-labelledby="job-title">
      <h2 id="job-title">Current job</h2>
      {job ? (
        <div class="stack">
          <div class="job-line">
            <span>
              <strong>{job.name}</strong>{' '}
              <span class="muted">
                · {job.id} · {job.owner}
              </span>
            </span>
            <span class="job-pct">
              {JOB_STATE_LABEL[job.state]} · {job.progress.toFixed(1)} %
            </span>
          </div>
          <ProgressBar value={job.progress} label={`Progress of ${job.name}`} />
          <p class="muted small">
            {job.layer !== null && job.layers !== null
              ? `Layer ${job.layer} of ${job.layers} · `
              : ''}
            Started {job.startedAt ? formatDateTime(job.startedAt) : 'not yet'}
            {job.materialUsedG !== null ? ` · ${Math.round(job.materialUsedG)} g material` : ''}
            {' · '}
            {formatEta(job.estimatedEndAt, now) ?? 'no estimate'}
          </p>
          {canAct ? (
            <div class="actions" aria-label="Job actions">
              {job.state === 'printing' ? (
                <button
                  type="button"
                  class="button"
                  disabled={busy !== null}
                  onClick={() => void act('pause')}
                >
                  {busy === 'pause' ? 'Pausing…' : 'Pause job'}
                </button>
              ) : null}
              {job.state === 'paused' ? (
                <button
                  type="button"
                  class="button primary"
                  disabled={busy !== null}
                  onClick={() => void act('resume')}
                >
                  {busy === 'resume' ? 'Resuming…' : 'Resume job'}
                </button>
              ) : null}
              {confirmCancel ? (
                <span class="confirm" role="group" aria-label="Confirm cancel">
                  <span>Cancel “{job.name}”? This cannot be undone.</span>
                  <button
                    type="button"
                    class="button danger"
                    disabled={busy !== null}
                    onClick={() => void act('cancel')}
                  >
                    Yes, cancel job
                  </button>
                  <button
                    type="button"
                    class="button secondary"
                    onClick={() => setConfirmCancel(false)}
                  >
                    Keep it
                  </button>
                </span>
              ) : (
                <button
                  type="button"
                  class="button secondary"
                  disabled={busy !== null}
                  onClick={() => setConfirmCancel(true)}
                >
                  {busy === 'cancel' ? 'Cancelling…' : 'Cancel job…'}
                </button>
              )}
            </div>
          ) : (
            <p class="muted small">
              Your role ({me.user.role}) may watch jobs but not act on them.
            </p>
          )}
        </div>
      ) : (
        <p class="muted">No job on this device right now.</p>
      )}
    </section>
  );
}

function MetricsPanel({ device }: { device: DeviceView }) {
  const { api } = useApp();
  const [view, setView] = useState<View>({ range: '1h' });
  const [series, setSeries] = useState<SeriesData[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState<number | null>(null);
  const request = useRef(0);

  const load = useCallback(async () => {
    const mine = ++request.current;
    const to = 'range' in view ? Date.now() : view.to * 1000;
    const seconds =
      'range' in view
        ? (RANGES.find((r) => r.key === view.range)?.seconds ?? 3600)
        : view.to - view.from;
    const from = to - seconds * 1000;
    try {
      const history = await api.get<MetricHistory>(
        `/api/v1/devices/${encodeURIComponent(device.id)}/metrics`,
        {
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
        },
      );
      if (mine !== request.current) return;
      setSeries(seriesFromHistory(history));
      setStep(history.stepSeconds);
      setError(null);
    } catch (err) {
      if (mine === request.current) setError(err instanceof Error ? err.message : String(err));
    }
  }, [api, device.id, view]);

  useEffect(() => {
    void load();
    // Longer ranges are fetched again now and then; the last hour is kept current from the stream.
    const timer = setInterval(() => void load(), 5 * 60_000);
    return () => clearInterval(timer);
  }, [load]);

  // Live: the stream's newest values extend the preset ranges (not a zoomed, fixed span).
  const windowSeconds =
    'range' in view ? (RANGES.find((r) => r.key === view.range)?.seconds ?? 3600) : null;
  useEffect(() => {
    if (windowSeconds === null) return;
    setSeries((current) =>
      current ? appendLive(current, device.metrics, windowSeconds) : current,
    );
  }, [device.metrics, windowSeconds]);

  const zoom = useCallback((from: number, to: number) => {
    if (to - from >= 60) setView({ from: Math.floor(from), to: Math.ceil(to) });
  }, []);
  const reset = useCallback(() => setView({ range: '1h' }), []);

  return (
    <section class="panel" aria-labelledby="metrics-title">
      <div class="chart-toolbar">
        <h2 id="metrics-title">Metrics</h2>
        <div class="range-buttons" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button
              key={r.key}
              type="button"
              aria-pressed={'range' in view && view.range === r.key}
              onClick={() => setView({ range: r.key })}
            >
              {r.label}
            </button>
          ))}
          {'from' in view ? (
            <button type="button" onClick={reset}>
              Reset zoom
            </button>
          ) : null}
        </div>
      </div>
      <p class="muted small">
        {'range' in view
          ? `Last ${RANGES.find((r) => r.key === view.range)?.label ?? ''}, live.`
          : `${formatDateTime(new Date(view.from * 1000).toISOString())} – ${formatDateTime(new Date(view.to * 1000).toISOString())}.`}
        {step !== null ? ` One point per ${step} s.` : ''} Drag across a chart to zoom in;
        double-click to go back.
      </p>
      {error ? (
        <p class="callout error" role="alert">
          Metrics could not be loaded: {error}
        </p>
      ) : null}
      {series === null ? (
        <p class="muted">Loading metrics…</p>
      ) : series.length === 0 ? (
        <p class="muted">This device has not reported any metrics yet.</p>
      ) : (
        <div class="charts">
          {series.map((s) => (
            <MetricChart key={s.name} series={s} onZoom={zoom} onReset={reset} />
          ))}
        </div>
      )}
    </section>
  );
}

function Consumables({ device, now }: { device: DeviceView; now: number }) {
  return (
    <section class="panel" aria-labelledby="consumables-title">
      <h2 id="consumables-title">Consumables</h2>
      {device.consumables.length === 0 ? (
        <p class="muted">This device reports no consumables.</p>
      ) : (
        <ul class="consumable-list">
          {device.consumables.map((c) => (
            <li key={c.slot} class="consumable-row">
              <span>
                <strong>{c.slot}</strong> <span class="muted">{c.type}</span>
              </span>
              <span class={c.status === 'ok' ? '' : `consumable-${c.status}`}>
                {Math.round(c.level)} % · {c.status}
              </span>
              <LevelBar value={c.level} status={c.status} label={`${c.slot} level`} />
              {c.expiresAt ? (
                <span class="muted small">
                  {Date.parse(c.expiresAt) < now ? 'Expired' : 'Expires'}{' '}
                  {formatDateTime(c.expiresAt)}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function OpenAlerts({ device, now }: { device: DeviceView; now: number }) {
  const { api, fleet, notify, can } = useApp();
  const [busy, setBusy] = useState<string | null>(null);

  async function ack(alert: Alert): Promise<void> {
    setBusy(alert.id);
    try {
      const updated = await api.post<Alert>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/ack`);
      const current = fleet.devices.get(device.id);
      if (current) fleet.put(withAlert(current, updated));
      notify(`Alert ${updated.code} acknowledged`, 'success');
    } catch (err) {
      notify(`Acknowledge failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setBusy(null);
    }
  }

  const alerts = [...device.openAlerts].reverse();
  return (
    <section class="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Open alerts ({alerts.length})</h2>
      {alerts.length === 0 ? (
        <p class="muted">No open alerts.</p>
      ) : (
        <ul class="alert-list">
          {alerts.map((a) => (
            <li key={a.id} class={`alert-item severity-${a.severity}`} data-alert-id={a.id}>
              <div class="alert-top">
                <strong>
                  {SEVERITY_LABEL[a.severity]} · {a.code}
                </strong>
                <span class="muted small">{formatAgo(a.raisedAt, now)}</span>
              </div>
              <p>{a.message}</p>
              {a.acknowledgedBy ? (
                <p class="muted small">
                  Acknowledged by {a.acknowledgedBy} {formatAgo(a.acknowledgedAt, now)}
                </p>
              ) : can('alerts:ack') ? (
                <div>
                  <button
                    type="button"
                    class="button"
                    disabled={busy === a.id}
                    onClick={() => void ack(a)}
                    aria-label={`Acknowledge ${a.code}: ${a.message}`}
                  >
                    {busy === a.id ? 'Acknowledging…' : 'Acknowledge'}
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Reloads a list when the stream reports a change that concerns it (debounced). */
export function useReloadOn(matches: (event: FleetEvent) => boolean, reload: () => void): void {
  const { fleet } = useApp();
  const match = useRef(matches);
  match.current = matches;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = fleet.onEvent((event) => {
      if (!match.current(event)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 800);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [fleet, reload]);
}

function DeviceJobs({ deviceId }: { deviceId: string }) {
  const { api } = useApp();
  const [page, setPage] = useState<Page<Job> | null>(null);
  const load = useCallback(() => {
    api.get<Page<Job>>('/api/v1/jobs', { deviceId, limit: 10 }).then(setPage, () => undefined);
  }, [api, deviceId]);
  useEffect(load, [load]);
  useReloadOn((e) => e.type === 'job' && e.job.deviceId === deviceId, load);
  return (
    <section class="panel" aria-labelledby="device-jobs-title">
      <div class="chart-toolbar">
        <h2 id="device-jobs-title">Recent jobs</h2>
        <Link href={`/jobs?deviceId=${encodeURIComponent(deviceId)}`}>All jobs of this device</Link>
      </div>
      {page === null ? (
        <p class="muted">Loading…</p>
      ) : page.items.length === 0 ? (
        <p class="muted">No jobs recorded for this device.</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="muted small">Newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Progress
                </th>
                <th scope="col">Owner</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((j) => (
                <tr key={j.id}>
                  <td>{j.name}</td>
                  <td>{JOB_STATE_LABEL[j.state]}</td>
                  <td class="num">{j.progress.toFixed(0)} %</td>
                  <td>{j.owner}</td>
                  <td>{formatDateTime(j.startedAt)}</td>
                  <td>{formatDateTime(j.endedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeviceAlertHistory({ deviceId }: { deviceId: string }) {
  const { api, can } = useApp();
  const [page, setPage] = useState<Page<Alert> | null>(null);
  const load = useCallback(() => {
    api.get<Page<Alert>>('/api/v1/alerts', { deviceId, limit: 10 }).then(setPage, () => undefined);
  }, [api, deviceId]);
  useEffect(() => {
    if (can('alerts:read')) load();
  }, [load, can]);
  useReloadOn((e) => e.type === 'alert' && e.alert.deviceId === deviceId, load);
  if (!can('alerts:read')) return null;
  return (
    <section class="panel" aria-labelledby="alert-history-title">
      <div class="chart-toolbar">
        <h2 id="alert-history-title">Alert history</h2>
        <Link href={`/alerts?deviceId=${encodeURIComponent(deviceId)}`}>All alerts</Link>
      </div>
      {page === null ? (
        <p class="muted">Loading…</p>
      ) : page.items.length === 0 ? (
        <p class="muted">No alerts recorded for this device.</p>
      ) : (
        <ul class="alert-list">
          {page.items.map((a) => (
            <AlertRow key={a.id} alert={a} />
          ))}
        </ul>
      )}
    </section>
  );
}
