import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowDepth } from './config-file.js';

describe('configuration file nesting scan', () => {
  it.each([
    ['a: 1', 0],
    ['a: [1, [2]]', 2],
    ['a: {b: [1]}', 2],
    ['a: "[[[[" # [[[[', 0],
    ["a: '[[[[ '' ]'", 0],
    ['a: "\\"[" ', 0],
    ['a: x#[[', 2],
  ])('measures %j as %i levels deep', (text, depth) => {
    expect(flowDepth(text)).toBe(depth);
  });

  it('measures the depth of any JSON value (property)', () => {
    const nested = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.integer(), fc.string(), fc.boolean()),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }),
      ),
    })).value;
    const depthOf = (v: unknown): number =>
      typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    fc.assert(fc.property(nested, (value) => flowDepth(JSON.stringify(value)) === depthOf(value)));
  });
});
