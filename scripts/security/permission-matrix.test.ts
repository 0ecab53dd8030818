import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLE_PERMISSIONS } from '../../src/auth/permissions.js';
import { REPO_ROOT } from './main-module.js';
import {
  matrixInDocument,
  MATRIX_END,
  MATRIX_START,
  permissionMatrix,
  SECURITY_DOC,
  withMatrix,
} from './permission-matrix.js';

describe('permission matrix', () => {
  it(`in ${SECURITY_DOC} matches ROLE_PERMISSIONS (fix: npx tsx scripts/security/permission-matrix.ts --write)`, () => {
    const doc = readFileSync(join(REPO_ROOT, SECURITY_DOC), 'utf8');
    const inDoc = matrixInDocument(doc);
    expect(inDoc, `${SECURITY_DOC} lost its permission-matrix markers`).toBeDefined();
    expect(
      inDoc,
      `the permission matrix in ${SECURITY_DOC} differs from src/auth/permissions.ts: ` +
        'run `npx tsx scripts/security/permission-matrix.ts --write` and review the change',
    ).toBe(permissionMatrix());
  });

  it('has a row per permission and a column per role', () => {
    const lines = permissionMatrix().split('\n');
    expect(lines).toHaveLength(PERMISSIONS.length + 2);
    for (const role of Object.keys(ROLE_PERMISSIONS)) expect(lines[0]).toContain(`\`${role}\``);
    expect(lines.find((l) => l.startsWith('| `users:manage`'))).toMatch(/^\|[^|]+\| yes +\| — /);
  });

  it('is laid out as prettier lays out markdown tables, so `prettier --check` agrees', async () => {
    const table = permissionMatrix(['a:b', 'a-much-longer:permission'], {
      admin: ['a:b', 'a-much-longer:permission'],
      kiosk: ['a:b'],
    });
    expect(await format(table, { parser: 'markdown' })).toBe(`${table}\n`);
    expect(await format(permissionMatrix(), { parser: 'markdown' })).toBe(
      `${permissionMatrix()}\n`,
    );
  });

  it('replaces only what is between the markers', () => {
    const doc = `# T\n\n${MATRIX_START}\n\nold\n\n${MATRIX_END}\n\nafter\n`;
    expect(withMatrix(doc, '| new |')).toBe(
      `# T\n\n${MATRIX_START}\n\n| new |\n\n${MATRIX_END}\n\nafter\n`,
    );
  });
});
