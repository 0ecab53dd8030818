import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRepositoryFiles, MAX_FILE_BYTES, parseAllowList, scanFiles } from './scan-secrets.js';

const TOKEN = createHash('sha256').update('scan').digest('base64url');
const BEGIN = '-----BEGIN ';

describe('secrets scan of a tree', () => {
  let root: string;
  const write = (file: string, content: string | Buffer): void => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cc-secrets-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('lists tracked and untracked files but not ignored ones', () => {
    execFileSync('git', ['init', '-q'], { cwd: root });
    write('.gitignore', 'ignored/\n*.log\n');
    write('tracked.ts', 'x');
    write('new-file.ts', 'y');
    write('ignored/secret.ts', 'z');
    write('debug.log', 'w');
    execFileSync('git', ['add', 'tracked.ts'], { cwd: root });
    expect(listRepositoryFiles(root).sort()).toEqual(['.gitignore', 'new-file.ts', 'tracked.ts']);
  });

  it('says so when the tree is not a git checkout', () => {
    expect(() => listRepositoryFiles(root)).toThrow(/needs a git checkout/);
  });

  it('reports file, line and rule, and skips binary and oversized files', () => {
    write('src/config.ts', `// settings\nconst mqtt = { password: '${TOKEN}' };\n`);
    write(
      'image.png',
      Buffer.concat([Buffer.from([0x89, 0x50, 0, 0]), Buffer.from(`token=${TOKEN}`)]),
    );
    write('big.json', `${' '.repeat(MAX_FILE_BYTES)}\n"token": "${TOKEN}"`);
    write('.env', 'NOTHING=here\n');
    const report = scanFiles(
      root,
      ['src/config.ts', 'image.png', 'big.json', '.env', 'deleted.ts'],
      [],
    );
    expect(report.findings.map((f) => `${f.file}:${f.line}:${f.rule}`)).toEqual([
      'src/config.ts:2:device-token',
      '.env:1:env-file',
    ]);
    expect(report.skippedBinary).toBe(1);
    expect(report.skippedLarge).toEqual(['big.json']);
    expect(report.scanned).toBe(2);
  });

  it('honours allow-list entries by path, rule and line text, and reports unused ones', () => {
    write('test/fixture.test.ts', `const bad = '${BEGIN}PRIVATE KEY-----\\nAAAA\\n';\n`);
    write('test/other.test.ts', `const real = '${BEGIN}PRIVATE KEY-----\\nMIIE\\n';\n`);
    const allow = parseAllowList({
      entries: [
        { path: 'test/', rule: 'private-key', contains: '\\nAAAA\\n', reason: 'malformed key' },
        { path: 'gone.ts', rule: 'api-token', reason: 'was a fixture' },
      ],
    });
    const report = scanFiles(root, ['test/fixture.test.ts', 'test/other.test.ts'], allow);
    expect(report.allowed).toBe(1);
    expect(report.findings.map((f) => f.file)).toEqual(['test/other.test.ts']);
    expect(report.unusedAllowEntries.map((e) => e.path)).toEqual(['gone.ts']);
  });

  it('refuses allow-list entries without a reason', () => {
    expect(() => parseAllowList({ entries: [{ path: 'a', rule: 'private-key' }] })).toThrow(
      /reason/,
    );
  });
});
