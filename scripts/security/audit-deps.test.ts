import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXIT_DID_NOT_RUN,
  EXIT_FINDINGS,
  EXIT_PASS,
  interpretAudit,
  runNpmAudit,
} from './audit-deps.js';
import { REPO_ROOT } from './main-module.js';

function report(counts: Record<string, number>, vulnerabilities: object = {}): string {
  const all = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts };
  const total = Object.values(all).reduce((a, b) => a + b, 0);
  return JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { ...all, total } },
  });
}

describe('dependency audit', () => {
  it('passes a report without high or critical advisories', () => {
    const outcome = interpretAudit({ stdout: report({ moderate: 2 }), stderr: '', code: 0 });
    expect(outcome.exitCode).toBe(EXIT_PASS);
    expect(outcome.lines.join('\n')).toContain('2 moderate');
  });

  it('fails a report with a high advisory and names the package', () => {
    const outcome = interpretAudit({
      stdout: report(
        { high: 1 },
        {
          fastify: { severity: 'high', via: [{ title: 'Body limit bypass' }], fixAvailable: true },
        },
      ),
      stderr: '',
      code: 1,
    });
    expect(outcome.exitCode).toBe(EXIT_FINDINGS);
    expect(outcome.lines.join('\n')).toContain('fastify: high: Body limit bypass');
  });

  it.each([
    [
      'the registry refuses the advisory endpoint',
      {
        stdout:
          '{"message":"405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk"}',
        stderr: '',
        code: 1,
      },
      '405 Method Not Allowed',
    ],
    [
      'the name does not resolve',
      {
        stdout:
          '{"message":"request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org"}',
        stderr: '',
        code: 1,
      },
      'ENOTFOUND',
    ],
    [
      'npm prints something that is not JSON',
      { stdout: '', stderr: 'npm error code ECONNRESET\nnpm error network aborted', code: 1 },
      'npm error code ECONNRESET',
    ],
    [
      'npm is stopped by the timeout',
      { stdout: '', stderr: '', code: null, failure: 'timed out after 120 s' },
      'timed out',
    ],
  ])('says it did not run when %s', (_name, run, reason) => {
    const outcome = interpretAudit(run);
    expect(outcome.exitCode).toBe(EXIT_DID_NOT_RUN);
    expect(outcome.lines[0]).toMatch(/^dependency audit DID NOT RUN: /);
    expect(outcome.lines[0]).toContain(reason);
    expect(outcome.lines.join('\n')).not.toMatch(/passed/);
  });

  it('reports the timeout when npm takes too long', async () => {
    const run = await runNpmAudit([], REPO_ROOT, 1);
    expect(interpretAudit(run).exitCode).toBe(EXIT_DID_NOT_RUN);
    expect(run.failure).toMatch(/timed out/);
  });

  it('exits 3 and says so when the advisory service cannot be reached', async () => {
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const script = join(REPO_ROOT, 'scripts', 'security', 'audit-deps.ts');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          tsx,
          [script, '--registry', 'https://127.0.0.1:9/'],
          { cwd: REPO_ROOT, timeout: 60_000 },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
            resolve({ code, stdout, stderr });
          },
        );
      },
    );
    expect(result.code).toBe(EXIT_DID_NOT_RUN);
    expect(result.stderr).toContain('dependency audit DID NOT RUN');
    expect(result.stderr).toContain('127.0.0.1:9');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/audit passed/);
  });
});
