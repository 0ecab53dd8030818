// The cloud uplink: enrollment, consent, and the reports themselves — every interval and when a
// critical alert opens, built from the live fleet, classified (report/), sealed for the current
// seq (seal.ts), stored in the outbox and delivered through the sender (delivery.ts). Reports are
// produced only while enrolled; nothing is sent before.

import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretBox } from '../auth/index.js';
import {
  CcError,
  type Alert,
  type DeviceView,
  type FleetChange,
  type Job,
} from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { AuditEntry, ConsentState, Store, UplinkEnrollment } from '../store/index.js';
import { createDelivery, type CloudAnswer, type Delivery, type DeliveryState } from './delivery.js';
import { cloudUrl, openSiteSecret, requestEnrollment, sealEnrollment } from './enrollment.js';
import { createOutbox, type Outbox, type OutboxMetrics, type OutboxStatus } from './outbox.js';
import {
  buildReport,
  splitReport,
  CONSENT_CATEGORIES,
  CONSENT_CATEGORY_DESCRIPTIONS,
  type ConsentCategory,
  type ServerStatus,
  type UplinkReport,
} from './report/index.js';
import { deriveUplinkKeys, sealReport, type UplinkKeys } from './seal.js';
import { postJson, type SendPolicy } from './sender/index.js';
import { checkEndpoint, proxyChoiceOf, routeTo, sendPolicyOf } from './uplink-policy.js';
import type { UplinkNetworkSettings } from './uplink-policy.js';

export interface UplinkSettings extends UplinkNetworkSettings {
  enabled: boolean;
  intervalSeconds: number;
  outboxMaxBytes: number;
  outboxMaxItems: number;
  drainPerMinute: number;
  backoffMaxSeconds: number;
  /** First retry delay (default 5 s); tests shorten it. */
  backoffBaseMs?: number;
}

export interface UplinkDeps {
  store: Pick<Store, 'uplink' | 'outbox' | 'jobs'>;
  fleet: { list(): DeviceView[] };
  /** Fleet changes, to send a critical report when a critical alert opens. */
  onChange(listener: (change: FleetChange) => void): () => void;
  secrets: SecretBox;
  audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  logger: Logger;
  /** The server's own status, gathered when a report is due. */
  server(): Promise<
    Omit<ServerStatus, 'health'> & { health: Omit<ServerStatus['health'], 'outboxPending'> }
  >;
  version: string;
  outboxMetrics?: OutboxMetrics;
  metrics?: { attempt(outcome: string): void; reportBytes(bytes: number): void };
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/** Who made a change, for the audit log and the consent history. */
export interface Actor {
  name: string;
  source: string | null;
}

export interface ConsentView {
  category: ConsentCategory;
  description: string;
  granted: boolean;
  at: string | null;
  by: string | null;
}

export interface UplinkAlert {
  code: 'UPLINK_REPORTS_DROPPED';
  message: string;
  at: string;
}

export interface UplinkStatus {
  enabled: boolean;
  enrolled: boolean;
  enrollment: Omit<UplinkEnrollment, 'sealedSecret'> | null;
  intervalSeconds: number;
  nextReportAt: string | null;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: { message: string; at: string } | null;
  delivery: DeliveryState;
  outbox: OutboxStatus & { droppedTotal: number };
  route: { via: 'direct' | 'proxy'; proxy: string | null };
  consent: ConsentView[];
  alerts: UplinkAlert[];
}

/** A report in the outbox: the seq of its first part, how many parts, their sealed bytes. */
export interface QueuedReport {
  seq: number;
  parts: number;
  bytes: number;
  report: UplinkReport;
}

export interface ReportPreview {
  report: UplinkReport;
  /** UTF-8 bytes of the report's JSON, before sealing. */
  bytes: number;
}

export interface Uplink {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<UplinkStatus>;
  enroll(
    request: { organizationId: string; enrollmentToken: string; endpoint?: string },
    actor: Actor,
  ): Promise<UplinkStatus>;
  unenroll(actor: Actor): Promise<UplinkStatus>;
  consent(): Promise<ConsentView[]>;
  setConsent(
    changes: Partial<Record<ConsentCategory, boolean>>,
    actor: Actor,
  ): Promise<ConsentView[]>;
  /** Exactly what the next periodic report would hold now, unsealed. */
  preview(): Promise<ReportPreview>;
  /** Builds, seals and queues a report now, and starts delivering it; resolves with its seq. */
  reportNow(kind?: 'periodic'): Promise<QueuedReport>;
  /** Resolves once queued reports have been tried (tests). */
  idle(): Promise<void>;
}

const PSEUDONYM_KEY_CONTEXT = 'uplink-pseudonym-key';
const JOB_PAGE = 500;
const MAX_JOB_PAGES = 20;
const MAX_REMEMBERED_ALERTS = 1000;

export function createUplink(deps: UplinkDeps, settings: UplinkSettings): Uplink {
  const now = deps.now ?? Date.now;
  const logger = deps.logger;
  const basePolicy: SendPolicy = sendPolicyOf(settings, deps.env);
  let enrollment: UplinkEnrollment | null = null;
  let keys: UplinkKeys | null = null;
  let pseudonymKey: Buffer | null = null;
  let intervalSeconds = settings.intervalSeconds;
  let nextReportAt: number | null = null;
  let lastReportAt = now();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let droppedTotal = 0;
  const reportedAlerts = new Set<string>();
  const handledRequests = new Set<string>();
  const alerts: UplinkAlert[] = [];
  let started = false;
  /** Reports are produced one at a time, so seqs are sealed in the order they are allocated. */
  let producing: Promise<unknown> = Promise.resolve();

  const outbox: Outbox = createOutbox(
    {
      store: deps.store,
      logger,
      ...(deps.outboxMetrics ? { metrics: deps.outboxMetrics } : {}),
      onDrop: (info) => {
        droppedTotal += info.dropped;
        const message =
          `${info.dropped} report(s) dropped to keep the outbox within ` +
          `${info.limits.maxItems} reports / ${info.limits.maxBytes} bytes` +
          (info.criticalDropped > 0 ? `, ${info.criticalDropped} of them critical` : '') +
          ': the cloud has been unreachable for long';
        alerts.splice(0, alerts.length, {
          code: 'UPLINK_REPORTS_DROPPED',
          message,
          at: new Date(now()).toISOString(),
        });
      },
    },
    { maxBytes: settings.outboxMaxBytes, maxItems: settings.outboxMaxItems },
  );

  const delivery: Delivery = createDelivery(
    {
      outbox,
      store: deps.store,
      logger,
      endpoint: () => enrollment?.endpoint ?? null,
      policy: () => basePolicy,
      onAnswer: applyAnswer,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      now,
    },
    {
      drainPerMinute: settings.drainPerMinute,
      backoffMaxSeconds: settings.backoffMaxSeconds,
      backoffBaseMs: settings.backoffBaseMs ?? 5000,
    },
  );

  function applyAnswer(answer: CloudAnswer): void {
    const interval = answer.settings?.reportIntervalSeconds;
    if (typeof interval === 'number' && Number.isInteger(interval)) {
      // The cloud may slow reports down or speed them up, within the bounds of the configuration.
      const bounded = Math.min(86_400, Math.max(settings.intervalSeconds, interval));
      if (bounded !== intervalSeconds) {
        logger.info({ intervalSeconds: bounded }, 'the cloud changed the report interval');
        intervalSeconds = bounded;
        schedulePeriodic();
      }
    }
    for (const request of answer.requests ?? []) {
      // A request id is acted on once, so a cloud that repeats its request in every answer
      // cannot turn each answer into another report.
      if (handledRequests.has(request.id)) continue;
      handledRequests.add(request.id);
      if (handledRequests.size > MAX_REMEMBERED_ALERTS) {
        const [oldest] = handledRequests;
        if (oldest !== undefined) handledRequests.delete(oldest);
      }
      if (request.kind === 'diagnostics') {
        // The cloud cannot reach in: it asks in an answer, and the server sends a full report
        // with its health on its own connection.
        logger.info({ request: request.id }, 'the cloud asked for diagnostics');
        void produce('periodic').catch((err: unknown) => {
          logger.error({ err }, 'cannot produce the diagnostics report');
        });
      }
    }
  }

  async function loadPseudonymKey(): Promise<Buffer> {
    if (pseudonymKey) return pseudonymKey;
    const state = await deps.store.uplink.state();
    if (state.sealedPseudonymKey !== null) {
      pseudonymKey = Buffer.from(
        deps.secrets.open(state.sealedPseudonymKey, PSEUDONYM_KEY_CONTEXT),
        'base64',
      );
    } else {
      pseudonymKey = randomBytes(32);
      await deps.store.uplink.updateState({
        sealedPseudonymKey: deps.secrets.seal(
          pseudonymKey.toString('base64'),
          PSEUDONYM_KEY_CONTEXT,
        ),
      });
    }
    return pseudonymKey;
  }

  async function currentConsent(): Promise<Record<string, ConsentState>> {
    return deps.store.uplink.currentConsent();
  }

  function consentViews(current: Record<string, ConsentState>): ConsentView[] {
    return CONSENT_CATEGORIES.map((category) => {
      const state = current[category];
      return {
        category,
        description: CONSENT_CATEGORY_DESCRIPTIONS[category],
        granted: state?.granted ?? false,
        at: state?.at ?? null,
        by: state?.by ?? null,
      };
    });
  }

  async function recentJobs(since: Date): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let page = 0; page < MAX_JOB_PAGES; page += 1) {
      const result = await deps.store.jobs.list({
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
      currentConsent(),
      loadPseudonymKey(),
      deps.server(),
      recentJobs(since),
      outbox.stats(),
    ]);
    const granted = new Set(
      CONSENT_CATEGORIES.filter((category) => consent[category]?.granted === true),
    );
    const base = {
      generatedAt,
      devices: deps.fleet.list(),
      jobs: { since, jobs },
      server: { ...server, health: { ...server.health, outboxPending: stats.count } },
    };
    return buildReport(
      kind === 'critical' && trigger ? { ...base, kind, trigger } : { ...base, kind: 'periodic' },
      { consent: granted, pseudonymKey: key },
    );
  }

  /** `force`: deliver at once even while backing off (a critical alert, an admin's request). */
  async function produceNow(
    kind: 'periodic' | 'critical',
    trigger?: Alert,
    force = kind === 'critical',
  ): Promise<QueuedReport> {
    const current = enrollment;
    const currentKeys = keys;
    if (!current || !currentKeys) {
      throw new CcError('CLOUD_NOT_ENROLLED', 'enroll with the cloud first');
    }
    if (!settings.enabled) {
      throw new CcError('CLOUD_DISABLED', 'reports are switched off (uplink.enabled is false)');
    }
    const report = await draft(kind, trigger);
    if (kind === 'periodic') lastReportAt = Date.parse(report.generatedAt);
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
            { ...part, seq: s, siteId: current.siteId },
            { siteId: current.siteId, seq: s, kid: current.kid },
            currentKeys,
          ),
        ),
      );
      if (first === 0) first = queued.seq;
      bytes += queued.bytes;
      deps.metrics?.reportBytes(queued.bytes);
    }
    logger.debug({ seq: first, parts: parts.length, kind, bytes }, 'uplink report queued');
    delivery.kick(force);
    return { seq: first, parts: parts.length, bytes, report };
  }

  function produce(
    kind: 'periodic' | 'critical',
    trigger?: Alert,
    force?: boolean,
  ): Promise<QueuedReport> {
    const run = producing.then(() => produceNow(kind, trigger, force));
    producing = run.catch(() => undefined);
    return run;
  }

  function schedulePeriodic(): void {
    clearTimeout(timer);
    timer = undefined;
    nextReportAt = null;
    if (!started || !settings.enabled || !enrollment) return;
    const delay = intervalSeconds * 1000;
    nextReportAt = now() + delay;
    timer = setTimeout(() => {
      void produce('periodic')
        .catch((err: unknown) => {
          logger.error({ err }, 'cannot produce the periodic uplink report');
        })
        .finally(schedulePeriodic);
    }, delay);
    timer.unref();
  }

  function activate(next: UplinkEnrollment | null): void {
    enrollment = next;
    keys = next ? deriveUplinkKeys(openSiteSecret(deps.secrets, next)) : null;
    schedulePeriodic();
    if (next && settings.enabled) delivery.kick(true);
  }

  function onFleetChange(change: FleetChange): void {
    if (change.type !== 'alert' || !enrollment || !settings.enabled) return;
    const alert = change.alert;
    // A critical alert is reported once, when it opens; later versions (acknowledged, cleared)
    // reach the cloud with the next periodic report.
    if (
      alert.severity !== 'critical' ||
      alert.clearedAt !== null ||
      alert.acknowledgedAt !== null
    ) {
      return;
    }
    if (Math.abs(now() - Date.parse(alert.raisedAt)) > 60_000) return;
    if (reportedAlerts.has(alert.id)) return;
    reportedAlerts.add(alert.id);
    // Remember recent ones only: an alert id is reported once while it can still be "new".
    if (reportedAlerts.size > MAX_REMEMBERED_ALERTS) {
      const [oldest] = reportedAlerts;
      if (oldest !== undefined) reportedAlerts.delete(oldest);
    }
    void produce('critical', alert).catch((err: unknown) => {
      logger.error({ err, alert: alert.id }, 'cannot produce the critical uplink report');
    });
  }

  async function status(): Promise<UplinkStatus> {
    const [state, stats, consent] = await Promise.all([
      deps.store.uplink.state(),
      outbox.stats(),
      currentConsent(),
    ]);
    const endpoint = enrollment?.endpoint ?? settings.endpoint;
    let enrollmentView: UplinkStatus['enrollment'] = null;
    if (enrollment) {
      const { sealedSecret: _secret, ...rest } = enrollment;
      enrollmentView = rest;
    }
    return {
      enabled: settings.enabled,
      enrolled: enrollment !== null,
      enrollment: enrollmentView,
      intervalSeconds,
      nextReportAt: nextReportAt === null ? null : new Date(nextReportAt).toISOString(),
      lastAttemptAt: state.lastAttemptAt,
      lastSuccessAt: state.lastSuccessAt,
      lastError: state.lastError,
      delivery: delivery.state(),
      outbox: { ...stats, droppedTotal },
      route: routeTo(endpoint, proxyChoiceOf(settings, deps.env)),
      consent: consentViews(consent),
      alerts: [...alerts],
    };
  }

  return {
    async start() {
      started = true;
      await outbox.enforceBound();
      activate((await deps.store.uplink.enrollment()) ?? null);
      unsubscribe = deps.onChange(onFleetChange);
    },

    async stop() {
      started = false;
      unsubscribe?.();
      unsubscribe = undefined;
      clearTimeout(timer);
      timer = undefined;
      await producing;
      await delivery.stop();
    },

    status,

    async enroll(request, actor) {
      const endpoint = checkEndpoint(
        request.endpoint ?? settings.endpoint,
        settings.allowedHosts,
        'endpoint',
        'VALIDATION_FAILED',
      ).href;
      const full = { ...request, endpoint };
      try {
        const answer = await requestEnrollment(full, basePolicy, deps.version);
        const previous = enrollment;
        const sealed = sealEnrollment(deps.secrets, full, answer, actor.name, new Date(now()));
        // Reports sealed for the previous site cannot be opened by the new one's keys.
        await producing;
        const discarded = previous ? await outbox.clear() : 0;
        await deps.store.uplink.saveEnrollment(sealed);
        if (answer.reportIntervalSeconds !== null) {
          intervalSeconds = Math.max(settings.intervalSeconds, answer.reportIntervalSeconds);
        }
        activate(sealed);
        await deps.audit.record({
          actor: actor.name,
          action: previous ? 'cloud.reenroll' : 'cloud.enroll',
          target: sealed.siteId,
          outcome: 'ok',
          source: actor.source,
          details: {
            organizationId: sealed.organizationId,
            endpoint,
            ...(previous ? { previousSiteId: previous.siteId, discardedReports: discarded } : {}),
          },
        });
        logger.info({ siteId: sealed.siteId, endpoint }, 'enrolled with the cloud');
        // A first report at once: the admin sees delivery work (or why not) right away.
        if (settings.enabled) {
          void produce('periodic').catch((err: unknown) => {
            logger.error({ err }, 'cannot produce the first uplink report');
          });
        }
      } catch (err) {
        await deps.audit.record({
          actor: actor.name,
          action: 'cloud.enroll',
          target: request.organizationId,
          outcome:
            err instanceof CcError && err.code === 'CLOUD_ENROLLMENT_REFUSED'
              ? 'refused'
              : 'failed',
          source: actor.source,
          details: { endpoint, reason: err instanceof Error ? err.message : String(err) },
        });
        throw err;
      }
      return status();
    },

    async unenroll(actor) {
      const current = enrollment;
      const currentKeys = keys;
      if (!current || !currentKeys) throw new CcError('CLOUD_NOT_ENROLLED', 'not enrolled');
      await producing;
      // No new reports, and the delivery loop ends after the report it may be sending.
      enrollment = null;
      keys = null;
      schedulePeriodic();
      await delivery.idle();
      // Tell the cloud, on a best-effort basis: the site stops reporting either way.
      let notified = false;
      try {
        let body = '';
        await deps.store.outbox.append((s) => {
          body = JSON.stringify(
            sealReport(
              {
                v: 1,
                kind: 'unenroll',
                generatedAt: new Date(now()).toISOString(),
                seq: s,
                siteId: current.siteId,
              },
              { siteId: current.siteId, seq: s, kid: current.kid },
              currentKeys,
            ),
          );
          return { kind: 'critical', body };
        }, new Date(now()));
        const answer = await postJson(
          cloudUrl(current.endpoint, 'v1/reports'),
          JSON.parse(body) as unknown,
          basePolicy,
        );
        notified = answer.status >= 200 && answer.status < 300;
      } catch (err) {
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'could not tell the cloud about the un-enrollment',
        );
      }
      const discarded = await outbox.clear();
      await deps.store.uplink.clearEnrollment();
      activate(null);
      await deps.audit.record({
        actor: actor.name,
        action: 'cloud.unenroll',
        target: current.siteId,
        outcome: 'ok',
        source: actor.source,
        details: { notified, discardedReports: discarded },
      });
      return status();
    },

    async consent() {
      return consentViews(await currentConsent());
    },

    async setConsent(changes, actor) {
      const current = await currentConsent();
      const at = new Date(now()).toISOString();
      const changed: Record<string, boolean> = {};
      for (const category of CONSENT_CATEGORIES) {
        const wanted = changes[category];
        if (wanted === undefined || (current[category]?.granted ?? false) === wanted) continue;
        await deps.store.uplink.appendConsent({
          id: randomUUID(),
          category,
          granted: wanted,
          at,
          by: actor.name,
          source: actor.source,
        });
        changed[category] = wanted;
      }
      if (Object.keys(changed).length > 0) {
        await deps.audit.record({
          actor: actor.name,
          action: 'cloud.consent',
          target: Object.keys(changed).join(','),
          outcome: 'ok',
          source: actor.source,
          details: changed,
        });
      }
      return consentViews(await currentConsent());
    },

    async preview() {
      const report = await draft('periodic');
      return { report, bytes: Buffer.byteLength(JSON.stringify(report)) };
    },

    reportNow: () => produce('periodic', undefined, true),

    async idle() {
      await producing;
      await delivery.idle();
    },
  };
}
