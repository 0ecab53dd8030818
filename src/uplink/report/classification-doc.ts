// The classification tables of docs/protocols/uplink-report.md, generated from REPORT_FIELDS so the
// document cannot drift from what the builder enforces. write-classification-doc.ts rewrites them;
// classification-doc.test.ts fails while the document and the code differ.

import {
  CONSENT_CATEGORIES,
  CONSENT_CATEGORY_DESCRIPTIONS,
  REPORT_FIELDS,
  type FieldRule,
} from './report-fields.js';

export const REPORT_DOC = 'docs/protocols/uplink-report.md';
export const TABLES_START =
  '<!-- report-fields:start (generated: npx tsx src/uplink/report/write-classification-doc.ts) -->';
export const TABLES_END = '<!-- report-fields:end -->';

/** A markdown table, columns padded the way prettier lays out tables (so `prettier --check` agrees). */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The consent categories with the fields each one covers, then every field with its class. */
export function classificationTables(fields: readonly FieldRule[] = REPORT_FIELDS): string {
  const categories = markdownTable(
    ['category', 'what it covers', 'fields'],
    CONSENT_CATEGORIES.map((c) => [
      `\`${c}\``,
      CONSENT_CATEGORY_DESCRIPTIONS[c],
      fields
        .filter((f) => f.class === c)
        .map((f) => `\`${f.path}\``)
        .join(', '),
    ]),
  );
  const all = markdownTable(
    ['field', 'class', 'without consent', 'meaning'],
    fields.map((f) => [`\`${f.path}\``, `\`${f.class}\``, f.withoutConsent, f.description]),
  );
  return `${categories}\n\n${all}`;
}

/** The tables currently in the document (between the markers), or undefined without markers. */
export function tablesInDocument(doc: string): string | undefined {
  const start = doc.indexOf(TABLES_START);
  const end = doc.indexOf(TABLES_END);
  if (start === -1 || end < start) return undefined;
  return doc.slice(start + TABLES_START.length, end).trim();
}

/** The document with what is between the markers replaced by `tables`. */
export function withTables(doc: string, tables: string): string {
  const start = doc.indexOf(TABLES_START);
  const end = doc.indexOf(TABLES_END);
  if (start === -1 || end < start) {
    throw new Error(`${REPORT_DOC} has no "${TABLES_START}" … "${TABLES_END}" markers`);
  }
  return `${doc.slice(0, start + TABLES_START.length)}\n\n${tables}\n\n${doc.slice(end)}`;
}
