// `command-center cloud status|enroll|unenroll|consent|preview|send`: the cloud uplink of a running
// server, over its API (an admin token or login; see api-client.ts).

import type { Command } from 'commander';
import { CcError } from '../../domain/index.js';
import type { ConsentView, UplinkStatus } from '../../uplink/index.js';
import { CONSENT_CATEGORIES } from '../../uplink/index.js';
import { addServerOptions, withApi, type ServerOptions } from '../api-client.js';
import { renderTable } from '../table.js';

function since(iso: string | null): string {
  if (iso === null) return 'never';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const ago =
    seconds < 90
      ? `${seconds} s ago`
      : seconds < 5400
        ? `${Math.round(seconds / 60)} min ago`
        : `${Math.round(seconds / 3600)} h ago`;
  return `${iso} (${ago})`;
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function describeStatus(s: UplinkStatus): string {
  const lines: string[] = [];
  if (!s.enrolled || !s.enrollment) {
    lines.push('Cloud uplink: not enrolled (nothing is sent)');
    lines.push(
      '  enroll with: command-center cloud enroll --organization <id> --enrollment-token <token>',
    );
  } else {
    const e = s.enrollment;
    lines.push(
      `Cloud uplink: enrolled as site ${e.siteId} of organization ${e.organizationId}` +
        (s.enabled ? '' : ' (reports disabled by uplink.enabled)'),
    );
    lines.push(`  endpoint       ${e.endpoint} (enrolled ${e.enrolledAt} by ${e.enrolledBy})`);
  }
  lines.push(
    `  route          ${s.route.via === 'proxy' ? `through proxy ${s.route.proxy ?? '?'}` : 'direct'}`,
  );
  lines.push(`  interval       every ${s.intervalSeconds} s; next ${s.nextReportAt ?? '-'}`);
  lines.push(`  last success   ${since(s.lastSuccessAt)}`);
  lines.push(`  last attempt   ${since(s.lastAttemptAt)}`);
  if (s.lastError) lines.push(`  last error     ${s.lastError.message} (${s.lastError.at})`);
  if (s.delivery.retryAt) {
    lines.push(
      `  retrying       at ${s.delivery.retryAt} after ${s.delivery.consecutiveFailures} failure(s)`,
    );
  }
  lines.push(
    `  outbox         ${s.outbox.count} report(s), ${kib(s.outbox.bytes)} of ${kib(s.outbox.limits.maxBytes)}` +
      (s.outbox.criticalCount > 0 ? `, ${s.outbox.criticalCount} critical` : '') +
      (s.outbox.oldestAt ? `, oldest ${s.outbox.oldestAt}` : ''),
  );
  for (const alert of s.alerts) lines.push(`  ! ${alert.code}: ${alert.message}`);
  lines.push(`  consent        ${describeConsentLine(s.consent)}`);
  return `${lines.join('\n')}\n`;
}

function describeConsentLine(consent: ConsentView[]): string {
  const granted = consent.filter((c) => c.granted).map((c) => c.category);
  return granted.length === 0
    ? 'none (non-anonymous data is pseudonymized or left out)'
    : `shared in clear: ${granted.join(', ')}`;
}

function describeConsent(items: ConsentView[]): string {
  return renderTable(
    ['category', 'shared', 'since', 'by', 'what'],
    items.map((c) => [c.category, c.granted ? 'yes' : 'no', c.at, c.by, c.description]),
  );
}

function categoriesOf(list: string[] | undefined, flag: string): string[] {
  const values = (list ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const value of values) {
    if (!(CONSENT_CATEGORIES as readonly string[]).includes(value)) {
      throw new CcError(
        'BAD_REQUEST',
        `${flag} ${value}: not a category; use ${CONSENT_CATEGORIES.join(', ')}`,
      );
    }
  }
  return values;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerCloudCommands(program: Command): void {
  const cloud = program
    .command('cloud')
    .description('the vendor cloud uplink: status, enrollment, consent, report preview');

  addServerOptions(
    cloud.command('status').description('enrollment, last delivery, last error, outbox, route'),
  )
    .option('--json', 'print JSON')
    .action(async (options: ServerOptions & { json?: boolean }) => {
      const status = await withApi(options, (api) =>
        api.call<UplinkStatus>('GET', '/api/v1/cloud'),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(status, null, 2)}\n` : describeStatus(status),
      );
    });

  addServerOptions(
    cloud
      .command('enroll')
      .description('enroll this server with the vendor cloud (or enroll again)')
      .requiredOption('--organization <id>', 'organization id given by the vendor')
      .option(
        '--enrollment-token <token>',
        'one-time enrollment token from the vendor (default $CC_ENROLLMENT_TOKEN)',
      )
      .option('--endpoint <url>', 'cloud base URL (default uplink.endpoint; must be allow-listed)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      options: ServerOptions & {
        organization: string;
        enrollmentToken?: string;
        endpoint?: string;
        json?: boolean;
      },
    ) => {
      const token = options.enrollmentToken ?? process.env.CC_ENROLLMENT_TOKEN;
      if (token === undefined || token === '') {
        throw new CcError(
          'BAD_REQUEST',
          'give the enrollment token with --enrollment-token or $CC_ENROLLMENT_TOKEN',
        );
      }
      const status = await withApi(options, (api) =>
        api.call<UplinkStatus>('POST', '/api/v1/cloud/enrollment', {
          organizationId: options.organization,
          enrollmentToken: token,
          ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        }),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(status, null, 2)}\n` : describeStatus(status),
      );
    },
  );

  addServerOptions(
    cloud
      .command('unenroll')
      .description('stop reporting: tell the cloud, forget the site secret, discard queued reports')
      .option('--yes', 'confirm'),
  ).action(async (options: ServerOptions & { yes?: boolean }) => {
    if (!options.yes) {
      throw new CcError(
        'BAD_REQUEST',
        'un-enrolling discards queued reports: add --yes to confirm',
      );
    }
    const status = await withApi(options, (api) =>
      api.call<UplinkStatus>('DELETE', '/api/v1/cloud/enrollment'),
    );
    process.stdout.write(describeStatus(status));
  });

  addServerOptions(
    cloud
      .command('consent')
      .description(
        `show or change what is shared in clear (categories: ${CONSENT_CATEGORIES.join(', ')})`,
      )
      .option('--grant <category>', 'share this category in clear (repeatable)', collect)
      .option('--revoke <category>', 'stop sharing this category (repeatable)', collect)
      .option('--json', 'print JSON'),
  ).action(
    async (options: ServerOptions & { grant?: string[]; revoke?: string[]; json?: boolean }) => {
      const grant = categoriesOf(options.grant, '--grant');
      const revoke = categoriesOf(options.revoke, '--revoke');
      const both = grant.filter((c) => revoke.includes(c));
      if (both.length > 0) {
        throw new CcError('BAD_REQUEST', `both granted and revoked: ${both.join(', ')}`);
      }
      const changes = Object.fromEntries([
        ...grant.map((c) => [c, true] as const),
        ...revoke.map((c) => [c, false] as const),
      ]);
      const answer = await withApi(options, (api) =>
        Object.keys(changes).length === 0
          ? api.call<{ items: ConsentView[] }>('GET', '/api/v1/cloud/consent')
          : api.call<{ items: ConsentView[] }>('PUT', '/api/v1/cloud/consent', changes),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(answer.items, null, 2)}\n` : describeConsent(answer.items),
      );
    },
  );

  addServerOptions(
    cloud
      .command('preview')
      .description('print exactly what the next report would hold now (before encryption)'),
  ).action(async (options: ServerOptions) => {
    const preview = await withApi(options, (api) =>
      api.call<{ report: unknown; bytes: number }>('GET', '/api/v1/cloud/preview'),
    );
    process.stdout.write(`${JSON.stringify(preview.report, null, 2)}\n`);
    process.stderr.write(`${preview.bytes} bytes of JSON before encryption\n`);
  });

  addServerOptions(
    cloud.command('send').description('queue a report now and start delivering it'),
  ).action(async (options: ServerOptions) => {
    const queued = await withApi(options, (api) =>
      api.call<{ seq: number; parts: number; bytes: number }>('POST', '/api/v1/cloud/reports'),
    );
    process.stdout.write(
      queued.parts > 1
        ? `queued report ${queued.seq} in ${queued.parts} parts (${queued.bytes} bytes sealed)\n`
        : `queued report ${queued.seq} (${queued.bytes} bytes sealed)\n`,
    );
  });
}
