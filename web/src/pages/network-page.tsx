// The Network diagnostics page: runs the network doctor on the server and follows it (every second
// while it runs), then shows what it found (network-report.tsx); and the ports this server listens
// on, for the site firewall.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/api-client';
import type { DiagnosticsRun, ServerInfo } from '../api/types';
import { useApp } from '../app-context';
import { ProgressBar } from '../components/meter-bar';
import { NamedIcon, type IconName } from '../components/icons';
import { formatDateTime, formatDuration } from '../format/time-format';
import {
  CHECK_LABEL,
  CheckBadge,
  EndpointMatrix,
  LocalChecks,
  PATH_LABEL,
  ProblemList,
} from './network-report';
import { messageOf } from './users-page';

/** How often a running check is loaded again. */
export const NETWORK_POLL_MS = 1000;

const PATH = '/api/v1/diagnostics';

export function NetworkPage() {
  return (
    <>
      <p class="net-intro">
        The network check tests, from this server, every endpoint the site needs (cloud, firmware
        catalog and downloads): DNS, TCP, TLS or the FTP banner, and an HTTPS request, directly and
        through the proxy when one is set. It also checks this server: its ports, clock, disk space,
        broker, database and bandwidth. Every problem comes with its likely cause and the fix.
      </p>
      <NetworkCheck />
      <PortsPanel />
    </>
  );
}

function useDiagnosticsRun() {
  const { api } = useApp();
  /** Undefined until the first answer. */
  const [run, setRun] = useState<DiagnosticsRun | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  // Counts finished loads, so that polling goes on after a load that failed.
  const [loads, setLoads] = useState(0);
  const latest = useRef(0);

  const load = useCallback(() => {
    latest.current += 1;
    const ticket = latest.current;
    api.get<{ run: DiagnosticsRun | null }>(PATH).then(
      (answer) => {
        if (ticket !== latest.current) return;
        setRun(answer.run);
        setLoadError(null);
        setLoads((n) => n + 1);
      },
      (err: unknown) => {
        if (ticket !== latest.current) return;
        setLoadError(messageOf(err));
        setLoads((n) => n + 1);
      },
    );
  }, [api]);

  useEffect(() => {
    load();
    // Answers arriving after the page is gone must not be applied.
    return () => {
      latest.current += 1;
    };
  }, [load]);

  const running = run?.state === 'running';
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(load, NETWORK_POLL_MS);
    return () => clearTimeout(timer);
  }, [running, loads, load]);

  const start = useCallback(() => {
    setStarting(true);
    setStartError(null);
    api
      .post<{ run: DiagnosticsRun }>(PATH, {})
      .then(
        (answer) => {
          // Any load still in flight is older than this run.
          latest.current += 1;
          setRun(answer.run);
        },
        (err: unknown) => {
          setStartError(messageOf(err));
          // Someone else's run: follow it.
          if (err instanceof ApiError && err.code === 'DIAGNOSTICS_RUNNING') load();
        },
      )
      .finally(() => setStarting(false));
  }, [api, load]);

  return { run, loadError, startError, starting, start };
}

type Overall = 'running' | 'all-good' | 'warnings' | 'failures';

const OVERALL: Record<Overall, { label: string; icon: IconName; tone: string }> = {
  running: { label: 'Checking…', icon: 'updating', tone: 'muted' },
  'all-good': { label: 'All good', icon: 'check', tone: 'ok' },
  warnings: { label: 'Warnings', icon: 'error', tone: 'warn' },
  failures: { label: 'Failures', icon: 'stop', tone: 'fail' },
};

function overallOf(run: DiagnosticsRun): Overall {
  switch (run.exitCode) {
    case null:
      return 'running';
    case 0:
      return 'all-good';
    case 1:
      return 'warnings';
    case 2:
      return 'failures';
  }
}

function NetworkCheck() {
  const { run, loadError, startError, starting, start } = useDiagnosticsRun();
  const busy = starting || run?.state === 'running';
  return (
    <>
      <section class="panel net-run" aria-labelledby="net-check">
        <h2 id="net-check">Network check</h2>
        <div class="net-actions">
          <button
            type="button"
            class="button primary"
            // aria-disabled rather than disabled: the button keeps the keyboard focus while it runs.
            aria-disabled={busy ? 'true' : 'false'}
            aria-describedby="net-check-errors"
            onClick={() => {
              if (!busy) start();
            }}
          >
            <NamedIcon name="play" /> {busy ? 'Running…' : 'Run network check'}
          </button>
          <div id="net-check-errors" class="net-errors">
            {startError ? (
              <p class="form-error" role="alert" data-start-error>
                Not started: {startError}
              </p>
            ) : null}
            {loadError ? (
              <p class="form-error" role="alert" data-load-error>
                The last check could not be loaded: {loadError}
              </p>
            ) : null}
          </div>
        </div>
        {run === undefined ? (
          loadError ? null : (
            <p class="muted">Loading…</p>
          )
        ) : run === null ? (
          <p class="muted" data-no-run>
            No check has run since the server started. A run takes from a few seconds to about a
            minute when endpoints do not answer.
          </p>
        ) : (
          <RunStatus run={run} />
        )}
      </section>
      {run ? (
        <>
          <EndpointMatrix run={run} />
          <LocalChecks run={run} />
          <ProblemList run={run} />
        </>
      ) : null}
    </>
  );
}

function RunStatus({ run }: { run: DiagnosticsRun }) {
  const overall = overallOf(run);
  const look = OVERALL[overall];
  const done = run.checks.length;
  const latest = run.checks[done - 1];
  const pct = run.total > 0 ? (100 * done) / run.total : 0;
  return (
    <>
      <div role="status" class="net-status" data-overall={overall}>
        <p class={`net-overall net-${look.tone}`}>
          <NamedIcon name={look.icon} /> {look.label}
        </p>
        {run.state === 'running' ? (
          <p data-progress>
            {done} of {run.total} checks done
          </p>
        ) : run.summary ? (
          <p data-counts>
            {run.summary.ok} ok, {run.summary.warn} warnings, {run.summary.fail} failed,{' '}
            {run.summary.skipped} skipped
          </p>
        ) : null}
      </div>
      {run.state === 'running' ? (
        <div class="net-progress">
          <ProgressBar value={pct} label="Checks done" />
          {latest ? (
            <p class="net-latest" data-latest>
              Latest: <CheckBadge check={latest} /> <code>{latest.subject}</code>{' '}
              {CHECK_LABEL[latest.name]} ({PATH_LABEL[latest.path]}): {latest.detail}
            </p>
          ) : null}
        </div>
      ) : null}
      <dl class="status-list net-facts">
        <dt>Started</dt>
        <dd data-started>
          <time dateTime={run.startedAt}>{formatDateTime(run.startedAt)}</time> by {run.startedBy}
        </dd>
        <dt>Finished</dt>
        <dd data-finished>
          {run.finishedAt === null ? (
            'still running'
          ) : (
            <>
              <time dateTime={run.finishedAt}>{formatDateTime(run.finishedAt)}</time> (took{' '}
              {formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt))})
            </>
          )}
        </dd>
        <dt>Proxy</dt>
        <dd data-proxy>
          {run.proxy === null ? (
            'none configured: only the direct path is tested'
          ) : (
            <>
              <code>{run.proxy}</code>, tested beside the direct path
            </>
          )}
        </dd>
      </dl>
    </>
  );
}

function PortsPanel() {
  const { api } = useApp();
  const [info, setInfo] = useState<ServerInfo | null>(null);
  useEffect(() => {
    api.get<ServerInfo>('/api/v1/info').then(setInfo, () => undefined);
  }, [api]);
  const host = window.location.hostname;
  return (
    <section class="panel" aria-labelledby="net-ports">
      <h2 id="net-ports">Ports in use</h2>
      {info ? (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Address</th>
                <th scope="col">Who connects</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Client API and dashboard (HTTPS)</td>
                <td>
                  <code>
                    https://{host}:{info.ports.https}
                  </code>
                </td>
                <td>browsers, the CLI, integrations</td>
              </tr>
              <tr>
                <td>Plain HTTP (redirect, health, CA certificate)</td>
                <td>
                  <code>
                    http://{host}:{info.ports.http}
                  </code>
                </td>
                <td>browsers (redirected), monitoring</td>
              </tr>
              <tr>
                <td>MQTT broker</td>
                <td>
                  <code>
                    mqtt://{host}:{info.ports.mqtt}
                  </code>
                </td>
                <td>devices, read-only integrations</td>
              </tr>
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">Loading…</p>
      )}
      <p class="muted small">
        Open these ports to the device and client networks in the site firewall. Nothing needs an
        incoming port from the internet.
      </p>
    </section>
  );
}
