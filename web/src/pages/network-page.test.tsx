// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { DiagnosticCheck, DiagnosticsRun, Me, ServerInfo } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { AdminPage } from './admin-pages';
import { NETWORK_POLL_MS } from './network-page';
import { endpointGroups, endpointVerdict, type EndpointVerdict } from './network-report';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const ADMIN: Me = {
  user: { id: 'u-admin', username: 'admin', role: 'admin', sites: null },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'settings:manage', 'diagnostics:run'],
};

const INFO: ServerInfo = {
  name: 'Command Center',
  version: '0.1.0',
  startedAt: '2025-03-01T10:00:00.000Z',
  uptimeSeconds: 60,
  ports: { https: 8443, http: 8080, mqtt: 8883 },
};

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** A fixed answer, or one computed for each call; an Error is thrown, a missing one fails. */
type Answer = object | (() => object);

function fakeApi(answers: Record<string, Answer>, calls: Call[]): ApiClient {
  const answer = (method: string, path: string, body?: unknown): Promise<unknown> => {
    calls.push({ method, path, body });
    const entry = answers[`${method} ${path}`];
    const value: unknown = typeof entry === 'function' ? entry() : entry;
    if (value instanceof Error) return Promise.reject(value);
    if (value === undefined) return Promise.reject(new Error(`unexpected ${method} ${path}`));
    return Promise.resolve(value);
  };
  return {
    get: <T,>(path: string) => answer('GET', path) as Promise<T>,
    post: <T,>(path: string, body?: unknown) => answer('POST', path, body) as Promise<T>,
  };
}

function context(api: ApiClient, me: Me = ADMIN): AppContextValue {
  return {
    api,
    me,
    fleet: new FleetStore(),
    connection: { state: 'live', since: 0 },
    can: (p) => me.permissions.includes(p),
    notify: () => undefined,
    logout: () => undefined,
    reconnect: () => undefined,
  };
}

function renderPage(api: ApiClient) {
  return render(
    <AppContext.Provider value={context(api)}>
      <AdminPage which="network" />
    </AppContext.Provider>,
  );
}

const check = (
  subject: string,
  name: DiagnosticCheck['name'],
  path: DiagnosticCheck['path'],
  status: DiagnosticCheck['status'],
  detail: string,
  extra: Partial<DiagnosticCheck> = {},
): DiagnosticCheck => ({ subject, name, path, status, detail, ms: 12, ...extra });

const PRINTOS = 'www.printos.com:443';
const S3 = 's3.amazonaws.com:443';
const FTP = 'h19002.www1.hp.com:21/ftp';

/** A finished run: printos only through the proxy, S3 nowhere, FTP directly; a clock warning. */
function doneRun(): DiagnosticsRun {
  const checks: DiagnosticCheck[] = [
    check(PRINTOS, 'dns', 'direct', 'ok', 'resolved to 15.73.10.1'),
    check(PRINTOS, 'tcp', 'direct', 'fail', 'TCP connect failed: timed out after 5000 ms', {
      cause: 'a firewall drops the connection silently, or there is no route to the host',
      fix: 'allow outgoing TCP to www.printos.com:443 on the site firewall',
    }),
    check(PRINTOS, 'tls', 'direct', 'skipped', 'skipped after an earlier check failed'),
    check(PRINTOS, 'https', 'direct', 'skipped', 'skipped after an earlier check failed'),
    check(PRINTOS, 'tcp', 'proxy', 'ok', 'CONNECT through http://proxy.corp:3128 answered 200'),
    check(PRINTOS, 'tls', 'proxy', 'ok', 'TLSv1.3, chain trusted, expires in 200 days'),
    check(PRINTOS, 'https', 'proxy', 'ok', 'HTTP 200'),
    check(S3, 'dns', 'direct', 'ok', 'resolved to 52.216.1.1'),
    check(S3, 'tcp', 'direct', 'ok', 'connected'),
    check(
      S3,
      'tls',
      'direct',
      'fail',
      'TLS certificate chain is not trusted (SELF_SIGNED_CERT_IN_CHAIN)',
      {
        cause: 'untrusted chain: a TLS-inspecting proxy or firewall replaces the certificate',
        fix: 'exempt s3.amazonaws.com from TLS inspection',
      },
    ),
    check(S3, 'https', 'direct', 'skipped', 'skipped after the tls check failed'),
    check(S3, 'tcp', 'proxy', 'fail', 'the proxy answered 403 Forbidden', {
      cause: 'the proxy refuses this host',
      fix: 'allow s3.amazonaws.com on the proxy',
    }),
    check(S3, 'tls', 'proxy', 'skipped', 'skipped after the proxy CONNECT failed'),
    check(S3, 'https', 'proxy', 'skipped', 'skipped after the proxy CONNECT failed'),
    check(FTP, 'dns', 'direct', 'ok', 'resolved to 15.1.1.1'),
    check(FTP, 'tcp', 'direct', 'ok', 'connected'),
    check(FTP, 'ftp-banner', 'direct', 'ok', '220 FTP ready'),
    check('ports.https 8443-8450', 'ports', 'local', 'ok', '8443 ours, 7 free'),
    check('clock', 'clock', 'local', 'warn', 'this clock is 95 s behind the cloud', {
      cause: 'NTP is not running or cannot reach its servers',
      fix: 'enable NTP (timedatectl set-ntp true)',
      value: -95.2,
      unit: 's',
    }),
    check('data directory', 'disk', 'local', 'ok', '51200 MB free', { value: 51200, unit: 'MB' }),
    check('bandwidth', 'bandwidth', 'local', 'ok', 'DSL or better', {
      value: 24.5,
      unit: 'Mbit/s',
    }),
  ];
  return {
    id: 'run-1',
    state: 'done',
    startedAt: '2025-03-01T10:00:00.000Z',
    finishedAt: '2025-03-01T10:00:17.000Z',
    startedBy: 'admin',
    proxy: 'http://proxy.corp:3128',
    total: checks.length,
    checks,
    summary: {
      ok: 12,
      warn: 1,
      fail: 3,
      skipped: 5,
      workingPaths: { [PRINTOS]: ['proxy'], [S3]: [], [FTP]: ['direct'] },
    },
    exitCode: 2,
  };
}

function runningRun(done: number): DiagnosticsRun {
  const all = doneRun();
  return {
    ...all,
    state: 'running',
    finishedAt: null,
    checks: all.checks.slice(0, done),
    summary: null,
    exitCode: null,
  };
}

const diagnosticsGets = (calls: Call[]) =>
  calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/diagnostics').length;

/** Lets answered promises and the renders they cause run, under fake timers too. */
async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  });
}

/** Moves the faked clock on, running the timers due and what their answers cause. */
async function tick(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
  await settle();
}

const badge = (endpoint: string, path: string, column: string) =>
  document.querySelector(
    `tbody[data-endpoint="${endpoint}"] tr[data-path="${path}"] td[data-check="${column}"] [data-status]`,
  );

describe('network diagnostics page', () => {
  it('says no check has run yet, and keeps the ports in use', async () => {
    const api = fakeApi({ 'GET /api/v1/diagnostics': { run: null }, 'GET /api/v1/info': INFO }, []);
    renderPage(api);
    expect(
      (await screen.findByText(/No check has run since the server started/)).textContent,
    ).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Ports in use' })).toBeTruthy();
    expect(await screen.findByText(/:8883/)).toBeTruthy();
    const run = screen.getByRole('button', { name: /Run network check/ });
    expect(run.getAttribute('aria-disabled')).toBe('false');
    expect(screen.queryByRole('heading', { name: 'Endpoints' })).toBeNull();
  });

  it('shows a finished run: matrix badges, verdicts, local readings, problems failures first', async () => {
    const api = fakeApi(
      { 'GET /api/v1/diagnostics': { run: doneRun() }, 'GET /api/v1/info': INFO },
      [],
    );
    renderPage(api);
    await screen.findByRole('heading', { name: 'Endpoints' });

    const status = screen.getByRole('status');
    expect(status.getAttribute('data-overall')).toBe('failures');
    expect(status.textContent).toContain('Failures');
    expect(status.textContent).toContain('12 ok, 1 warnings, 3 failed, 5 skipped');
    expect(document.querySelector('[data-started]')?.textContent).toContain('by admin');
    expect(document.querySelector('[data-finished]')?.textContent).toContain('took 17 s');
    expect(document.querySelector('[data-proxy]')?.textContent).toContain('http://proxy.corp:3128');

    // Each cell: a badge with its word, the detail as its tooltip.
    const tcp = badge(PRINTOS, 'direct', 'tcp');
    expect(tcp?.getAttribute('data-status')).toBe('fail');
    expect(tcp?.textContent).toContain('Failed');
    expect(tcp?.getAttribute('title')).toContain('TCP connect failed: timed out after 5000 ms');
    expect(badge(PRINTOS, 'direct', 'tls')?.textContent).toContain('Skipped');
    expect(badge(PRINTOS, 'proxy', 'https')?.textContent).toContain('OK');
    expect(badge(S3, 'direct', 'tls')?.getAttribute('title')).toContain(
      'SELF_SIGNED_CERT_IN_CHAIN',
    );
    // The FTP banner sits in the TLS column; an FTP endpoint has no HTTPS check.
    expect(badge(FTP, 'direct', 'ftp-banner')?.textContent).toContain('OK');
    expect(badge(FTP, 'direct', 'https')).toBeNull();
    // Through the proxy, the proxy resolves the name: no DNS cell.
    expect(badge(PRINTOS, 'proxy', 'dns')).toBeNull();

    const verdict = (endpoint: string) =>
      document.querySelector(`tbody[data-endpoint="${endpoint}"] [data-verdict]`)?.textContent;
    expect(verdict(PRINTOS)).toBe('works via proxy only');
    expect(verdict(S3)).toBe('NOT reachable');
    expect(verdict(FTP)).toBe('works directly');
    const matrix = screen.getByRole('table', { name: 'Endpoints' });
    expect(
      within(matrix)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Endpoint', 'Path', 'DNS', 'TCP', 'TLS or FTP banner', 'HTTPS', 'Verdict']);

    const local = screen.getByRole('table', { name: 'This server' });
    const clock = local.querySelector('tr[data-local="clock"]');
    expect(clock?.querySelector('[data-status]')?.textContent).toContain('Warning');
    expect(clock?.querySelector('[data-reading]')?.textContent).toBe('-95.2 s');
    expect(local.querySelector('tr[data-local="disk"] [data-reading]')?.textContent).toMatch(
      /^51.?200 MB$/,
    );
    expect(local.querySelector('tr[data-local="bandwidth"] [data-reading]')?.textContent).toBe(
      '24.5 Mbit/s',
    );

    const problems = [...document.querySelectorAll('[data-problem]')];
    expect(problems.map((p) => p.getAttribute('data-problem'))).toEqual([
      'fail',
      'fail',
      'fail',
      'warn',
    ]);
    expect(problems[0]?.textContent).toContain(PRINTOS);
    expect(problems[0]?.querySelector('[data-cause]')?.textContent).toBe(
      'a firewall drops the connection silently, or there is no route to the host',
    );
    expect(problems[0]?.querySelector('[data-fix]')?.textContent).toBe(
      'allow outgoing TCP to www.printos.com:443 on the site firewall',
    );
    expect(problems[1]?.textContent).toContain('SELF_SIGNED_CERT_IN_CHAIN');
    expect(problems[1]?.querySelector('[data-fix]')?.textContent).toContain('TLS inspection');
    expect(problems[2]?.textContent).toContain('via proxy');
    expect(problems[3]?.textContent).toContain('95 s behind');
    expect(problems[3]?.querySelector('[data-fix]')?.textContent).toContain('timedatectl');
    expect(screen.getAllByRole('heading', { level: 3 })).toHaveLength(4);
  });

  it('starts a run, shows its progress and polls every second until it is done', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const calls: Call[] = [];
    const answers = [runningRun(7), doneRun()];
    const api = fakeApi(
      {
        'GET /api/v1/diagnostics': () => ({
          run: answers.length > 0 ? answers.shift() : doneRun(),
        }),
        'POST /api/v1/diagnostics': { run: runningRun(0) },
        'GET /api/v1/info': INFO,
      },
      calls,
    );
    // The page opens on the last finished run, so the first load answers that.
    answers.unshift({ ...doneRun(), id: 'run-0', exitCode: 0 });
    renderPage(api);
    await settle();
    expect(screen.getByRole('status').getAttribute('data-overall')).toBe('all-good');

    const button = screen.getByRole('button', { name: /Run network check/ });
    fireEvent.click(button);
    await settle();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/v1/diagnostics', body: {} },
    ]);
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button.textContent).toContain('Running…');
    expect(document.querySelector('[data-progress]')?.textContent).toBe(
      `0 of ${String(doneRun().total)} checks done`,
    );
    // A second click while it runs sends nothing.
    fireEvent.click(button);
    await settle();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(diagnosticsGets(calls)).toBe(1);

    await tick(NETWORK_POLL_MS);
    expect(diagnosticsGets(calls)).toBe(2);
    expect(document.querySelector('[data-progress]')?.textContent).toBe(
      `7 of ${String(doneRun().total)} checks done`,
    );
    const bar = screen.getByRole('progressbar', { name: 'Checks done' });
    expect(Number(bar.getAttribute('aria-valuenow'))).toBe(Math.round((100 * 7) / doneRun().total));
    expect(document.querySelector('[data-latest]')?.textContent).toContain(
      'HTTPS (via proxy): HTTP 200',
    );
    expect(screen.getByRole('status').textContent).toContain('Checking…');
    expect(
      document.querySelector(`tbody[data-endpoint="${PRINTOS}"] [data-verdict]`)?.textContent,
    ).toBe('checking…');

    await tick(NETWORK_POLL_MS);
    expect(diagnosticsGets(calls)).toBe(3);
    expect(screen.getByRole('status').getAttribute('data-overall')).toBe('failures');
    expect(document.querySelector('[data-progress]')).toBeNull();
    expect(button.getAttribute('aria-disabled')).toBe('false');

    // Done: no more loads.
    await tick(5 * NETWORK_POLL_MS);
    expect(diagnosticsGets(calls)).toBe(3);
  });

  it('shows the refusal of a second run next to the button and follows the running one', async () => {
    const calls: Call[] = [];
    let first = true;
    const api = fakeApi(
      {
        'GET /api/v1/diagnostics': () => {
          const answer = { run: first ? null : runningRun(3) };
          first = false;
          return answer;
        },
        'POST /api/v1/diagnostics': new ApiError(
          409,
          'DIAGNOSTICS_RUNNING',
          'A network check is already running (started by operator-2)',
        ),
        'GET /api/v1/info': INFO,
      },
      calls,
    );
    renderPage(api);
    await screen.findByText(/No check has run since the server started/);
    fireEvent.click(screen.getByRole('button', { name: /Run network check/ }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'Not started: A network check is already running (started by operator-2)',
    );
    expect(alert.parentElement?.id).toBe('net-check-errors');
    expect(screen.getByRole('button', { name: /Running…/ }).getAttribute('aria-describedby')).toBe(
      'net-check-errors',
    );
    expect((await screen.findByText(/3 of \d+ checks done/)).textContent).toBeTruthy();
    expect(diagnosticsGets(calls)).toBe(2);
  });

  it('shows an error of the API next to the button instead of the run', async () => {
    const api = fakeApi(
      {
        'GET /api/v1/diagnostics': new ApiError(
          403,
          'FORBIDDEN',
          'This needs the diagnostics:run permission',
        ),
        'GET /api/v1/info': INFO,
      },
      [],
    );
    renderPage(api);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'The last check could not be loaded: This needs the diagnostics:run permission',
    );
    expect(screen.queryByText('Loading…', { selector: '.net-run p' })).toBeNull();
    expect(screen.getByRole('heading', { name: 'Ports in use' })).toBeTruthy();
  });
});

describe('endpoint verdicts', () => {
  const ROWS: [string, DiagnosticCheck['path'][], ('direct' | 'proxy')[], EndpointVerdict][] = [
    ['both paths work', ['direct', 'proxy'], ['direct', 'proxy'], 'direct-and-proxy'],
    ['no proxy, direct works', ['direct'], ['direct'], 'direct'],
    ['direct works, the proxy does not', ['direct', 'proxy'], ['direct'], 'direct-not-proxy'],
    ['only the proxy works', ['direct', 'proxy'], ['proxy'], 'proxy-only'],
    ['nothing works', ['direct', 'proxy'], [], 'unreachable'],
  ];
  it.each(ROWS)('%s', (_name, tested, working, verdict) => {
    const run: DiagnosticsRun = {
      ...doneRun(),
      checks: tested.map((path) => check(PRINTOS, 'tcp', path, 'ok', 'connected')),
      summary: { ok: 0, warn: 0, fail: 0, skipped: 0, workingPaths: { [PRINTOS]: working } },
    };
    const [group] = endpointGroups(run);
    expect(group?.rows.map((r) => r.path)).toEqual(tested);
    expect(group ? endpointVerdict(run, group) : null).toBe(verdict);
  });

  it('says checking while the run is going, and lists an endpoint without checks', () => {
    const running = runningRun(0);
    expect(endpointGroups(running)).toEqual([]);
    const done: DiagnosticsRun = {
      ...doneRun(),
      checks: [],
      summary: { ok: 0, warn: 0, fail: 0, skipped: 0, workingPaths: { [S3]: [] } },
    };
    const groups = endpointGroups(done);
    expect(groups.map((g) => [g.subject, g.rows.length])).toEqual([[S3, 1]]);
    expect(endpointVerdict(running, { subject: S3, ftp: false, rows: [] })).toBe('checking');
  });
});
