// The cloud uplink: enrollment, consent, and the reports themselves — every interval and when a
// critical alert opens, produced from the live fleet (report-producer.ts), stored sealed in the
// outbox and delivered through the sender (delivery.ts). Reports are produced only while
// enrolled; nothing is sent before.

import { CcError, isCcError, type Alert, type FleetChange } from '../domain/index.js';
import type { UplinkEnrollment } from '../store/index.js';
import { consentViews, recordConsent } from './consent.js';
import { createDelivery, type CloudAnswer, type Delivery } from './delivery.js';
import { cloudUrl, openSiteSecret, requestEnrollment, sealEnrollment } from './enrollment.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createRecentIds } from './recent-ids.js';
import { createReportProducer } from './report-producer.js';
import { deriveUplinkKeys, sealReport, type UplinkKeys } from './seal.js';
import { postJson, type SendPolicy } from './sender/index.js';
import { checkEndpoint, proxyChoiceOf, routeTo, sendPolicyOf } from './uplink-policy.js';
import type {
  QueuedReport,
  Uplink,
  UplinkAlert,
  UplinkDeps,
  UplinkSettings,
  UplinkStatus,
} from './uplink-types.js';

export type * from './uplink-types.js';

/** Alert ids and cloud request ids remembered, so each is acted on once. */
const MAX_REMEMBERED_IDS = 1000;

export function createUplink(deps: UplinkDeps, settings: UplinkSettings): Uplink {
  const now = deps.now ?? Date.now;
  const logger = deps.logger;
  const basePolicy: SendPolicy = sendPolicyOf(settings, deps.env);
  let enrollment: UplinkEnrollment | null = null;
  let keys: UplinkKeys | null = null;
  let intervalSeconds = settings.intervalSeconds;
  let nextReportAt: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let droppedTotal = 0;
  const reportedAlerts = createRecentIds(MAX_REMEMBERED_IDS);
  const handledRequests = createRecentIds(MAX_REMEMBERED_IDS);
  const alerts: UplinkAlert[] = [];
  let started = false;

  const outbox: Outbox = createOutbox(
    {
      store: deps.store,
      logger,
      ...(deps.outboxMetrics ? { metrics: deps.outboxMetrics } : {}),
      ...(deps.storage ? { storage: deps.storage } : {}),
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
      if (!handledRequests.firstTime(request.id)) continue;
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

  const producer = createReportProducer({ ...deps, outbox, now });

  /** `force`: deliver at once even while backing off (a critical alert, an admin's request). */
  async function produce(
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
    const queued = await producer.queue({ enrollment: current, keys: currentKeys }, kind, trigger);
    delivery.kick(force);
    return queued;
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
          if (isCcError(err) && err.code === 'STORAGE_FULL') {
            // Counted as a refused uplink write; the next report covers this interval too.
            logger.debug('periodic uplink report skipped: storage full');
          } else logger.error({ err }, 'cannot produce the periodic uplink report');
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
    if (!reportedAlerts.firstTime(alert.id)) return;
    void produce('critical', alert).catch((err: unknown) => {
      logger.error({ err, alert: alert.id }, 'cannot produce the critical uplink report');
    });
  }

  async function status(): Promise<UplinkStatus> {
    const [state, stats, consent] = await Promise.all([
      deps.store.uplink.state(),
      outbox.stats(),
      deps.store.uplink.currentConsent(),
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
      await producer.settled();
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
        await producer.settled();
        const discarded = previous ? await outbox.clear() : 0;
        await deps.store.uplink.saveEnrollment(sealed);
        await deps.store.uplink.updateState({ lastError: null });
        delivery.reset();
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
      await producer.settled();
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
      await deps.store.uplink.updateState({ lastError: null });
      delivery.reset();
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
      return consentViews(await deps.store.uplink.currentConsent());
    },

    setConsent: (changes, actor) => recordConsent(deps, changes, actor, new Date(now())),

    async preview() {
      const report = await producer.draft('periodic');
      return { report, bytes: Buffer.byteLength(JSON.stringify(report)) };
    },

    reportNow: () => produce('periodic', undefined, true),

    async idle() {
      await producer.settled();
      await delivery.idle();
    },
  };
}
