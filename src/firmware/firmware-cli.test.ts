// `command-center firmware …` as a vendor runs it: keygen (private key 0600), pack, sign, then
// verify with its exit codes — 0 accepted, 1 refused, 2 usage or I/O error — and every check shown.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCli } from '../../test/fixtures/server-process.js';
import { CHECK_NAMES } from './verify-package.js';

const STACK_TRACE = /at .*\.(ts|js):\d+/;

describe('command-center firmware', { timeout: 90_000 }, () => {
  let dir: string;
  const cli = (args: string[]) => execCli(['firmware', ...args], {});

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-fw-cli-'));
    await writeFile(join(dir, 'fw.bin'), randomBytes(20_000));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen, pack, sign and verify a package; refuses with exit 1, usage errors exit 2', async () => {
    const prefix = join(dir, 'vendor');
    const keygen = await cli(['keygen', '--out', prefix]);
    expect(keygen.stderr).toBe('');
    expect(keygen.code).toBe(0);
    const keyId = /key id ([0-9a-f]{16})/.exec(keygen.stdout)?.[1];
    expect(keyId).toBeDefined();
    expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${prefix}.pub.pem`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    const pkg = join(dir, 'fusion.tar');
    const pack = await cli([
      'pack',
      '--image',
      join(dir, 'fw.bin'),
      '--name',
      'fusion-fw',
      '--version',
      '4.3.0',
      '--models',
      'Fusion P5,Fusion P5 Pro',
      '--expires',
      '30d',
      '--image-name',
      'firmware.bin',
      '--out',
      pkg,
    ]);
    expect(pack.stderr).toBe('');
    expect(pack.stdout).toMatch(
      /wrote .*fusion\.tar \(unsigned\)\n {2}fusion-fw 4\.3\.0 for Fusion P5, Fusion P5 Pro/,
    );

    const sign = await cli(['sign', '--key', `${prefix}.key`, pkg]);
    expect(sign.stdout).toBe(
      `signed fusion-fw 4.3.0 with key ${keyId}: ${pkg} holds 1 signature\n`,
    );

    const pub = `${prefix}.pub.pem`;
    const [accepted, refused, noKey, badOption, missing, unknownOption] = await Promise.all([
      cli(['verify', '--pubkey', pub, '--model', 'Fusion P5', '--installed', '4.2.0', pkg]),
      cli(['verify', '--pubkey', pub, '--model', 'Fusion P3', '--installed', '4.3.0', pkg]),
      cli(['verify', pkg]),
      cli(['verify', '--pubkey', pub, '--threshold', 'two', pkg]),
      cli(['verify', '--pubkey', join(dir, 'missing.pem'), pkg]),
      cli(['verify', '--pubkey', pub, '--no-such-option', pkg]),
    ]);

    expect(accepted.code).toBe(0);
    for (const name of CHECK_NAMES)
      expect(accepted.stdout).toMatch(new RegExp(`^ {2}✓ ${name} `, 'm'));
    expect(accepted.stdout).toMatch(`verdict: ACCEPTED — fusion-fw 4.3.0, signed by ${keyId}`);

    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /^ {2}✗ model +the package is for Fusion P5, Fusion P5 Pro, not for "Fusion P3"$/m,
    );
    expect(refused.stdout).toMatch(
      /^ {2}✗ version +4\.3\.0 is the same as the installed 4\.3\.0: refused as a rollback/m,
    );
    expect(refused.stdout).toMatch(
      /verdict: REFUSED — 2 of 10 checks failed \(model, version\); FIRMWARE_MODEL_MISMATCH/,
    );

    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(
      /error BAD_REQUEST: give at least one trusted vendor key with --pubkey/,
    );
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--threshold must be an integer/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ENOENT/);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/unknown option '--no-such-option'/);
    for (const res of [refused, noKey, badOption, missing])
      expect(res.stderr).not.toMatch(STACK_TRACE);
  });
});
