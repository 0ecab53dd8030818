// Reuses the compiled SQL of a multi-row insert for every later batch with the same row count, so
// the hot path pays for building and compiling the query once per shape, not once per batch.

import type { CompiledQuery } from 'kysely';

/** Row counts remembered per statement; batches mostly come in a few recurring sizes. */
const MAX_SHAPES = 32;

function flatten(rows: readonly Record<string, unknown>[]): unknown[] {
  const out: unknown[] = [];
  for (const row of rows) for (const v of Object.values(row)) out.push(v);
  return out;
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/**
 * Wraps `build` so a statement compiled for N rows is reused with new parameters. Reuse is only
 * enabled for a shape after checking that the compiled parameters are exactly the rows' values in
 * order — the assumption reuse rests on — so a query that binds anything else is always rebuilt.
 */
export function reuseInsertShape<R extends Record<string, unknown>>(
  build: (rows: R[]) => CompiledQuery,
): (rows: R[]) => CompiledQuery {
  const byCount = new Map<number, CompiledQuery | null>();
  return (rows) => {
    const template = byCount.get(rows.length);
    if (template) return { ...template, parameters: flatten(rows) };
    const compiled = build(rows);
    if (template === undefined) {
      if (byCount.size >= MAX_SHAPES) byCount.clear();
      byCount.set(rows.length, sameValues(compiled.parameters, flatten(rows)) ? compiled : null);
    }
    return compiled;
  };
}
