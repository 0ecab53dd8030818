// `command-center cloud-receiver` as an operator runs it: start, enroll and report over HTTPS using
// only what it printed, stop with SIGTERM, then `cloud-receiver list --site` shows the report.

import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCli, runCli } from '../../test/fixtures/server-process.js';
import { deriveUplinkKeys, sealReport } from '../uplink/seal.js';
import type { EnrollResponse } from './index.js';

function waitForOutput(
  child: ReturnType<typeof runCli>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(out);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)}:\n${out}`));
    });
  });
}

describe('command-center cloud-receiver', { timeout: 60_000 }, () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-cloud-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs until SIGTERM and lists what it received', async () => {
    const child = runCli(
      [
        'cloud-receiver',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--organization',
        'org-cli',
        '--log-level',
        'warn',
      ],
      {},
    );
    let siteId: string;
    try {
      const out = await waitForOutput(child, /Ctrl\+C stops/, 30_000);
      const url = /listening on (https:\/\/\S+)/.exec(out)?.[1];
      const token = /Enrollment token\s+(\S+)\s+\(generated\)/.exec(out)?.[1];
      const caPath = /CA certificate\s+(\S+)/.exec(out)?.[1];
      expect(out).toMatch(/Admin token\s+\S+\s+\(generated\)/);
      expect(out).toMatch(/SHA-256\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      expect([url, token, caPath]).not.toContain(undefined);

      const agent = new Agent({ connect: { ca: await readFile(caPath!, 'utf8') } });
      try {
        const post = async (path: string, body: unknown) => {
          const res = await request(`${url!}${path}`, {
            dispatcher: agent,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          return { status: res.statusCode, body: await res.body.json() };
        };
        const enrolled = await post('/v1/enroll', {
          organizationId: 'org-cli',
          enrollmentToken: token,
          server: { name: 'cli-test', version: '0.1.0' },
        });
        expect(enrolled.status).toBe(201);
        const site = enrolled.body as EnrollResponse;
        siteId = site.siteId;
        const keys = deriveUplinkKeys(Buffer.from(site.siteSecret, 'base64'));
        const envelope = sealReport(
          { kind: 'periodic', hello: 'cloud', seq: 1, siteId: site.siteId },
          { ...site, seq: 1 },
          keys,
        );
        expect((await post('/v1/reports', envelope)).status).toBe(202);
      } finally {
        await agent.close();
      }
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);

    const reports = await execCli(
      ['cloud-receiver', 'list', '--data-dir', dir, '--site', siteId],
      {},
    );
    expect(reports.code).toBe(0);
    expect(reports.stdout).toMatch(
      /^SEQ\s+RECEIVED\s+REPORT\n1\s+\S+Z\s+\{"kind":"periodic","hello":"cloud","seq":1,"siteId":"[^"]+"\}\n$/,
    );
  });
});
