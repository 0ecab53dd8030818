// What a network doctor run found, as three panels: the endpoint matrix (each endpoint and path
// against DNS, TCP, TLS or FTP banner, HTTPS, with a verdict per endpoint), this server's own
// checks with their readings, and every problem with its likely cause and fix, failures first.

import type {
  DiagnosticCheck,
  DiagnosticCheckName,
  DiagnosticEndpointPath,
  DiagnosticStatus,
  DiagnosticsRun,
} from '../api/types';
import { NamedIcon, type IconName } from '../components/icons';

const STATUS_LOOK: Record<DiagnosticStatus, { label: string; icon: IconName }> = {
  ok: { label: 'OK', icon: 'check' },
  warn: { label: 'Warning', icon: 'error' },
  fail: { label: 'Failed', icon: 'stop' },
  skipped: { label: 'Skipped', icon: 'idle' },
};

export const CHECK_LABEL: Record<DiagnosticCheckName, string> = {
  dns: 'DNS',
  tcp: 'TCP',
  tls: 'TLS',
  'ftp-banner': 'FTP banner',
  https: 'HTTPS',
  ports: 'Ports',
  clock: 'Clock',
  disk: 'Disk space',
  broker: 'Broker',
  database: 'Database',
  bandwidth: 'Bandwidth',
};

export const PATH_LABEL: Record<DiagnosticCheck['path'], string> = {
  direct: 'direct',
  proxy: 'via proxy',
  local: 'this server',
};

/** A check's status as a word, an icon and a colour together; its detail on hover. */
export function CheckBadge({
  check,
}: {
  check: Pick<DiagnosticCheck, 'status' | 'detail' | 'ms'>;
}) {
  const look = STATUS_LOOK[check.status];
  return (
    <span
      class={`net-badge net-${check.status}`}
      data-status={check.status}
      title={`${check.detail} (${String(check.ms)} ms)`}
    >
      <NamedIcon name={look.icon} /> {look.label}
    </span>
  );
}

type Column = 'dns' | 'tcp' | 'tls' | 'https';
const COLUMNS: readonly { key: Column; label: string }[] = [
  { key: 'dns', label: 'DNS' },
  { key: 'tcp', label: 'TCP' },
  { key: 'tls', label: 'TLS or FTP banner' },
  { key: 'https', label: 'HTTPS' },
];

function columnOf(name: DiagnosticCheckName): Column | null {
  switch (name) {
    case 'dns':
    case 'tcp':
    case 'tls':
    case 'https':
      return name;
    case 'ftp-banner':
      return 'tls';
    case 'ports':
    case 'clock':
    case 'disk':
    case 'broker':
    case 'database':
    case 'bandwidth':
      return null;
  }
}

export interface EndpointRow {
  path: DiagnosticEndpointPath;
  cells: Partial<Record<Column, DiagnosticCheck>>;
}

export interface EndpointGroup {
  subject: string;
  ftp: boolean;
  rows: EndpointRow[];
}

/** The endpoints in the order the run lists them, each with a row per path it was checked on. */
export function endpointGroups(run: DiagnosticsRun): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  const group = (subject: string): EndpointGroup => {
    const found = groups.get(subject);
    if (found) return found;
    const made: EndpointGroup = { subject, ftp: subject.endsWith('/ftp'), rows: [] };
    groups.set(subject, made);
    return made;
  };
  for (const check of run.checks) {
    if (check.path === 'local') continue;
    const column = columnOf(check.name);
    if (column === null) continue;
    const g = group(check.subject);
    if (check.name === 'ftp-banner') g.ftp = true;
    let row = g.rows.find((r) => r.path === check.path);
    if (!row) {
      row = { path: check.path, cells: {} };
      g.rows.push(row);
    }
    row.cells[column] = check;
  }
  for (const subject of Object.keys(run.summary?.workingPaths ?? {})) group(subject);
  for (const g of groups.values()) {
    // An endpoint the summary names without any check still gets a row, so its verdict shows.
    if (g.rows.length === 0) g.rows.push({ path: 'direct', cells: {} });
    g.rows.sort((a, b) => (a.path === b.path ? 0 : a.path === 'direct' ? -1 : 1));
  }
  return [...groups.values()];
}

export type EndpointVerdict =
  'checking' | 'direct-and-proxy' | 'direct' | 'direct-not-proxy' | 'proxy-only' | 'unreachable';

const VERDICT_LOOK: Record<EndpointVerdict, { label: string; tone: DiagnosticStatus | 'muted' }> = {
  checking: { label: 'checking…', tone: 'muted' },
  'direct-and-proxy': { label: 'works directly and via proxy', tone: 'ok' },
  direct: { label: 'works directly', tone: 'ok' },
  'direct-not-proxy': { label: 'works directly (not via proxy)', tone: 'warn' },
  'proxy-only': { label: 'works via proxy only', tone: 'warn' },
  unreachable: { label: 'NOT reachable', tone: 'fail' },
};

export function endpointVerdict(run: DiagnosticsRun, group: EndpointGroup): EndpointVerdict {
  if (run.summary === null) return 'checking';
  const working = run.summary.workingPaths[group.subject] ?? [];
  const proxyTested = group.rows.some((r) => r.path === 'proxy');
  if (working.includes('direct')) {
    if (working.includes('proxy')) return 'direct-and-proxy';
    return proxyTested ? 'direct-not-proxy' : 'direct';
  }
  return working.includes('proxy') ? 'proxy-only' : 'unreachable';
}

/** Why a cell has no check: not part of that path or kind of endpoint, or not reached yet. */
function emptyCell(run: DiagnosticsRun, group: EndpointGroup, row: EndpointRow, column: Column) {
  let why: string;
  if (row.path === 'proxy' && column === 'dns')
    why = 'Not checked here: the proxy resolves the name';
  else if (group.ftp && column === 'https') why = 'Not checked: an FTP endpoint';
  else if (run.state === 'running') why = 'Not checked yet';
  else why = 'Not checked';
  return (
    <span class="net-none" title={why}>
      {run.state === 'running' && why === 'Not checked yet' ? '…' : '—'}
    </span>
  );
}

export function EndpointMatrix({ run }: { run: DiagnosticsRun }) {
  const groups = endpointGroups(run);
  return (
    <section class="panel" aria-labelledby="net-endpoints">
      <h2 id="net-endpoints">Endpoints</h2>
      {groups.length === 0 ? (
        <p class="muted">No endpoint has been checked yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table net-table net-matrix" aria-labelledby="net-endpoints">
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Path</th>
                {COLUMNS.map((c) => (
                  <th scope="col" key={c.key}>
                    {c.label}
                  </th>
                ))}
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            {groups.map((g) => {
              const verdict = endpointVerdict(run, g);
              const look = VERDICT_LOOK[verdict];
              return (
                <tbody key={g.subject} data-endpoint={g.subject}>
                  {g.rows.map((row, i) => (
                    <tr key={row.path} data-path={row.path}>
                      {i === 0 ? (
                        <th scope="rowgroup" rowSpan={g.rows.length}>
                          <code>{g.subject}</code>
                        </th>
                      ) : null}
                      <th scope="row">{PATH_LABEL[row.path]}</th>
                      {COLUMNS.map((c) => {
                        const check = row.cells[c.key];
                        return (
                          <td key={c.key} data-check={check?.name ?? c.key}>
                            {check ? <CheckBadge check={check} /> : emptyCell(run, g, row, c.key)}
                          </td>
                        );
                      })}
                      {i === 0 ? (
                        <td rowSpan={g.rows.length} data-verdict={verdict}>
                          <strong class={`net-verdict net-${look.tone}`}>{look.label}</strong>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              );
            })}
          </table>
        </div>
      )}
      {run.checks.length > 0 ? <EveryCheck checks={run.checks} /> : null}
    </section>
  );
}

/** Every check as text, for reading the details without hovering and for copying into a ticket. */
function EveryCheck({ checks }: { checks: DiagnosticCheck[] }) {
  return (
    <details class="net-every">
      <summary>Every check with its detail ({checks.length})</summary>
      <ul>
        {checks.map((c, i) => (
          <li key={`${c.subject}/${c.path}/${c.name}/${String(i)}`}>
            <CheckBadge check={c} /> <code>{c.subject}</code> {PATH_LABEL[c.path]},{' '}
            {CHECK_LABEL[c.name]}: {c.detail} <span class="muted">({c.ms} ms)</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** "0.4 s", "51,200 MB", "12.5 Mbit/s"; a dash without a reading. */
export function formatReading(check: Pick<DiagnosticCheck, 'value' | 'unit'>): string {
  if (check.value === undefined) return '—';
  const value = check.value.toLocaleString(undefined, { maximumFractionDigits: 1 });
  return check.unit ? `${value} ${check.unit}` : value;
}

export function LocalChecks({ run }: { run: DiagnosticsRun }) {
  const local = run.checks.filter((c) => c.path === 'local');
  return (
    <section class="panel" aria-labelledby="net-local">
      <h2 id="net-local">This server</h2>
      {local.length === 0 ? (
        <p class="muted">
          {run.state === 'running'
            ? 'No check of this server has finished yet.'
            : 'This run reported no check of this server.'}
        </p>
      ) : (
        <div class="table-wrap">
          <table class="table net-table" aria-labelledby="net-local">
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Check</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Reading
                </th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {local.map((c, i) => (
                <tr key={`${c.subject}/${c.name}/${String(i)}`} data-local={c.name}>
                  <th scope="row">{c.subject}</th>
                  <td>{CHECK_LABEL[c.name]}</td>
                  <td>
                    <CheckBadge check={c} />
                  </td>
                  <td class="num" data-reading>
                    {formatReading(c)}
                  </td>
                  <td class="net-detail">{c.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Failures first, then warnings, each in the run's order. */
export function problemsOf(checks: DiagnosticCheck[]): DiagnosticCheck[] {
  const fails = checks.filter((c) => c.status === 'fail');
  const warnings = checks.filter((c) => c.status === 'warn');
  return [...fails, ...warnings];
}

export function ProblemList({ run }: { run: DiagnosticsRun }) {
  const problems = problemsOf(run.checks);
  return (
    <section class="panel" aria-labelledby="net-problems">
      <h2 id="net-problems">Problems</h2>
      {problems.length === 0 ? (
        <p class="muted">
          {run.state === 'running' ? 'None so far.' : 'None: every check passed.'}
        </p>
      ) : (
        <ol class="net-problems">
          {problems.map((c, i) => (
            <li
              key={`${c.subject}/${c.path}/${c.name}/${String(i)}`}
              class={`net-problem net-problem-${c.status}`}
              data-problem={c.status}
            >
              <h3>
                <CheckBadge check={c} /> <code>{c.subject}</code> {CHECK_LABEL[c.name]} (
                {PATH_LABEL[c.path]})
              </h3>
              <p class="net-detail">{c.detail}</p>
              <dl class="status-list">
                <dt>Cause</dt>
                <dd data-cause>{c.cause ?? 'not known'}</dd>
                <dt>Fix</dt>
                <dd data-fix>{c.fix ?? '—'}</dd>
              </dl>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
