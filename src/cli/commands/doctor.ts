// `command-center doctor`: checks that this site reaches the cloud and firmware endpoints (DNS, TCP,
// TLS or FTP banner, HTTPS), directly and through the proxy, and says what to fix; exit code 0 all
// good, 1 warnings, 2 an endpoint unreachable.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CcError } from '../../domain/index.js';
import {
  DEFAULT_ENDPOINTS,
  formatProgress,
  formatReport,
  parseEndpoint,
  runDoctor,
  type Endpoint,
} from '../../diagnostics/index.js';
import type { ProxyChoice } from '../../uplink/sender/index.js';

interface DoctorCliOptions {
  endpoint: string[];
  json?: boolean;
  timeout: string;
  ca?: string;
  proxy?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function endpointsOf(texts: string[]): Endpoint[] {
  if (texts.length === 0) return [...DEFAULT_ENDPOINTS];
  return texts.map((text) => {
    const endpoint = parseEndpoint(text);
    if (endpoint === null)
      throw new CcError(
        'VALIDATION_FAILED',
        `--endpoint ${JSON.stringify(text.slice(0, 80))}: expected host:port or host:port/ftp`,
      );
    return endpoint;
  });
}

function proxyChoiceOf(option: string | undefined): ProxyChoice {
  if (option === undefined) return { kind: 'environment' };
  if (option === 'none') return { kind: 'none' };
  return { kind: 'explicit', url: option };
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check network access to the cloud and firmware endpoints, and say what to fix')
    .option(
      '--endpoint <host:port[/ftp]>',
      'an endpoint to check instead of the defaults (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the report as JSON')
    .option('--timeout <ms>', 'timeout of each check', '5000')
    .option('--ca <file>', 'extra trusted CA certificates (PEM), e.g. a TLS-inspecting proxy')
    .option('--proxy <url|none>', 'the proxy to test (default: HTTPS_PROXY from the environment)')
    .action(async (options: DoctorCliOptions) => {
      const timeoutMs = Number(options.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000)
        throw new CcError(
          'VALIDATION_FAILED',
          '--timeout must be a whole number of ms, 1 to 120000',
        );
      const endpoints = endpointsOf(options.endpoint);
      const ca = options.ca === undefined ? undefined : await readFile(options.ca, 'utf8');
      const report = await runDoctor(
        {
          endpoints,
          proxy: proxyChoiceOf(options.proxy),
          timeoutMs,
          // Worst case: every check of the slowest endpoint path times out, twice (direct, proxy).
          totalDeadlineMs: timeoutMs * 10,
          ...(ca !== undefined ? { ca } : {}),
        },
        (check) => process.stderr.write(formatProgress(check)),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
      );
      process.exitCode = report.exitCode;
    });
}
