// Maps driver constraint errors to the product's error codes. Both drivers put a string `code` on
// their errors (better-sqlite3: SQLITE_CONSTRAINT_*, pg: the SQLSTATE), so one check serves both.

import { CcError } from '../../domain/index.js';

const UNIQUE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);
const FOREIGN_KEY = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Runs a write, turning "already exists" into CONFLICT and "refers to nothing" into VALIDATION_FAILED. */
export async function withConstraints<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const code = codeOf(err);
    if (code !== undefined && UNIQUE.has(code)) {
      throw new CcError('CONFLICT', `${what} already exists`);
    }
    if (code !== undefined && FOREIGN_KEY.has(code)) {
      throw new CcError('VALIDATION_FAILED', `${what} refers to a user that does not exist`);
    }
    throw err;
  }
}
