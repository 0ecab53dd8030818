// Catalog sync from the vendor repository (firmware.syncUrl): list what the repository offers,
// download only what the catalog does not hold yet, and admit each through the same verification
// as an upload. A bad package is reported and the sync goes on; each download and the whole sync
// have a time limit; the allow-list is checked before anything is connected. One sync runs at a
// time (a manual one joins the one running); the periodic one runs every syncIntervalMinutes.

import type { Readable } from 'node:stream';
import { CcError } from '../../domain/index.js';
import type { Logger } from '../../observability/index.js';
import type { AuditEntry, FirmwarePackage } from '../../store/index.js';
import { FirmwareError } from '../firmware-errors.js';
import type { CatalogMetrics } from './catalog-metrics.js';
import type {
  Admission,
  AdmitOptions,
  CatalogActor,
  SyncRefusal,
  SyncSettings,
  SyncStatus,
  SyncSummary,
} from './catalog-types.js';
import { ftpRepository } from './ftp-repository.js';
import { httpsRepository } from './https-repository.js';
import type { RemotePackage } from './repository-index.js';
import type { RepositorySource } from './repository-source.js';
import { assertSyncAllowed, fileUrl, type SyncTarget } from './sync-url.js';

export interface SyncDeps {
  admit(source: Readable, by: CatalogActor, options: AdmitOptions): Promise<Admission>;
  /** Every package in the catalog (the sync compares the repository's list with it). */
  packages(): Promise<FirmwarePackage[]>;
  logger: Logger;
  audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  metrics: CatalogMetrics;
  now: () => Date;
}

export interface CatalogSync {
  run(by: CatalogActor, trigger: 'manual' | 'periodic'): Promise<SyncSummary>;
  status(): SyncStatus;
  start(): void;
  stop(): Promise<void>;
}

const SYSTEM: CatalogActor = { name: 'system', source: null };
const DEFAULT_FIRST_SYNC_DELAY_MS = 60_000;
/** Refused files remembered so the periodic sync does not fetch them again and again. */
const MAX_REMEMBERED_REFUSALS = 1000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function failedChecks(err: FirmwareError): SyncRefusal['checks'] {
  const checks = (err.details?.checks ?? []) as SyncRefusal['checks'];
  return checks.filter((c) => !c.ok);
}

/** Whether the catalog holds the repository's file already: by hash when known, else by origin. */
function isKnown(pkg: RemotePackage, url: string, catalog: FirmwarePackage[]): boolean {
  if (pkg.sha256 !== null) return catalog.some((p) => p.id === pkg.sha256);
  return catalog.some(
    (p) => p.source === url && (pkg.size === null || p.packageBytes === pkg.size),
  );
}

export function createCatalogSync(
  deps: SyncDeps,
  settings: SyncSettings & { maxPackageBytes: number },
  target: SyncTarget | null,
): CatalogSync {
  const { logger } = deps;
  let running: Promise<SyncSummary> | null = null;
  let last: SyncSummary | null = null;
  let timer: NodeJS.Timeout | null = null;
  let nextAt: Date | null = null;
  let stopped = false;
  const stopping = new AbortController();
  const refusedBefore = new Map<string, SyncRefusal & { at: string }>();

  function sourceFor(t: SyncTarget): RepositorySource {
    return t.protocol === 'https'
      ? httpsRepository(t, {
          allow: settings.allowedHosts,
          ca: settings.ca,
          proxy: settings.proxy,
          timeoutMs: settings.downloadTimeoutMs,
        })
      : ftpRepository(t, { timeoutMs: settings.downloadTimeoutMs });
  }

  function remember(key: string, refusal: SyncRefusal): void {
    if (refusedBefore.size >= MAX_REMEMBERED_REFUSALS) {
      const oldest = refusedBefore.keys().next().value;
      if (oldest !== undefined) refusedBefore.delete(oldest);
    }
    refusedBefore.set(key, { ...refusal, at: deps.now().toISOString() });
  }

  /** Downloads and admits one package; a refusal when it is not admitted. */
  async function fetchOne(
    t: SyncTarget,
    source: RepositorySource,
    pkg: RemotePackage,
    by: CatalogActor,
    total: AbortSignal,
  ): Promise<Admission | SyncRefusal> {
    const refusal = (code: string, reason: string, checks: SyncRefusal['checks'] = []) => ({
      file: pkg.file,
      code,
      reason,
      checks,
    });
    if (pkg.size !== null && pkg.size > settings.maxPackageBytes) {
      return refusal(
        'FIRMWARE_TOO_LARGE',
        `the repository lists ${pkg.size} bytes, over the limit of ${settings.maxPackageBytes} bytes (firmware.maxPackageBytes); not downloaded`,
      );
    }
    const controller = new AbortController();
    const onTotal = (): void => controller.abort();
    total.addEventListener('abort', onTotal, { once: true });
    const fileTimer = setTimeout(() => controller.abort(), settings.downloadTimeoutMs);
    const timedOut = (): string =>
      total.aborted
        ? 'the sync ran out of time (firmware.syncTimeoutSeconds) during this download'
        : `the download did not finish within ${Math.round(settings.downloadTimeoutMs / 1000)} s (firmware.downloadTimeoutSeconds)`;
    let download: Awaited<ReturnType<RepositorySource['fetch']>> | null = null;
    try {
      download = await source.fetch(pkg, controller.signal);
      return await deps.admit(download.stream, by, {
        origin: fileUrl(t, pkg.file),
        declaredBytes: download.length ?? pkg.size,
        expectedSha256: pkg.sha256,
        signal: controller.signal,
      });
    } catch (err) {
      if (err instanceof FirmwareError) return refusal(err.code, err.message, failedChecks(err));
      const why = controller.signal.aborted
        ? timedOut()
        : download !== null
          ? download.explain(err)
          : reasonOf(err);
      return refusal('DOWNLOAD_FAILED', why);
    } finally {
      clearTimeout(fileTimer);
      total.removeEventListener('abort', onTotal);
      download?.close();
    }
  }

  async function execute(
    t: SyncTarget,
    by: CatalogActor,
    trigger: 'manual' | 'periodic',
  ): Promise<SyncSummary> {
    const summary: SyncSummary = {
      url: t.shown,
      trigger,
      startedAt: deps.now().toISOString(),
      finishedAt: '',
      ok: false,
      error: null,
      listed: 0,
      new: 0,
      admitted: [],
      refused: [],
      postponed: [],
    };
    const total = new AbortController();
    const onStop = (): void => total.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const totalTimer = setTimeout(() => total.abort(), settings.syncTimeoutMs);
    try {
      assertSyncAllowed(t, settings.allowedHosts);
      const source = sourceFor(t);
      const offered = await source.list(total.signal);
      const catalog = await deps.packages();
      summary.listed = offered.length;
      const fresh = offered.filter((pkg) => !isKnown(pkg, fileUrl(t, pkg.file), catalog));
      summary.new = fresh.length;
      summary.ok = true;
      for (const pkg of fresh) {
        if (total.signal.aborted) {
          summary.postponed.push(pkg.file);
          continue;
        }
        const key = `${pkg.file}|${pkg.sha256 ?? pkg.size ?? '?'}`;
        const before = refusedBefore.get(key);
        if (trigger === 'periodic' && before !== undefined) {
          summary.refused.push({
            ...before,
            reason: `${before.reason} (refused at ${before.at}; not downloaded again until the file changes — run a sync by hand to retry)`,
          });
          continue;
        }
        const outcome = await fetchOne(t, source, pkg, by, total.signal);
        if ('package' in outcome) {
          const p = outcome.package;
          summary.admitted.push({ file: pkg.file, id: p.id, name: p.name, version: p.version });
          refusedBefore.delete(key);
        } else {
          summary.refused.push(outcome);
          remember(key, outcome);
          logger.warn(
            { file: pkg.file, code: outcome.code, reason: outcome.reason },
            'firmware sync: package not admitted',
          );
        }
      }
    } catch (err) {
      summary.error = total.signal.aborted
        ? stopping.signal.aborted
          ? 'the sync was stopped (server shutting down)'
          : 'the sync ran out of time (firmware.syncTimeoutSeconds) while listing the repository'
        : reasonOf(err);
      summary.ok = false;
    } finally {
      clearTimeout(totalTimer);
      stopping.signal.removeEventListener('abort', onStop);
    }
    summary.finishedAt = deps.now().toISOString();
    deps.metrics.sync(summary.ok ? 'ok' : 'failed');
    await deps.audit.record({
      actor: by.name,
      action: 'firmware.sync',
      target: t.shown,
      outcome: summary.ok ? 'ok' : 'failed',
      source: by.source,
      details: {
        trigger,
        listed: summary.listed,
        new: summary.new,
        admitted: summary.admitted.map((a) => a.id),
        refused: summary.refused.map((r) => ({ file: r.file, code: r.code })),
        postponed: summary.postponed.length,
        ...(summary.error !== null ? { error: summary.error } : {}),
      },
    });
    const log = summary.ok ? logger.info.bind(logger) : logger.warn.bind(logger);
    log(
      {
        url: t.shown,
        listed: summary.listed,
        new: summary.new,
        admitted: summary.admitted.length,
        refused: summary.refused.length,
        error: summary.error,
      },
      summary.ok ? 'firmware sync done' : 'firmware sync failed',
    );
    last = summary;
    return summary;
  }

  function run(by: CatalogActor, trigger: 'manual' | 'periodic'): Promise<SyncSummary> {
    if (target === null) {
      return Promise.reject(
        new CcError(
          'CONFLICT',
          'no firmware repository is configured: set firmware.syncUrl (https:// or ftp://) to sync the catalog',
        ),
      );
    }
    if (stopped) return Promise.reject(new CcError('CONFLICT', 'the firmware catalog is stopped'));
    running ??= execute(target, by, trigger).finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(delayMs: number): void {
    if (stopped || target === null || settings.intervalMinutes === 0) return;
    nextAt = new Date(deps.now().getTime() + delayMs);
    timer = setTimeout(() => {
      timer = null;
      nextAt = null;
      void run(SYSTEM, 'periodic')
        .catch((err: unknown) => logger.error({ err }, 'firmware sync failed'))
        .finally(() => schedule(settings.intervalMinutes * 60_000));
    }, delayMs);
    timer.unref();
  }

  return {
    run,
    status: () => ({
      configured: target !== null,
      url: target?.shown ?? null,
      intervalMinutes: settings.intervalMinutes,
      running: running !== null,
      nextAt: nextAt?.toISOString() ?? null,
      last,
    }),
    start() {
      const interval = settings.intervalMinutes * 60_000;
      schedule(Math.min(settings.firstSyncDelayMs ?? DEFAULT_FIRST_SYNC_DELAY_MS, interval));
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      nextAt = null;
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
}
