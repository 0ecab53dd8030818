import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { reuseInsertShape } from './insert-templates.js';

describe('reuseInsertShape', () => {
  it('compiles a shape once and binds later rows of the same count in order', () => {
    let builds = 0;
    const insert = reuseInsertShape((rows: { a: number; b: string }[]) => {
      builds++;
      return CompiledQuery.raw(
        `insert ${String(rows.length)}`,
        rows.flatMap((r) => [r.a, r.b]),
      );
    });
    insert([{ a: 1, b: 'x' }]);
    const reused = insert([{ a: 2, b: "'; DROP TABLE t; --" }]);
    expect(builds).toBe(1);
    expect(reused.sql).toBe('insert 1');
    expect(reused.parameters).toEqual([2, "'; DROP TABLE t; --"]);
    insert([
      { a: 3, b: 'y' },
      { a: 4, b: 'z' },
    ]);
    expect(builds).toBe(2);
  });

  it('never reuses a statement whose parameters are not exactly the row values', () => {
    let builds = 0;
    const insert = reuseInsertShape((rows: { a: number }[]) => {
      builds++;
      return CompiledQuery.raw('insert', [...rows.map((r) => r.a), 'extra']);
    });
    insert([{ a: 1 }]);
    const second = insert([{ a: 2 }]);
    expect(builds).toBe(2);
    expect(second.parameters).toEqual([2, 'extra']);
  });
});
