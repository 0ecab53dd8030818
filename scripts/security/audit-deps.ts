// `npm run audit:deps` (release builds): `npm audit --omit=dev --audit-level=high` against the
// registry's advisory service. When the service cannot be reached or answers with anything but an
// audit report, this says the audit DID NOT RUN and exits 3 — it never reports a pass it did not
// earn. Exit codes: 0 no high/critical advisory, 1 high/critical advisories found, 3 did not run.
// Extra arguments go to npm (e.g. `-- --registry https://mirror.example/`).

import { execFile } from 'node:child_process';
import { isMainModule, REPO_ROOT } from './main-module.js';

export const EXIT_PASS = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_DID_NOT_RUN = 3;

const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];
const FAILING: readonly Severity[] = ['high', 'critical'];

/** What one `npm audit --json` run produced. */
export interface AuditRun {
  stdout: string;
  stderr: string;
  /** npm's exit code, or null when it was killed or never started. */
  code: number | null;
  /** Set when npm could not be started or was stopped (e.g. the timeout). */
  failure?: string;
}

export type AuditOutcome =
  | { ran: true; exitCode: typeof EXIT_PASS | typeof EXIT_FINDINGS; lines: string[] }
  | { ran: false; exitCode: typeof EXIT_DID_NOT_RUN; reason: string; lines: string[] };

interface AuditReport {
  auditReportVersion?: unknown;
  vulnerabilities?: Record<string, { severity?: unknown; via?: unknown; fixAvailable?: unknown }>;
  metadata?: { vulnerabilities?: Partial<Record<Severity | 'total', unknown>> };
  message?: unknown;
  error?: { summary?: unknown; code?: unknown };
}

function didNotRun(reason: string): AuditOutcome {
  return {
    ran: false,
    exitCode: EXIT_DID_NOT_RUN,
    reason,
    lines: [
      `dependency audit DID NOT RUN: ${reason}`,
      "This is not a pass: run `npm run audit:deps` again where the registry's advisory service " +
        '(/-/npm/v1/security/advisories/bulk) can be reached.',
    ],
  };
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  );
}

function viaTitles(via: unknown): string {
  if (!Array.isArray(via)) return '';
  const titles = via.map((v) =>
    typeof v === 'string'
      ? `via ${v}`
      : typeof v === 'object' && v !== null && typeof (v as { title?: unknown }).title === 'string'
        ? (v as { title: string }).title
        : '',
  );
  return titles.filter(Boolean).join('; ');
}

/** Decides from npm's output whether the audit ran and what it found. */
export function interpretAudit(run: AuditRun): AuditOutcome {
  if (run.failure !== undefined) return didNotRun(run.failure);
  let report: AuditReport;
  try {
    report = JSON.parse(run.stdout) as AuditReport;
  } catch {
    const said = firstLine(run.stderr) || firstLine(run.stdout) || `npm exited with ${run.code}`;
    return didNotRun(`npm audit gave no JSON report (${said})`);
  }
  if (typeof report !== 'object' || (report as unknown) === null) {
    return didNotRun('npm audit gave no JSON report');
  }
  const counts = report.metadata?.vulnerabilities;
  if (report.auditReportVersion === undefined || typeof counts !== 'object') {
    // npm writes `{ "message": "request to … failed, reason: getaddrinfo ENOTFOUND …" }`,
    // `{ "message": "405 Method Not Allowed - POST …" }` and the like when the service fails.
    const message =
      typeof report.message === 'string'
        ? report.message
        : typeof report.error?.summary === 'string' && report.error.summary !== ''
          ? report.error.summary
          : firstLine(run.stderr) || 'the answer was not an audit report';
    return didNotRun(message);
  }
  const count = (s: Severity): number => {
    const n = counts[s];
    return typeof n === 'number' ? n : 0;
  };
  const failing = FAILING.reduce((n, s) => n + count(s), 0);
  const lines = [
    `dependency audit ran (npm audit --omit=dev --audit-level=high): ` +
      SEVERITIES.map((s) => `${count(s)} ${s}`).join(', '),
  ];
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
    if (typeof v.severity !== 'string' || !(FAILING as readonly string[]).includes(v.severity)) {
      continue;
    }
    const fix = v.fixAvailable === false ? 'no fix available' : 'fix: npm audit fix (review it)';
    lines.push(`  ${name}: ${v.severity}: ${viaTitles(v.via)} (${fix})`);
  }
  lines.push(
    failing === 0
      ? 'dependency audit passed: no high or critical advisory in production dependencies'
      : `dependency audit FAILED: ${failing} high/critical advisories in production dependencies`,
  );
  return { ran: true, exitCode: failing === 0 ? EXIT_PASS : EXIT_FINDINGS, lines };
}

/** Runs npm audit in `cwd`; the child is killed after `timeoutMs`. */
export function runNpmAudit(
  extraArgs: string[],
  cwd: string,
  timeoutMs: number,
): Promise<AuditRun> {
  const args = [
    'audit',
    '--omit=dev',
    '--audit-level=high',
    '--json',
    // Give up on a dead network in seconds, not after npm's default retries with back-off.
    '--fetch-retries=1',
    `--fetch-timeout=${Math.min(timeoutMs, 30_000)}`,
    ...extraArgs,
  ];
  return new Promise((resolve) => {
    execFile(
      'npm',
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (e.killed === true) {
          resolve({ stdout, stderr, code: null, failure: `timed out after ${timeoutMs / 1000} s` });
        } else if (typeof e.code === 'number') {
          resolve({ stdout, stderr, code: e.code }); // npm audit exits 1 for findings and errors
        } else {
          resolve({ stdout, stderr, code: null, failure: `could not start npm (${e.message})` });
        }
      },
    );
  });
}

export async function auditDependencies(extraArgs: string[], cwd = REPO_ROOT): Promise<number> {
  const timeoutMs = Number(process.env.CC_AUDIT_TIMEOUT_MS ?? '') || 120_000;
  const outcome = interpretAudit(await runNpmAudit(extraArgs, cwd, timeoutMs));
  const text = `${outcome.lines.join('\n')}\n`;
  if (outcome.exitCode === EXIT_PASS) process.stdout.write(text);
  else process.stderr.write(text);
  return outcome.exitCode;
}

if (isMainModule(import.meta.url))
  process.exitCode = await auditDependencies(process.argv.slice(2));
