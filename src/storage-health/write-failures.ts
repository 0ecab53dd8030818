// Which failed writes mean "no room to write": SQLite's SQLITE_FULL ("database or disk is full",
// also what it reports when the disk returns ENOSPC), Node's ENOSPC and EDQUOT, and our own
// STORAGE_FULL. SQLite's I/O errors (SQLITE_IOERR_*) may hide an ENOSPC it could not tell apart
// (an fsync, the shared-memory file), so they call for a look at the free space, not a verdict.

import { isCcError } from '../domain/index.js';

export type StorageFailure = 'full' | 'io';

const FULL_CODES: ReadonlySet<string> = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);
/** Wrapped errors are followed this deep through `cause`. */
const MAX_CAUSES = 5;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code: unknown = err.code;
  return typeof code === 'string' ? code : undefined;
}

/** 'full' for a write refused for lack of room, 'io' for an I/O error that may be one, else null. */
export function classifyStorageFailure(err: unknown): StorageFailure | null {
  let current: unknown = err;
  let io = false;
  for (let depth = 0; depth <= MAX_CAUSES && current !== undefined; depth++) {
    const code = codeOf(current);
    if (isCcError(current) && current.code === 'STORAGE_FULL') return 'full';
    if (code !== undefined && FULL_CODES.has(code)) return 'full';
    if (code?.startsWith('SQLITE_IOERR') === true) io = true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return io ? 'io' : null;
}

/** The error code that made a write fail for lack of room (for logs), e.g. SQLITE_FULL. */
export function storageFailureCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSES && current !== undefined; depth++) {
    const code = codeOf(current);
    if (code !== undefined && (FULL_CODES.has(code) || code.startsWith('SQLITE_IOERR'))) {
      return code;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
