// `command-center doctor`: checks that this site reaches the cloud and firmware endpoints (DNS, TCP,
// TLS or FTP banner, HTTPS), directly and through the proxy, and that this machine can run the
// server (port ranges, disk, broker, database, clock, bandwidth); says what to fix; exit code 0 all
// good, 1 warnings, 2 failures. Endpoints, timeout, proxy and CA come from the configuration unless
// given as options.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig, type AppConfig } from '../../config/index.js';
import { CcError } from '../../domain/index.js';
import {
  doctorSettingsOf,
  formatProgress,
  formatReport,
  parseEndpoint,
  runDeadlineMs,
  runDoctor,
  type Endpoint,
  type LocalCheckOptions,
} from '../../diagnostics/index.js';
import { proxyChoiceOf } from '../../uplink/index.js';
import type { ProxyChoice } from '../../uplink/sender/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { cliLocalChecks } from '../doctor-local.js';

interface DoctorCliOptions extends ConfigOptions {
  endpoint: string[];
  json?: boolean;
  timeout?: string;
  ca?: string;
  proxy?: string;
  bandwidthUrl?: string;
  local: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function endpointsOf(texts: string[]): Endpoint[] {
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

function proxyChoiceFor(option: string | undefined, config: AppConfig): ProxyChoice {
  if (option === undefined) return proxyChoiceOf(config.uplink);
  if (option === 'none') return { kind: 'none' };
  return { kind: 'explicit', url: option };
}

function timeoutOf(option: string | undefined, config: AppConfig): number {
  if (option === undefined) return config.doctor.timeoutMs;
  const timeoutMs = Number(option);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000)
    throw new CcError('VALIDATION_FAILED', '--timeout must be a whole number of ms, 1 to 120000');
  return timeoutMs;
}

async function caOf(option: string | undefined, config: AppConfig): Promise<string | undefined> {
  const file = option ?? config.uplink.caFile;
  return file === null ? undefined : readFile(file, 'utf8');
}

export function registerDoctorCommand(program: Command): void {
  addConfigOptions(
    program
      .command('doctor')
      .description(
        'check network access to the cloud and firmware endpoints and this machine (ports, disk, broker, database, clock, bandwidth), and say what to fix',
      ),
  )
    .option(
      '--endpoint <host:port[/ftp]>',
      'an endpoint to check instead of doctor.endpoints (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the report as JSON')
    .option('--timeout <ms>', 'timeout of each check (default doctor.timeoutMs)')
    .option(
      '--ca <file>',
      'extra trusted CA certificates (PEM), e.g. a TLS-inspecting proxy (default uplink.caFile)',
    )
    .option(
      '--proxy <url|none>',
      'the proxy to test (default uplink.proxy: HTTPS_PROXY from the environment)',
    )
    .option(
      '--bandwidth-url <url>',
      'a large file to estimate bandwidth with (doctor.bandwidthUrl)',
    )
    .option('--no-local', 'check only the endpoints, not this machine')
    .action(async (options: DoctorCliOptions) => {
      const { config } = loadConfig({
        file: options.config,
        env: process.env,
        overrides: options.dataDir === undefined ? {} : { dataDir: options.dataDir },
      });
      const settings = doctorSettingsOf({
        ...config.doctor,
        ...(options.endpoint.length > 0 ? { endpoints: [] } : {}),
        ...(options.bandwidthUrl !== undefined ? { bandwidthUrl: options.bandwidthUrl } : {}),
      });
      const endpoints =
        options.endpoint.length > 0 ? endpointsOf(options.endpoint) : settings.endpoints;
      const timeoutMs = timeoutOf(options.timeout, config);
      const ca = await caOf(options.ca, config);
      let local: LocalCheckOptions | undefined;
      let serverRunning = false;
      if (options.local) {
        ({ local, serverRunning } = await cliLocalChecks(config, timeoutMs));
        if (settings.bandwidth !== null) local = { ...local, bandwidth: settings.bandwidth };
        if (!endpoints.some((e) => e.kind === 'https')) local = { ...local, clock: false };
      }
      const report = await runDoctor(
        {
          endpoints,
          proxy: proxyChoiceFor(options.proxy, config),
          timeoutMs,
          totalDeadlineMs: runDeadlineMs(timeoutMs),
          ...(ca !== undefined ? { ca } : {}),
          ...(local !== undefined ? { local } : {}),
        },
        (check) => process.stderr.write(formatProgress(check)),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...report, serverRunning }, null, 2)}\n`);
      } else {
        process.stdout.write(formatReport(report));
        if (options.local && !serverRunning)
          process.stdout.write(
            'The server is not running (no answer on its remembered HTTPS port): its broker was not checked.\n',
          );
      }
      process.exitCode = report.exitCode;
    });
}
