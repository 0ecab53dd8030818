import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkLicenses,
  declaredLicense,
  parsePolicy,
  readInstalledPackages,
  type InstalledPackage,
  type LicensePolicy,
} from './check-licenses.js';

const POLICY: LicensePolicy = {
  allowed: ['MIT', 'ISC', 'Apache-2.0'],
  exceptions: [
    { package: 'data-pkg', license: 'CC-BY-4.0', reason: 'build-time data' },
    { package: 'css-tool*', license: 'MPL-2.0', reason: 'build tool, unmodified' },
  ],
};

function pkg(name: string, license: string | undefined, dev = false): InstalledPackage {
  return {
    path: `node_modules/${name}`,
    name,
    version: '1.0.0',
    dev,
    license,
    source: 'package.json',
  };
}

describe('licence allow-list', () => {
  it('passes allowed licences, satisfied OR/AND expressions and reasoned exceptions', () => {
    const report = checkLicenses(
      [
        pkg('a', 'MIT'),
        pkg('b', '(MIT OR WTFPL)'),
        pkg('c', '(ISC AND Apache-2.0)'),
        pkg('data-pkg', 'CC-BY-4.0', true),
        pkg('css-tool', 'MPL-2.0', true),
        pkg('css-tool-linux-x64', 'MPL-2.0', true),
      ],
      POLICY,
    );
    expect(report.problems).toEqual([]);
    expect(report.byException).toBe(3);
    expect(report.unusedExceptions).toEqual([]);
  });

  it('fails with the package, its licence and the fix', () => {
    const report = checkLicenses(
      [pkg('gpl-thing', 'GPL-3.0-only'), pkg('half', '(MIT AND Zlib)', true)],
      POLICY,
    );
    expect(report.problems.map((p) => [p.pkg.name, p.problem])).toEqual([
      ['gpl-thing', 'licence "GPL-3.0-only" is not allowed (GPL-3.0-only not on the allow-list)'],
      ['half', 'licence "(MIT AND Zlib)" is not allowed (Zlib not on the allow-list)'],
    ]);
    expect(report.problems[0]?.fix).toContain('scripts/security/license-allowlist.json');
    expect(report.problems[0]?.fix).toContain('"package": "gpl-thing"');
  });

  it('fails a package with no licence or a licence that is not an SPDX expression', () => {
    const report = checkLicenses(
      [pkg('none', undefined), pkg('custom', 'SEE LICENSE IN LICENSE.txt')],
      POLICY,
    );
    expect(report.problems.map((p) => p.problem)).toEqual([
      'declares no licence',
      'licence "SEE LICENSE IN LICENSE.txt" is not an SPDX expression',
    ]);
  });

  it('does not apply an exception once the licence changes, and reports unused exceptions', () => {
    const report = checkLicenses([pkg('data-pkg', 'CC-BY-SA-4.0')], POLICY);
    expect(report.problems).toHaveLength(1);
    expect(report.unusedExceptions.map((e) => e.package)).toEqual(['data-pkg', 'css-tool*']);
  });

  it('reads legacy licence fields', () => {
    expect(declaredLicense({ license: 'MIT' })).toBe('MIT');
    expect(declaredLicense({ license: { type: 'ISC', url: 'x' } })).toBe('ISC');
    expect(declaredLicense({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })).toBe(
      '(MIT OR Apache-2.0)',
    );
    expect(declaredLicense({ name: 'x' })).toBeUndefined();
  });

  it('refuses a policy exception without a reason', () => {
    expect(() =>
      parsePolicy({ allowed: ['MIT'], exceptions: [{ package: 'x', license: 'MPL-2.0' }] }),
    ).toThrow(/reason/);
  });

  describe('installed packages', () => {
    const root = mkdtempSync(join(tmpdir(), 'cc-licenses-'));
    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const install = (dir: string, manifest: object): void => {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'package.json'), JSON.stringify(manifest));
    };

    it('reads every lockfile package, judging missing optional ones by the lockfile', () => {
      install('node_modules/a', { name: 'a', version: '1.2.3', license: 'MIT' });
      install('node_modules/a/node_modules/b', { name: 'b', version: '0.1.0', license: 'ISC' });
      const lock = {
        packages: {
          '': { name: 'app', license: 'UNLICENSED' },
          'node_modules/a': { version: '1.2.3' },
          'node_modules/a/node_modules/b': { version: '0.1.0', dev: true },
          'node_modules/other-os': { version: '9.0.0', optional: true, license: 'MIT' },
        },
      };
      expect(readInstalledPackages(root, lock)).toEqual([
        {
          path: 'node_modules/a',
          name: 'a',
          version: '1.2.3',
          dev: false,
          license: 'MIT',
          source: 'package.json',
        },
        {
          path: 'node_modules/a/node_modules/b',
          name: 'b',
          version: '0.1.0',
          dev: true,
          license: 'ISC',
          source: 'package.json',
        },
        {
          path: 'node_modules/other-os',
          name: 'other-os',
          version: '9.0.0',
          dev: false,
          license: 'MIT',
          source: 'lockfile',
        },
      ]);
    });

    it('stops when a required package is not installed', () => {
      const lock = { packages: { 'node_modules/gone': { version: '1.0.0' } } };
      expect(() => readInstalledPackages(root, lock)).toThrow(/not installed: run npm ci/);
    });
  });
});
