// Shared pieces of list queries: page bounds checking and LIKE patterns that match text literally.

import { sql, type RawBuilder } from 'kysely';
import { CcError, type PageQuery } from '../../domain/index.js';

/** A negative LIMIT means "no limit" to SQLite and is an error to PostgreSQL: refuse it here. */
export function checkPage(page: PageQuery): PageQuery {
  const { limit, offset } = page;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new CcError('VALIDATION_FAILED', 'limit must be a non-negative integer', { limit });
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new CcError('VALIDATION_FAILED', 'offset must be a non-negative integer', { offset });
  }
  return { limit, offset };
}

/** `column LIKE '%text%'` with %, _ and \ in `text` matched as themselves on both dialects. */
export function containsLiteral(column: string, text: string): RawBuilder<boolean> {
  const escaped = text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
  return sql<boolean>`${sql.ref(column)} like ${`%${escaped}%`} escape '\\'`;
}

/** Count queries return bigint (string on PostgreSQL) or number depending on the driver. */
export function countOf(row: { n: number | string | bigint } | undefined): number {
  return row === undefined ? 0 : Number(row.n);
}

/** `column LIKE 'text%'` with %, _ and \ in `text` matched as themselves on both dialects. */
export function startsWithLiteral(column: string, text: string): RawBuilder<boolean> {
  const escaped = text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
  return sql<boolean>`${sql.ref(column)} like ${`${escaped}%`} escape '\\'`;
}
