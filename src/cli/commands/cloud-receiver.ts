// `command-center cloud-receiver`: runs the reference cloud endpoint of the uplink (enrollment and
// sealed reports over HTTPS) for demos and tests; `cloud-receiver list` shows what it received.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  createCloudReceiver,
  openReceiverStore,
  RECEIVER_DB_FILE,
  type ReceiverStore,
} from '../../cloud-receiver/index.js';
import { CcError } from '../../domain/index.js';
import { createLogger } from '../../observability/index.js';
import { parseIntegerOption } from '../parse-options.js';
import { renderTable } from '../table.js';

interface RunOptions {
  dataDir?: string;
  host: string;
  port: string;
  organization?: string;
  enrollmentToken?: string;
  adminToken?: string;
  cert?: string;
  key?: string;
  reportInterval: string;
  logLevel: string;
}

interface ListOptions {
  dataDir?: string;
  site?: string;
  afterSeq: string;
  limit: string;
  json?: boolean;
}

const ENROLLMENT_TOKEN_ENV = 'CC_CLOUD_ENROLLMENT_TOKEN';
const ADMIN_TOKEN_ENV = 'CC_CLOUD_ADMIN_TOKEN';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Characters of a report shown per row; --json prints them whole. */
const REPORT_PREVIEW = 80;

export function registerCloudReceiverCommand(program: Command): void {
  const command = program
    .command('cloud-receiver')
    .description(
      'run the reference cloud receiver of the uplink (enrollment and sealed reports over HTTPS)',
    )
    .option('-d, --data-dir <dir>', "the receiver's data directory (SQLite file, certificate)")
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <n>', 'HTTPS port (0: any free port)', '9443')
    .option('--organization <id>', 'the organization servers enroll into')
    .option(
      '--enrollment-token <token>',
      `token servers enroll with (or set ${ENROLLMENT_TOKEN_ENV}); generated and printed when absent`,
    )
    .option(
      '--admin-token <token>',
      `bearer token of the listing routes (or set ${ADMIN_TOKEN_ENV}); generated when absent`,
    )
    .option('--cert <file>', 'PEM certificate (chain); default: a self-signed one in the data dir')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--report-interval <seconds>', 'report interval given to enrolling servers', '300')
    .option('--log-level <level>', `log level (${LOG_LEVELS.join(', ')})`, 'info')
    .action(async (options: RunOptions) => {
      await runReceiver(options);
    });

  command
    .command('list')
    .description('print the sites a cloud receiver enrolled, or the reports one site sent')
    .option('-d, --data-dir <dir>', "the receiver's data directory")
    .option('--site <id>', 'list the reports of this site')
    .option('--after-seq <n>', 'only reports with a higher seq', '0')
    .option('--limit <n>', 'at most this many reports', '100')
    .option('--json', 'print JSON (whole reports, one per line with --site)')
    .action((_options: ListOptions, list: Command) => {
      // The parent's --data-dir also matches when written after `list`: read both levels.
      listReceived(list.optsWithGlobals<ListOptions>());
    });
}

function requireDataDir(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new CcError('BAD_REQUEST', '--data-dir <dir> is required');
  }
  return resolve(value);
}

function secretOption(value: string | undefined, env: string, option: string): string | undefined {
  const given = value ?? process.env[env];
  if (given === undefined || given === '') return undefined;
  if (given.length < 16 || given.length > 512) {
    throw new CcError('BAD_REQUEST', `${option} must be 16–512 characters`);
  }
  return given;
}

async function readTls(options: RunOptions): Promise<{ cert: string; key: string } | undefined> {
  if (options.cert === undefined && options.key === undefined) return undefined;
  if (options.cert === undefined || options.key === undefined) {
    throw new CcError('BAD_REQUEST', '--cert and --key go together');
  }
  const read = (file: string) =>
    readFile(file, 'utf8').catch(() => {
      throw new CcError('BAD_REQUEST', `cannot read ${file}`);
    });
  return { cert: await read(options.cert), key: await read(options.key) };
}

async function runReceiver(options: RunOptions): Promise<void> {
  const dataDir = requireDataDir(options.dataDir);
  const organizationId = options.organization;
  if (organizationId === undefined || !/^[\w.:-]{1,128}$/.test(organizationId)) {
    throw new CcError(
      'BAD_REQUEST',
      '--organization <id> is required: 1–128 letters, digits, ".", "_", ":" or "-"',
    );
  }
  const port = parseIntegerOption('--port', options.port, 0, 65_535);
  const interval = parseIntegerOption('--report-interval', options.reportInterval, 10, 86_400);
  const level = LOG_LEVELS.find((l) => l === options.logLevel);
  if (level === undefined) {
    throw new CcError('BAD_REQUEST', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const givenToken = secretOption(
    options.enrollmentToken,
    ENROLLMENT_TOKEN_ENV,
    '--enrollment-token',
  );
  const enrollmentToken = givenToken ?? randomBytes(24).toString('base64url');
  const adminToken = secretOption(options.adminToken, ADMIN_TOKEN_ENV, '--admin-token');
  const tls = await readTls(options);

  const receiver = createCloudReceiver({
    dataDir,
    host: options.host,
    port,
    organizationId,
    enrollmentToken,
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(tls === undefined ? {} : { tls }),
    reportIntervalSeconds: interval,
    logger: createLogger({ level, pretty: process.stdout.isTTY }),
  });
  const info = await receiver.start();
  // Printed once, on the operator's own terminal: the tokens are what the demo needs next.
  process.stdout.write(
    [
      `Cloud receiver listening on ${info.url}`,
      `  Organization      ${organizationId}`,
      `  Enrollment token  ${givenToken === undefined ? `${enrollmentToken}  (generated)` : '(as given)'}`,
      `  Admin token       ${adminToken === undefined ? `${receiver.adminToken}  (generated)` : '(as given)'}`,
      `  CA certificate    ${info.caCertPath ?? options.cert ?? ''}`,
      `  SHA-256           ${info.fingerprint256}`,
      `  Data              ${join(dataDir, RECEIVER_DB_FILE)}`,
      'Ctrl+C stops',
      '',
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await receiver.stop();
}

function openForListing(dataDir: string): ReceiverStore {
  try {
    return openReceiverStore({ dataDir, readOnly: true });
  } catch (err) {
    throw new CcError(
      'BAD_REQUEST',
      `no cloud receiver data in ${dataDir} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

function preview(report: unknown): string {
  const json = JSON.stringify(report);
  return json.length > REPORT_PREVIEW ? `${json.slice(0, REPORT_PREVIEW - 1)}…` : json;
}

function listReceived(options: ListOptions): void {
  const dataDir = requireDataDir(options.dataDir);
  const afterSeq = parseIntegerOption('--after-seq', options.afterSeq, 0, Number.MAX_SAFE_INTEGER);
  const limit = parseIntegerOption('--limit', options.limit, 1, 100_000);
  const store = openForListing(dataDir);
  try {
    if (options.site === undefined) {
      const sites = store.sites();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(sites)}\n`);
        return;
      }
      process.stdout.write(
        renderTable(
          ['SITE', 'STATUS', 'SERVER', 'VERSION', 'ENROLLED', 'LAST SEQ', 'REPORTS', 'LAST REPORT'],
          sites.map((s) => [
            s.siteId,
            s.status,
            s.serverName,
            s.serverVersion,
            s.enrolledAt,
            s.lastSeq,
            s.reportCount,
            s.lastReportAt,
          ]),
        ),
      );
      return;
    }
    if (store.site(options.site) === undefined) {
      throw new CcError('SITE_NOT_FOUND', `no site ${options.site.slice(0, 128)} in ${dataDir}`);
    }
    const reports = store.reports(options.site, afterSeq, limit);
    if (options.json) {
      for (const r of reports) process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    process.stdout.write(
      renderTable(
        ['SEQ', 'RECEIVED', 'REPORT'],
        reports.map((r) => [r.seq, r.receivedAt, preview(r.report)]),
      ),
    );
  } finally {
    store.close();
  }
}
