import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSemver, compareVersions, isSemver, parseSemver } from './semver.js';

describe('parseSemver', () => {
  it.each([
    '0.0.0',
    '4.3.0',
    '10.20.30',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-0.3.7',
    '1.0.0-x.7.z.92',
    '1.0.0-x-y-z.--',
    '1.0.0+20130313144700',
    '1.0.0-beta+exp.sha.5114f85',
    '1.0.0+21AF26D3----117B344092BD',
  ])('accepts %s', (v) => {
    expect(isSemver(v)).toBe(true);
  });

  it.each([
    '',
    '1',
    '1.2',
    '1.2.3.4',
    'v1.2.3',
    ' 1.2.3',
    '1.2.3 ',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3-',
    '1.2.3-01',
    '1.2.3-a..b',
    '1.2.3+',
    '1.2.3+a..b',
    '1.2.3-é',
    '-1.2.3',
    '1.2.3-beta_1',
    '9007199254740992.0.0',
    `1.2.3-${'a'.repeat(60)}`,
  ])('refuses %j', (v) => {
    expect(parseSemver(v)).toBeNull();
  });

  it('keeps numeric pre-release identifiers as numbers, build metadata as text', () => {
    expect(parseSemver('1.2.3-rc.10+b.01')).toEqual({
      major: 1,
      minor: 2,
      patch: 3,
      prerelease: ['rc', 10],
      build: ['b', '01'],
    });
  });
});

describe('compareVersions', () => {
  it('orders the precedence example of semver.org §11', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
      '10.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i += 1) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!)).toBe(-1);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
  });

  it('ignores build metadata', () => {
    expect(compareVersions('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(compareVersions('1.0.0-rc.1+a', '1.0.0-rc.1')).toBe(0);
  });

  it('compares alphanumeric identifiers in ASCII order', () => {
    expect(compareVersions('1.0.0-Z', '1.0.0-a')).toBe(-1);
    expect(compareVersions('1.0.0-a-b', '1.0.0-a')).toBe(1);
  });

  it('throws on a version that is not semver', () => {
    expect(() => compareVersions('1.0', '1.0.0')).toThrow(/not a semantic version: "1.0"/);
  });

  const identifier = fc.oneof(
    fc.nat({ max: 30 }).map(String),
    fc.stringMatching(/^[a-z-][a-z0-9-]{0,3}$/),
  );
  const version = fc
    .record({
      core: fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })),
      pre: fc.array(identifier, { maxLength: 3 }),
    })
    .map(({ core, pre }) => `${core.join('.')}${pre.length > 0 ? `-${pre.join('.')}` : ''}`);

  it('is a total order (properties)', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(compareVersions(a, a)).toBe(0);
        // Antisymmetry; the sum avoids comparing 0 with -0.
        expect(compareVersions(a, b) + compareVersions(b, a)).toBe(0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) {
          expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('puts a release after every pre-release of it (property)', () => {
    fc.assert(
      fc.property(version, (v) => {
        const parsed = parseSemver(v)!;
        const release = parseSemver(`${parsed.major}.${parsed.minor}.${parsed.patch}`)!;
        expect(compareSemver(parsed, release)).toBe(parsed.prerelease.length > 0 ? -1 : 0);
      }),
    );
  });
});
