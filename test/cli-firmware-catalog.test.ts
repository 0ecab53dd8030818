// `command-center firmware catalog …` as an admin types it, against a real server process that
// trusts a vendor key given in its configuration: upload a good package (admitted), a tampered one
// (refused, every check printed, exit 1), and list the catalog. Help texts come from the program
// itself, without a process.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.js';
import {
  currentManifest,
  makeVendor,
  signedPackage,
} from '../src/firmware/catalog/catalog-test-harness.js';
import { packageBytes } from '../src/firmware/package-test-harness.js';
import { ApiClient } from './fixtures/https-client.js';
import { execCli, startServerProcess, type ServerProcess } from './fixtures/server-process.js';
import { makeTempDir, testEnv, type TestDataDir } from './fixtures/test-config.js';

const PASSWORD = 'a long enough admin password';
const STACK_TRACE = /at .*\.(ts|js):\d+/;
const vendor = makeVendor();

describe('the firmware catalog commands of the CLI', { timeout: 90_000 }, () => {
  let data: TestDataDir;
  let server: ServerProcess | undefined;
  let api: ApiClient | undefined;
  let cliEnv: Record<string, string>;
  let goodFile: string;
  let forgedFile: string;

  const cli = (args: string[]) => execCli(['firmware', 'catalog', ...args], cliEnv, 60_000);

  beforeAll(async () => {
    data = await makeTempDir('cc-cli-firmware-');
    const keyFile = join(data.dir, 'vendor.pub.pem');
    await writeFile(keyFile, vendor.publicPem);
    goodFile = join(data.dir, 'fusion-fw-4.3.0.tar');
    await writeFile(goodFile, signedPackage([vendor]));
    const image = Buffer.alloc(20_000, 1);
    forgedFile = join(data.dir, 'fusion-fw-4.4.0.tar');
    await writeFile(
      forgedFile,
      packageBytes({
        image: Buffer.alloc(20_000, 2),
        manifest: currentManifest(image, { version: '4.4.0' }),
        signers: [vendor.privateKey],
      }),
    );
    const serverDir = join(data.dir, 'server');
    server = await startServerProcess({
      ...testEnv(serverDir),
      CC_FIRMWARE__TRUSTED_KEYS: keyFile,
    });
    const base = `https://127.0.0.1:${server.ports.https}`;
    const certPath = join(serverDir, 'tls', 'server.crt');
    api = await ApiClient.trusting(base, certPath);
    const setupToken = new URL(server.setupUrl!).hash.replace('#token=', '');
    const setup = await api.post('/api/v1/setup', {
      token: setupToken,
      username: 'admin',
      password: PASSWORD,
    });
    expect(setup.status, setup.text).toBe(201);
    const login = await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    const created = await api.post('/api/v1/tokens', { name: 'cli-firmware-test' });
    expect(created.status, created.text).toBe(201);
    cliEnv = {
      CC_SERVER: base,
      CC_CA: certPath,
      CC_TOKEN: (created.body as { token: string }).token,
      XDG_CONFIG_HOME: join(data.dir, 'xdg'),
    };
  }, 90_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      await server.stop();
    }
    await api?.close();
    await data.cleanup();
  });

  it('uploads a signed package: admitted, every check shown', async () => {
    const res = await cli(['upload', goodFile]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/admitted fusion-fw 4\.3\.0 as [0-9a-f]{64}/);
    expect(res.stdout).toMatch(/✓ signature +1 of 1 signature verifies/);
    expect(res.stdout).not.toContain('✗');
  });

  it('prints each check of a refused package and exits 1', async () => {
    const res = await cli(['upload', forgedFile]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('fusion-fw-4.4.0.tar: REFUSED');
    expect(res.stdout).toMatch(
      /✗ image-hash +the image's sha256 is [0-9a-f]{64}; the manifest says/,
    );
    expect(res.stdout).toMatch(/✓ signature/);
    expect(res.stderr).toMatch(
      /^error FIRMWARE_IMAGE_MISMATCH: fusion-fw 4\.4\.0 refused: image-hash/,
    );
    expect(res.stderr).not.toMatch(STACK_TRACE);
  });

  it('lists the catalog: only the admitted package', async () => {
    const res = await cli(['list', '--model', 'Fusion P5']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id +name +version +models +size +expires +added +from$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^[0-9a-f]{12} +fusion-fw +4\.3\.0 +Fusion P5, Fusion P5 Pro .* upload$/,
    );
  });

  it('has a help text for every catalog subcommand', () => {
    const program = buildProgram();
    const firmware = program.commands.find((c: Command) => c.name() === 'firmware');
    const catalog = firmware?.commands.find((c: Command) => c.name() === 'catalog');
    const names = catalog?.commands.map((c: Command) => c.name()).sort();
    expect(names).toEqual(['list', 'remove', 'show', 'sync', 'trust', 'upload']);
    for (const command of catalog?.commands ?? []) {
      expect(command.description().length, command.name()).toBeGreaterThan(10);
      expect(command.helpInformation()).toContain('--server <url>');
    }
  });
});
