// The doctor's human output: one progress line per check, then a table of the endpoints, a table
// of this machine's checks, the problems with their causes and fixes, and which paths work.

import type { CheckResult, DoctorReport } from './types.js';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skipped: '-' } as const;

export function formatProgress(check: CheckResult): string {
  const where = check.path === 'local' ? 'this machine' : check.path;
  return `${MARK[check.status].padEnd(4)} ${check.subject} ${where} ${check.name}: ${check.detail}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

export function formatReport(report: DoctorReport): string {
  const endpointChecks = report.checks.filter((c) => c.path !== 'local');
  const localChecks = report.checks.filter((c) => c.path === 'local');
  const out: string[] = [];
  if (endpointChecks.length > 0)
    out.push(
      ...table(
        ['ENDPOINT', 'PATH', 'CHECK', 'STATUS', 'TIME', 'DETAIL'],
        endpointChecks.map((c) => [
          c.subject,
          c.path,
          c.name,
          MARK[c.status],
          `${String(c.ms)} ms`,
          c.detail,
        ]),
      ),
    );
  if (localChecks.length > 0) {
    if (out.length > 0) out.push('');
    out.push(
      ...table(
        ['THIS MACHINE', 'CHECK', 'STATUS', 'TIME', 'DETAIL'],
        localChecks.map((c) => [c.subject, c.name, MARK[c.status], `${String(c.ms)} ms`, c.detail]),
      ),
    );
  }
  const problems = [...report.checks]
    .filter((c) => c.status === 'fail' || c.status === 'warn')
    .sort((a, b) => (a.status === b.status ? 0 : a.status === 'fail' ? -1 : 1));
  if (problems.length > 0) out.push('', 'Problems:');
  for (const c of problems) {
    const where = c.path === 'local' ? '' : ` (${c.path})`;
    out.push(`  ${MARK[c.status]} ${c.subject}${where} ${c.name}: ${c.detail}`);
    if (c.cause !== undefined) out.push(`    cause: ${c.cause}`);
    if (c.fix !== undefined) out.push(`    fix:   ${c.fix}`);
  }
  out.push('');
  for (const [endpoint, paths] of Object.entries(report.summary.workingPaths))
    out.push(`${endpoint}: ${paths.length > 0 ? `works ${paths.join(' and ')}` : 'NOT reachable'}`);
  const { ok, warn, fail, skipped } = report.summary;
  out.push(
    `${String(ok)} ok, ${String(warn)} warnings, ${String(fail)} failed, ${String(skipped)} skipped`,
  );
  return `${out.join('\n')}\n`;
}
