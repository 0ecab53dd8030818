// The doctor's vocabulary: endpoints to check, one result per check, the run's summary.

export type EndpointKind = 'https' | 'ftp';

export interface Endpoint {
  host: string;
  port: number;
  kind: EndpointKind;
}

/** Checks of an endpoint's path, in order. */
export type EndpointCheckName = 'dns' | 'tcp' | 'tls' | 'ftp-banner' | 'https';
/** Checks of this machine and the server on it. */
export type LocalCheckName = 'ports' | 'clock' | 'disk' | 'broker' | 'database' | 'bandwidth';
export type CheckName = EndpointCheckName | LocalCheckName;
/** How an endpoint was reached; `local` for checks of this machine. */
export type CheckPath = 'direct' | 'proxy' | 'local';
export type EndpointPath = Exclude<CheckPath, 'local'>;
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  /** What was checked: `host:port` (with `/ftp` for FTP endpoints), or a local subject. */
  subject: string;
  name: CheckName;
  path: CheckPath;
  status: CheckStatus;
  detail: string;
  /** The likely cause of a warning or failure. */
  cause?: string;
  /** What to do about it. */
  fix?: string;
  ms: number;
  /** A reading, when the check has one (clock skew, free space, bandwidth). */
  value?: number;
  unit?: string;
}

export interface DoctorSummary {
  ok: number;
  warn: number;
  fail: number;
  skipped: number;
  /** Per endpoint, the paths on which every check passed (possibly with warnings). */
  workingPaths: Record<string, EndpointPath[]>;
}

export interface DoctorReport {
  checks: CheckResult[];
  summary: DoctorSummary;
  /** 0 all good, 1 warnings (or only one path works), 2 an endpoint is unreachable or a local check failed. */
  exitCode: 0 | 1 | 2;
}

export function endpointLabel(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${String(endpoint.port)}${endpoint.kind === 'ftp' ? '/ftp' : ''}`;
}

/** Parses `host:port` or `host:port/ftp` (`[v6]:port` for IPv6); null when malformed. */
export function parseEndpoint(text: string): Endpoint | null {
  // Host names and IPv4 of letters, digits, '.', '-', '_'; IPv6 in brackets; nothing else
  // (no user info, no scheme), and bounded before matching.
  if (text.length > 300) return null;
  const match = /^(?:\[([\da-f:.]{2,45})\]|([\w.-]{1,253})):(\d{1,5})(?:\/(ftp|https))?$/i.exec(
    text.trim(),
  );
  if (!match) return null;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (host === '' || port < 1 || port > 65535) return null;
  return { host, port, kind: match[4]?.toLowerCase() === 'ftp' ? 'ftp' : 'https' };
}
