// Rewrites the classification tables of docs/protocols/uplink-report.md from REPORT_FIELDS:
// `npx tsx src/uplink/report/write-classification-doc.ts` after changing a field or category.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classificationTables, REPORT_DOC, withTables } from './classification-doc.js';

const file = fileURLToPath(new URL(`../../../${REPORT_DOC}`, import.meta.url));
writeFileSync(file, withTables(readFileSync(file, 'utf8'), classificationTables()));
process.stdout.write(`updated the report field tables in ${REPORT_DOC}\n`);
