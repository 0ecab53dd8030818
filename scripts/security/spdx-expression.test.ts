import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpdx, SpdxSyntaxError, unmetLicenses, type SpdxNode } from './spdx-expression.js';

const ALLOWED = new Set(['MIT', 'ISC', 'Apache-2.0', 'GPL-2.0']);
const unmet = (expression: string): string[] => unmetLicenses(parseSpdx(expression), ALLOWED);

describe('SPDX expressions', () => {
  it.each([
    ['MIT', []],
    ['BSD-3-Clause', ['BSD-3-Clause']],
    ['(MIT OR WTFPL)', []],
    ['(WTFPL OR CC0-1.0)', ['WTFPL', 'CC0-1.0']],
    ['(MIT AND Zlib)', ['Zlib']],
    ['MIT AND (ISC OR Zlib)', []],
    ['(BSD-2-Clause OR MIT OR Apache-2.0)', []],
    // AND binds tighter than OR: WTFPL OR (MIT AND ISC).
    ['WTFPL OR MIT AND ISC', []],
    ['(WTFPL OR MIT) AND Zlib', ['Zlib']],
    ['mit or wtfpl', []],
    ['(wtfpl and isc)', ['wtfpl']],
    ['MIT or WTFPL', []],
    ['GPL-2.0+', []],
    ['Apache-2.0 WITH LLVM-exception', ['Apache-2.0 WITH LLVM-exception']],
    ['LicenseRef-Proprietary', ['LicenseRef-Proprietary']],
  ])('%s leaves %j unmet', (expression, expected) => {
    expect(unmet(expression)).toEqual(expected);
  });

  it.each(['SEE LICENSE IN LICENSE.md', 'MIT OR', '(MIT', 'MIT)', 'AND MIT', '', 'MIT WITH'])(
    'refuses %j as not an expression',
    (text) => {
      expect(() => parseSpdx(text)).toThrow(SpdxSyntaxError);
    },
  );

  it('agrees with direct evaluation for any fully parenthesized expression', () => {
    const ids = ['MIT', 'ISC', 'Zlib', 'WTFPL'];
    const leaf = fc.constantFrom(...ids).map((id): SpdxNode => ({ kind: 'license', id }));
    const { tree } = fc.letrec<{ tree: SpdxNode }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.record({
          kind: fc.constantFrom('and' as const, 'or' as const),
          left: tie('tree'),
          right: tie('tree'),
        }),
      ),
    }));
    const print = (n: SpdxNode): string =>
      n.kind === 'license' ? n.id : `(${print(n.left)} ${n.kind.toUpperCase()} ${print(n.right)})`;
    const allowed = new Set(['MIT', 'ISC']);
    const holds = (n: SpdxNode): boolean =>
      n.kind === 'license'
        ? allowed.has(n.id)
        : n.kind === 'and'
          ? holds(n.left) && holds(n.right)
          : holds(n.left) || holds(n.right);
    fc.assert(
      fc.property(tree, (t) => {
        expect(unmetLicenses(parseSpdx(print(t)), allowed).length === 0).toBe(holds(t));
      }),
    );
  });
});
