import { readFileSync } from 'node:fs';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import {
  classificationTables,
  markdownTable,
  REPORT_DOC,
  TABLES_END,
  TABLES_START,
  tablesInDocument,
  withTables,
} from './classification-doc.js';
import { CONSENT_CATEGORIES, REPORT_FIELDS } from './report-fields.js';

describe('the field classification in the report document', () => {
  it(`in ${REPORT_DOC} matches REPORT_FIELDS (fix: npx tsx src/uplink/report/write-classification-doc.ts)`, () => {
    const doc = readFileSync(new URL(`../../../${REPORT_DOC}`, import.meta.url), 'utf8');
    const inDoc = tablesInDocument(doc);
    expect(inDoc, `${REPORT_DOC} lost its report-fields markers`).toBeDefined();
    expect(
      inDoc,
      `the tables in ${REPORT_DOC} differ from src/uplink/report/report-fields.ts: run ` +
        '`npx tsx src/uplink/report/write-classification-doc.ts` and review the change',
    ).toBe(classificationTables());
  });

  it('has a row per category and a row per field', () => {
    const [categories, fields] = classificationTables().split('\n\n');
    expect(categories?.split('\n')).toHaveLength(CONSENT_CATEGORIES.length + 2);
    expect(fields?.split('\n')).toHaveLength(REPORT_FIELDS.length + 2);
    expect(fields).toContain('| `devices[].job.name` ');
    const freeText = categories?.split('\n').find((row) => row.startsWith('| `freeText` '));
    expect(freeText).toContain('`devices[].alerts[].message`');
  });

  it('cannot be broken by a description: no table separators in the declaration', () => {
    for (const f of REPORT_FIELDS) expect(f.description, f.path).not.toContain('|');
  });

  it('is laid out as prettier lays out markdown tables, so `prettier --check` agrees', async () => {
    const table = markdownTable(
      ['a', 'longer header'],
      [
        ['`x[]`', '—'],
        ['much longer cell', 'y'],
      ],
    );
    expect(await format(table, { parser: 'markdown' })).toBe(`${table}\n`);
    expect(await format(classificationTables(), { parser: 'markdown' })).toBe(
      `${classificationTables()}\n`,
    );
  });

  it('replaces only what is between the markers', () => {
    const doc = `# T\n\n${TABLES_START}\n\nold\n\n${TABLES_END}\n\nafter\n`;
    expect(withTables(doc, '| new |')).toBe(
      `# T\n\n${TABLES_START}\n\n| new |\n\n${TABLES_END}\n\nafter\n`,
    );
    expect(() => withTables('# no markers\n', '| new |')).toThrow(/markers/);
  });
});
