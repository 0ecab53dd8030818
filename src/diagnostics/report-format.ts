// The doctor's human output: one progress line per check and the final table with causes and fixes.

import type { CheckResult, DoctorReport } from './types.js';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skipped: '-' } as const;

export function formatProgress(check: CheckResult): string {
  return `${MARK[check.status].padEnd(4)} ${check.endpoint} ${check.path} ${check.name}: ${check.detail}\n`;
}

export function formatReport(report: DoctorReport): string {
  const rows = report.checks.map((c) => [
    c.endpoint,
    c.path,
    c.name,
    MARK[c.status],
    `${String(c.ms)} ms`,
    c.detail,
  ]);
  const header = ['ENDPOINT', 'PATH', 'CHECK', 'STATUS', 'TIME', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  const out = [line(header), ...rows.map(line)];
  const problems = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  if (problems.length > 0) out.push('', 'Problems:');
  for (const c of problems) {
    out.push(`  ${c.endpoint} (${c.path}) ${c.name}: ${c.detail}`);
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
