// The SQLite file's own size limit: `max_page_count` caps how many pages the connection lets the
// database grow to. When a write needs a page beyond it, SQLite fails the write with SQLITE_FULL,
// exactly as when the disk is full — which is what the storage-health monitor watches for.

import type BetterSqlite3 from 'better-sqlite3';
import type { StoreCapacity } from '../store.js';

function pragmaNumber(sqlite: BetterSqlite3.Database, pragma: string): number {
  const value: unknown = sqlite.pragma(pragma, { simple: true });
  return typeof value === 'number' ? value : Number(value);
}

export function createSqliteCapacity(sqlite: BetterSqlite3.Database): StoreCapacity {
  // SQLite's own ceiling as opened: "no cap" restores it.
  const ceilingPages = pragmaNumber(sqlite, 'max_page_count');
  return {
    headroomBytes() {
      const pageSize = pragmaNumber(sqlite, 'page_size');
      const max = pragmaNumber(sqlite, 'max_page_count');
      const used = pragmaNumber(sqlite, 'page_count');
      const free = pragmaNumber(sqlite, 'freelist_count');
      return Promise.resolve(Math.max(0, max - used + free) * pageSize);
    },
    limitSize(bytes) {
      const pageSize = pragmaNumber(sqlite, 'page_size');
      const pages = bytes === null ? ceilingPages : Math.max(1, Math.floor(bytes / pageSize));
      // SQLite keeps the cap at or above the current size and answers with the cap in effect.
      const set = pragmaNumber(sqlite, `max_page_count = ${String(pages)}`);
      return Promise.resolve(bytes === null ? null : set * pageSize);
    },
  };
}
