// `command-center firmware catalog list|show|upload|remove|sync|trust`: the firmware catalog of a
// running server, over its API (docs/api.md#firmware). Uploads stream the package file; a refused
// package prints every check with its reason and exits 1.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { CcError, ERROR_STATUS, type ErrorCode } from '../../domain/index.js';
import type { SyncStatus, SyncSummary, TrustView } from '../../firmware/catalog/index.js';
import type { FirmwarePackage, FirmwareCheck } from '../../store/index.js';
import {
  addServerOptions,
  connectionFailure,
  resolveServer,
  resolveToken,
  withApi,
  withLoginHint,
  type ApiClient,
  type ServerOptions,
} from '../api-client.js';
import { parseIntegerOption } from '../parse-options.js';
import { renderTable } from '../table.js';

type Package = Omit<FirmwarePackage, 'file'>;

/** Uploads may take as long as the server lets a request run (http.requestTimeoutMs, ≤ 10 min). */
const UPLOAD_TIMEOUT_MS = 15 * 60_000;
const SHORT_ID = 12;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function describeChecks(checks: readonly FirmwareCheck[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  return checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name.padEnd(width)}  ${c.detail}\n`).join('');
}

export function describePackage(p: Package): string {
  return [
    `${p.name} ${p.version}  (id ${p.id})`,
    `  models      ${p.models.join(', ')}`,
    `  image       ${size(p.imageSize)}, sha256 ${p.imageSha256}`,
    `  package     ${size(p.packageBytes)}`,
    `  released    ${p.releasedAt}, expires ${p.expiresAt}${p.allowDowngrade ? ', allows downgrade' : ''}`,
    `  signed by   ${p.signers.join(', ')}`,
    `  added       ${p.addedAt} by ${p.addedBy} from ${p.source}`,
    `verdict at admission:`,
    describeChecks(p.checks).trimEnd(),
    '',
  ].join('\n');
}

export function describeSummary(s: SyncSummary): string {
  const lines = [`sync of ${s.url} (${s.trigger}) ${s.ok ? 'done' : 'FAILED'} at ${s.finishedAt}`];
  if (s.error !== null) lines.push(`  error: ${s.error}`);
  lines.push(
    `  listed ${s.listed}, new ${s.new}, admitted ${s.admitted.length}, refused ${s.refused.length}` +
      (s.postponed.length > 0 ? `, postponed ${s.postponed.length}` : ''),
  );
  for (const a of s.admitted) lines.push(`  + ${a.file}: ${a.name} ${a.version} (id ${a.id})`);
  for (const r of s.refused) {
    lines.push(`  ✗ ${r.file}: ${r.code}: ${r.reason}`);
    for (const c of r.checks) lines.push(`      ${c.name}: ${c.detail}`);
  }
  for (const file of s.postponed) lines.push(`  … ${file}: left for the next sync (time ran out)`);
  return `${lines.join('\n')}\n`;
}

function describeSyncStatus(s: SyncStatus): string {
  if (!s.configured || s.url === null) {
    return 'no firmware repository configured (set firmware.syncUrl to sync the catalog)\n';
  }
  const schedule =
    s.intervalMinutes === 0
      ? 'manual only'
      : `every ${s.intervalMinutes} min; next ${s.nextAt ?? '-'}`;
  return (
    `repository ${s.url}\n  schedule  ${schedule}${s.running ? '\n  a sync is running now' : ''}\n` +
    (s.last === null ? '  no sync yet\n' : describeSummary(s.last).replace(/^/gm, '  '))
  );
}

function describeTrust(t: TrustView): string {
  if (!t.configured) {
    return 'no vendor keys configured (firmware.trustedKeys): every package is refused\n';
  }
  return (
    `threshold ${t.threshold} of ${t.keys.filter((k) => !k.retired).length} active keys\n` +
    renderTable(
      ['key id', 'state'],
      t.keys.map((k) => [k.id, k.retired ? 'retired (signatures do not count)' : 'active']),
    )
  );
}

/** A full id, or a prefix (at least 6 hex digits) that names exactly one package. */
async function resolveId(api: ApiClient, given: string): Promise<string> {
  const id = given.trim().toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(id)) {
    throw new CcError('BAD_REQUEST', `${given} is not a package id (6 to 64 hex digits)`);
  }
  if (id.length === 64) return id;
  const matches: string[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api.call<{ items: Package[] }>(
      'GET',
      `/api/v1/firmware/packages?limit=500&offset=${offset}`,
    );
    matches.push(...page.items.filter((p) => p.id.startsWith(id)).map((p) => p.id));
    if (page.items.length < 500) break;
  }
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  throw new CcError(
    matches.length === 0 ? 'NOT_FOUND' : 'BAD_REQUEST',
    matches.length === 0
      ? `no firmware package with an id starting ${id}`
      : `${id} is the start of ${matches.length} package ids; give more digits`,
  );
}

function progressCounter(label: string, total: number): { stream: Transform; stop(): void } {
  let bar: SingleBar | null = null;
  let done = 0;
  const started = Date.now();
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      if (process.stderr.isTTY && total > 0) {
        if (bar !== null) bar.update(done);
        else if (Date.now() - started >= 1000) {
          bar = new SingleBar(
            {
              format: `${label} [{bar}] {percentage}% | ETA {eta_formatted}`,
              clearOnComplete: true,
            },
            Presets.shades_classic,
          );
          bar.start(total, done);
        }
      }
      callback(null, chunk);
    },
  });
  return { stream, stop: () => bar?.stop() };
}

interface UploadAnswer {
  status: number;
  body: unknown;
}

async function uploadFile(file: string, options: ServerOptions): Promise<UploadAnswer> {
  const info = await stat(file).catch(() => {
    throw new CcError('BAD_REQUEST', `cannot read ${file}`);
  });
  if (!info.isFile()) throw new CcError('BAD_REQUEST', `${file} is not a file`);
  const { base, ca } = await resolveServer(options);
  const token = await resolveToken(options, base);
  if (token === undefined) {
    throw new CcError(
      'UNAUTHENTICATED',
      `no API token for ${base}: run \`command-center login\`, or give --token / CC_TOKEN`,
    );
  }
  const agent = new Agent({ connect: { ...(ca ? { ca } : {}), minVersion: 'TLSv1.2' } });
  const progress = progressCounter(`uploading ${basename(file)}`, info.size);
  try {
    const body = createReadStream(file).pipe(progress.stream);
    let res;
    try {
      res = await request(`${base}/api/v1/firmware/packages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(info.size),
        },
        body,
        dispatcher: agent,
        headersTimeout: UPLOAD_TIMEOUT_MS,
        bodyTimeout: UPLOAD_TIMEOUT_MS,
      });
    } catch (err) {
      throw connectionFailure(err, base);
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, body: parsed };
  } finally {
    progress.stop();
    await agent.close();
  }
}

function errorOf(answer: UploadAnswer): CcError {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  const code: ErrorCode =
    typeof error?.code === 'string' && error.code in ERROR_STATUS
      ? (error.code as ErrorCode)
      : 'INTERNAL';
  return withLoginHint(
    new CcError(code, typeof error?.message === 'string' ? error.message : `HTTP ${answer.status}`),
  );
}

/** The `firmware catalog` group, under the existing `firmware` command (made if absent). */
export function registerFirmwareCatalogCommands(program: Command): void {
  const firmware =
    program.commands.find((c) => c.name() === 'firmware') ??
    program.command('firmware').description('firmware packages');
  const catalog = firmware
    .command('catalog')
    .description("the server's firmware catalog: list, show, upload, remove, sync, trust");

  addServerOptions(
    catalog
      .command('list')
      .description('packages in the catalog, newest first')
      .option('--model <model>', 'only packages for this device model')
      .option('--name <name>', 'only packages of this firmware name')
      .option('--limit <n>', 'at most this many (1–500)', '50')
      .option('--json', 'print JSON'),
  ).action(
    async (
      options: ServerOptions & { model?: string; name?: string; limit: string; json?: boolean },
    ) => {
      const limit = parseIntegerOption('--limit', options.limit, 1, 500);
      const query = new URLSearchParams({ limit: String(limit) });
      if (options.model !== undefined) query.set('model', options.model);
      if (options.name !== undefined) query.set('name', options.name);
      const page = await withApi(options, (api) =>
        api.call<{ items: Package[]; total: number }>(
          'GET',
          `/api/v1/firmware/packages?${query.toString()}`,
        ),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      if (page.items.length === 0) {
        process.stdout.write('the catalog holds no matching package\n');
        return;
      }
      process.stdout.write(
        renderTable(
          ['id', 'name', 'version', 'models', 'size', 'expires', 'added', 'from'],
          page.items.map((p) => [
            p.id.slice(0, SHORT_ID),
            p.name,
            p.version,
            p.models.join(', '),
            size(p.packageBytes),
            p.expiresAt.slice(0, 10),
            p.addedAt.slice(0, 16).replace('T', ' '),
            p.source,
          ]),
        ),
      );
      if (page.total > page.items.length) {
        process.stdout.write(`(${page.items.length} of ${page.total}; use --limit)\n`);
      }
    },
  );

  addServerOptions(
    catalog
      .command('show')
      .description('one package with the verdict it was admitted with')
      .argument('<id>', 'package id, or a unique prefix of it')
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: ServerOptions & { json?: boolean }) => {
    const pkg = await withApi(options, async (api) =>
      api.call<Package>('GET', `/api/v1/firmware/packages/${await resolveId(api, id)}`),
    );
    process.stdout.write(options.json ? `${JSON.stringify(pkg, null, 2)}\n` : describePackage(pkg));
  });

  addServerOptions(
    catalog
      .command('upload')
      .description(
        'upload a package file; the server verifies it before storing it. Exit 0 admitted, 1 refused',
      )
      .argument('<package>', 'package file (.tar)')
      .option('--json', 'print JSON'),
  ).action(async (file: string, options: ServerOptions & { json?: boolean }) => {
    const answer = await uploadFile(file, options);
    if (answer.status === 200 || answer.status === 201) {
      const pkg = answer.body as Package;
      if (options.json) process.stdout.write(`${JSON.stringify(pkg, null, 2)}\n`);
      else {
        process.stdout.write(
          answer.status === 201
            ? `admitted ${pkg.name} ${pkg.version} as ${pkg.id}\n`
            : `already in the catalog: ${pkg.name} ${pkg.version} (${pkg.id})\n`,
        );
        process.stdout.write(describeChecks(pkg.checks));
      }
      return;
    }
    const verdict = (answer.body as { verdict?: { checks?: FirmwareCheck[] } } | undefined)
      ?.verdict;
    if (verdict?.checks === undefined) throw errorOf(answer);
    const error = errorOf(answer);
    if (options.json) process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
    else {
      process.stdout.write(`${basename(file)}: REFUSED\n${describeChecks(verdict.checks)}`);
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
    }
    process.exitCode = 1;
  });

  addServerOptions(
    catalog
      .command('remove')
      .description('remove a package and its file (refused while an unfinished rollout uses it)')
      .argument('<id>', 'package id, or a unique prefix of it'),
  ).action(async (id: string, options: ServerOptions) => {
    const removed = await withApi(options, async (api) => {
      const full = await resolveId(api, id);
      await api.call('DELETE', `/api/v1/firmware/packages/${full}`);
      return full;
    });
    process.stdout.write(`removed ${removed}\n`);
  });

  addServerOptions(
    catalog
      .command('sync')
      .description(
        'sync the catalog from the vendor repository now and print what happened. Exit 0 when ' +
          'the repository was listed and nothing was refused, 1 otherwise',
      )
      .option('--status', 'only show the sync schedule and the last result')
      .option('--json', 'print JSON'),
  ).action(async (options: ServerOptions & { status?: boolean; json?: boolean }) => {
    if (options.status) {
      const status = await withApi(options, (api) =>
        api.call<SyncStatus>('GET', '/api/v1/firmware/sync'),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(status, null, 2)}\n` : describeSyncStatus(status),
      );
      return;
    }
    const summary = await withApi(options, (api) =>
      api.call<SyncSummary>('POST', '/api/v1/firmware/sync'),
    );
    process.stdout.write(
      options.json ? `${JSON.stringify(summary, null, 2)}\n` : describeSummary(summary),
    );
    if (!summary.ok || summary.refused.length > 0) process.exitCode = 1;
  });

  addServerOptions(
    catalog
      .command('trust')
      .description('the vendor key ids the server trusts, retired keys and the threshold')
      .option('--json', 'print JSON'),
  ).action(async (options: ServerOptions & { json?: boolean }) => {
    const trust = await withApi(options, (api) =>
      api.call<TrustView>('GET', '/api/v1/firmware/trust'),
    );
    process.stdout.write(
      options.json ? `${JSON.stringify(trust, null, 2)}\n` : describeTrust(trust),
    );
  });
}
