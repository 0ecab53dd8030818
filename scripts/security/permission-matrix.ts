// The permission matrix of docs/security.md, generated from ROLE_PERMISSIONS (src/auth/permissions.ts)
// so the document cannot drift from the code. `npx tsx scripts/security/permission-matrix.ts` prints
// the table; `--write` replaces it in docs/security.md; permission-matrix.test.ts checks they agree.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERMISSIONS, ROLE_PERMISSIONS } from '../../src/auth/permissions.js';
import { isMainModule, REPO_ROOT } from './main-module.js';

export const SECURITY_DOC = 'docs/security.md';
export const MATRIX_START =
  '<!-- permission-matrix:start (generated: npx tsx scripts/security/permission-matrix.ts --write) -->';
export const MATRIX_END = '<!-- permission-matrix:end -->';

type Role = keyof typeof ROLE_PERMISSIONS;

/** A markdown table, columns padded the way prettier formats tables (so `prettier --check` agrees). */
function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Permissions down, roles across: "yes" where the role holds the permission. */
export function permissionMatrix(
  permissions: readonly string[] = PERMISSIONS,
  rolePermissions: Readonly<Record<string, readonly string[]>> = ROLE_PERMISSIONS,
): string {
  const roles = Object.keys(rolePermissions) as Role[];
  const rows = permissions.map((p) => [
    `\`${p}\``,
    ...roles.map((r) => (rolePermissions[r]?.includes(p) === true ? 'yes' : '—')),
  ]);
  return markdownTable(['permission', ...roles.map((r) => `\`${r}\``)], rows);
}

/** The table currently in the document (between the markers), or undefined without markers. */
export function matrixInDocument(doc: string): string | undefined {
  const start = doc.indexOf(MATRIX_START);
  const end = doc.indexOf(MATRIX_END);
  if (start === -1 || end < start) return undefined;
  return doc.slice(start + MATRIX_START.length, end).trim();
}

/** The document with the table between the markers replaced by `table`. */
export function withMatrix(doc: string, table: string): string {
  const start = doc.indexOf(MATRIX_START);
  const end = doc.indexOf(MATRIX_END);
  if (start === -1 || end < start) {
    throw new Error(`${SECURITY_DOC} has no "${MATRIX_START}" … "${MATRIX_END}" markers`);
  }
  return `${doc.slice(0, start + MATRIX_START.length)}\n\n${table}\n\n${doc.slice(end)}`;
}

if (isMainModule(import.meta.url)) {
  const table = permissionMatrix();
  if (process.argv.includes('--write')) {
    const file = join(REPO_ROOT, SECURITY_DOC);
    writeFileSync(file, withMatrix(readFileSync(file, 'utf8'), table));
    process.stdout.write(`updated the permission matrix in ${SECURITY_DOC}\n`);
  } else {
    process.stdout.write(`${table}\n`);
  }
}
