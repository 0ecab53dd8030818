import { describe, expect, it } from 'vitest';
import { checkLockfile, checkNpmrc } from './check-lockfile.js';

const SHA512 = 'sha512-' + 'A'.repeat(86) + '==';

function lock(packages: Record<string, unknown>, root: Record<string, unknown> = {}): unknown {
  return { lockfileVersion: 3, packages: { '': { name: 'app', ...root }, ...packages } };
}

describe('lockfile check', () => {
  it('accepts registry packages over https with a sha512 integrity', () => {
    const report = checkLockfile(
      lock({
        'node_modules/a': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz',
          integrity: SHA512,
        },
        'node_modules/@s/b': { version: '2.1.0-rc.1', integrity: SHA512 },
        'node_modules/a/node_modules/c': { version: '3.0.0', integrity: `sha1-abc ${SHA512}` },
      }),
    );
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(3);
    expect(report.omittedResolved).toBe(2);
  });

  it.each([
    ['a git URL', 'git+ssh://git@github.com/x/a.git#0123456789abcdef'],
    ['a GitHub tarball', 'https://codeload.github.com/x/a/tar.gz/main'],
    ['a local file', 'file:../a-1.0.0.tgz'],
    ['plain http', 'http://registry.npmjs.org/a/-/a-1.0.0.tgz'],
    ['another registry', 'https://registry.example.com/a/-/a-1.0.0.tgz'],
  ])('refuses a package resolved from %s', (_name, resolved) => {
    const report = checkLockfile(
      lock({ 'node_modules/a': { version: '1.0.0', resolved, integrity: SHA512 } }),
    );
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.where).toBe('node_modules/a');
    expect(report.problems[0]?.problem).toContain(resolved);
    expect(report.problems[0]?.fix).toContain('npm install a@');
  });

  it('refuses a package without integrity, or with only a sha1', () => {
    const report = checkLockfile(
      lock({
        'node_modules/a': { version: '1.0.0' },
        'node_modules/b': { version: '1.0.0', integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      }),
    );
    expect(report.problems.map((p) => [p.where, p.problem])).toEqual([
      ['node_modules/a', 'has no integrity hash'],
      ['node_modules/b', 'integrity is "sha1" only, not sha512'],
    ]);
  });

  it('refuses an omitted resolved URL when the version is not a registry version', () => {
    const report = checkLockfile(
      lock({ 'node_modules/a': { version: 'github:x/a#main', integrity: SHA512 } }),
    );
    expect(report.problems[0]?.problem).toContain('not a registry version');
  });

  it('accepts workspace links inside the repository and refuses links outside it', () => {
    const inside = checkLockfile(
      lock({
        'node_modules/w': { resolved: 'packages/w', link: true },
        'packages/w': { name: 'w', version: '0.0.0' },
      }),
    );
    expect(inside.problems).toEqual([]);
    expect(inside.workspaces).toBe(2);
    const outside = checkLockfile(
      lock({ 'node_modules/w': { resolved: '../elsewhere/w', link: true } }),
    );
    expect(outside.problems[0]?.problem).toContain('outside the repository');
  });

  it('counts bundled packages as covered by their parent', () => {
    const report = checkLockfile(
      lock({
        'node_modules/a': { version: '1.0.0', integrity: SHA512 },
        'node_modules/a/node_modules/b': { version: '1.0.0', inBundle: true },
      }),
    );
    expect(report.problems).toEqual([]);
    expect(report.bundled).toBe(1);
  });

  it('refuses other lockfile versions and git or path specs in package.json', () => {
    expect(checkLockfile({ lockfileVersion: 2, packages: {} }).problems[0]?.problem).toContain(
      'lockfileVersion is 2',
    );
    const report = checkLockfile(
      lock(
        {},
        {
          dependencies: { a: 'user/repo', b: '^1.0.0', c: 'npm:d@^2' },
          devDependencies: { e: 'file:../e' },
        },
      ),
    );
    expect(report.problems.map((p) => p.problem)).toEqual([
      'dependencies.a is "user/repo", not a registry version range',
      'devDependencies.e is "file:../e", not a registry version range',
    ]);
  });

  it('refuses a project .npmrc that points at another registry', () => {
    expect(checkNpmrc('registry=https://registry.npmjs.org\nfund=false\n')).toEqual([]);
    expect(checkNpmrc('@acme:registry=https://npm.acme.example/\n')[0]?.problem).toContain(
      'npm.acme.example',
    );
  });
});
