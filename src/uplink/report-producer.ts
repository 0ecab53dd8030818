// Turns the live fleet into sealed reports in the outbox: drafts a report (fleet, job activity
// since the previous periodic report, server health) classified under the current consent and the
// site's pseudonym key, splits it into parts that fit an envelope, seals each for its seq and
// enqueues it. Reports are produced one at a time, so seqs are sealed in allocation order.

import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../auth/index.js';
import type { Alert, Job } from '../domain/index.js';
import type { UplinkEnrollment } from '../store/index.js';
import { grantedCategories } from './consent.js';
import type { Outbox } from './outbox.js';
import { buildReport, splitReport, type UplinkReport } from './report/index.js';
import { sealReport, type UplinkKeys } from './seal.js';
import type { QueuedReport, UplinkDeps } from './uplink-types.js';

const PSEUDONYM_KEY_CONTEXT = 'uplink-pseudonym-key';
const JOB_PAGE = 500;
const MAX_JOB_PAGES = 20;

export interface ReportProducer {
  /** The report as it would be sent now (preview, and the first step of `queue`). */
  draft(kind: 'periodic' | 'critical', trigger?: Alert): Promise<UplinkReport>;
  /** Drafts, seals and enqueues a report for `site`, one producer call at a time. */
  queue(
    site: { enrollment: UplinkEnrollment; keys: UplinkKeys },
    kind: 'periodic' | 'critical',
    trigger?: Alert,
  ): Promise<QueuedReport>;
  /** Resolves when no report is being produced. */
  settled(): Promise<void>;
}

export function createReportProducer(
  deps: Pick<UplinkDeps, 'store' | 'fleet' | 'server' | 'logger' | 'metrics'> & {
    secrets: SecretBox;
    outbox: Outbox;
    now: () => number;
  },
): ReportProducer {
  const { store, outbox, now } = deps;
  let pseudonymKey: Buffer | null = null;
  let lastReportAt = now();
  let producing: Promise<unknown> = Promise.resolve();

  async function loadPseudonymKey(): Promise<Buffer> {
    if (pseudonymKey) return pseudonymKey;
    const state = await store.uplink.state();
    if (state.sealedPseudonymKey !== null) {
      pseudonymKey = Buffer.from(
        deps.secrets.open(state.sealedPseudonymKey, PSEUDONYM_KEY_CONTEXT),
        'base64',
      );
    } else {
      // Made once per site and kept sealed in the data directory: it never leaves the site.
      pseudonymKey = randomBytes(32);
      await store.uplink.updateState({
        sealedPseudonymKey: deps.secrets.seal(
          pseudonymKey.toString('base64'),
          PSEUDONYM_KEY_CONTEXT,
        ),
      });
    }
    return pseudonymKey;
  }

  async function recentJobs(since: Date): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let page = 0; page < MAX_JOB_PAGES; page += 1) {
      const result = await store.jobs.list({
        since: since.toISOString(),
        limit: JOB_PAGE,
        offset: page * JOB_PAGE,
      });
      jobs.push(...result.items);
      if (result.items.length < JOB_PAGE) break;
    }
    return jobs;
  }

  async function draft(kind: 'periodic' | 'critical', trigger?: Alert): Promise<UplinkReport> {
    const generatedAt = new Date(now());
    const since = new Date(lastReportAt);
    const [consent, key, server, jobs, stats] = await Promise.all([
      store.uplink.currentConsent(),
      loadPseudonymKey(),
      deps.server(),
      recentJobs(since),
      outbox.stats(),
    ]);
    const base = {
      generatedAt,
      devices: deps.fleet.list(),
      jobs: { since, jobs },
      server: { ...server, health: { ...server.health, outboxPending: stats.count } },
    };
    return buildReport(
      kind === 'critical' && trigger ? { ...base, kind, trigger } : { ...base, kind: 'periodic' },
      { consent: grantedCategories(consent), pseudonymKey: key },
    );
  }

  async function queueNow(
    site: { enrollment: UplinkEnrollment; keys: UplinkKeys },
    kind: 'periodic' | 'critical',
    trigger?: Alert,
  ): Promise<QueuedReport> {
    const { enrollment, keys } = site;
    const report = await draft(kind, trigger);
    // A large fleet's report goes in parts that each fit an envelope, sealed in order.
    let first = 0;
    let bytes = 0;
    const parts = splitReport(report);
    for (const part of parts) {
      const queued = await outbox.enqueue(kind, (s) =>
        JSON.stringify(
          sealReport(
            // seq and siteId are repeated inside the ciphertext, where the MAC covers them
            // (docs/protocols/cloud-uplink.md).
            { ...part, seq: s, siteId: enrollment.siteId },
            { siteId: enrollment.siteId, seq: s, kid: enrollment.kid },
            keys,
          ),
        ),
      );
      if (first === 0) first = queued.seq;
      bytes += queued.bytes;
      deps.metrics?.reportBytes(queued.bytes);
    }
    // Only a stored report moves the window on: one refused (a full disk) is covered by the next.
    if (kind === 'periodic') lastReportAt = Date.parse(report.generatedAt);
    deps.logger.debug({ seq: first, parts: parts.length, kind, bytes }, 'uplink report queued');
    return { seq: first, parts: parts.length, bytes, report };
  }

  return {
    draft,
    queue(site, kind, trigger) {
      const run = producing.then(() => queueNow(site, kind, trigger));
      producing = run.catch(() => undefined);
      return run;
    },
    async settled() {
      await producing;
    },
  };
}
