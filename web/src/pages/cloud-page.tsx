// The cloud uplink page: status, enrollment, data-sharing consent and a preview of the next report.
// The status is loaded again every 10 s while the page is shown and after every action, and only
// the newest answer is kept, so a slow periodic load never paints over what an action returned.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ConsentView, UplinkStatus } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from '../components/icons';
import { formatDateTime } from '../format/time-format';
import { ConsentPanel } from './cloud-consent-panel';
import { EnrollmentPanel } from './cloud-enrollment-panel';
import { PreviewPanel } from './cloud-preview-panel';
import { UplinkStatusPanel } from './cloud-status-panel';
import { messageOf } from './users-page';

export const CLOUD_REFRESH_MS = 10_000;
/** After an action that starts a delivery, the status is loaded again this soon, to show it. */
export const CLOUD_FOLLOW_UP_MS = 1500;

export function CloudPage() {
  const { can } = useApp();
  if (!can('cloud:manage')) {
    return (
      <p class="callout info" data-permission-needed>
        You need the <code>cloud:manage</code> permission (an admin with access to every site) to
        see and change the cloud uplink.
      </p>
    );
  }
  return <CloudUplink />;
}

function useUplinkStatus() {
  const { api } = useApp();
  const [status, setStatus] = useState<UplinkStatus | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const latest = useRef(0);

  const reload = useCallback(() => {
    latest.current += 1;
    const ticket = latest.current;
    api.get<UplinkStatus>('/api/v1/cloud').then(
      (s) => {
        if (ticket !== latest.current) return;
        setStatus(s);
        setLoadError(null);
      },
      (err: unknown) => {
        if (ticket === latest.current) setLoadError(messageOf(err));
      },
    );
  }, [api]);

  /** A status an action answered with; any load still in flight is older and is ignored. */
  const apply = useCallback((s: UplinkStatus) => {
    latest.current += 1;
    setStatus(s);
    setLoadError(null);
  }, []);

  const applyConsent = useCallback((consent: ConsentView[]) => {
    latest.current += 1;
    setStatus((s) => (s ? { ...s, consent } : s));
  }, []);

  const followUp = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /** Loads now and once more shortly: a delivery an action started is usually done by then. */
  const reloadAndFollow = useCallback(() => {
    reload();
    clearTimeout(followUp.current);
    followUp.current = setTimeout(reload, CLOUD_FOLLOW_UP_MS);
  }, [reload]);

  useEffect(() => {
    reload();
    const timer = setInterval(() => {
      // A hidden tab needs no fresh status; it loads again as soon as it is shown.
      if (document.visibilityState !== 'hidden') reload();
    }, CLOUD_REFRESH_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') reload();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      clearTimeout(followUp.current);
      document.removeEventListener('visibilitychange', onVisible);
      // Answers arriving after the page is gone must not be applied.
      latest.current += 1;
    };
  }, [reload]);

  return { status, loadError, reload, reloadAndFollow, apply, applyConsent };
}

function CloudUplink() {
  const { status, loadError, reload, reloadAndFollow, apply, applyConsent } = useUplinkStatus();
  const onEnrolled = useCallback(
    (next: UplinkStatus) => {
      apply(next);
      // Enrolling sends a first report at once; show its delivery without waiting 10 s.
      reloadAndFollow();
    },
    [apply, reloadAndFollow],
  );
  const onConsentSaved = useCallback(
    (items: ConsentView[]) => {
      applyConsent(items);
      reload();
    },
    [applyConsent, reload],
  );

  return (
    <>
      <p class="cloud-intro">
        The cloud uplink sends a small encrypted status and health report to the vendor cloud at a
        fixed interval: outgoing HTTPS only, to allow-listed endpoints, through the configured proxy
        if there is one. Reports wait in an outbox on this server while the cloud cannot be reached.
      </p>
      {loadError ? (
        <p class="callout error" role="alert">
          The uplink status could not be loaded: {loadError}
          {status ? ' (showing the last known status)' : ''}
        </p>
      ) : null}
      {status === null ? (
        loadError ? null : (
          <p class="muted">Loading…</p>
        )
      ) : (
        <>
          {status.alerts.length > 0 ? (
            <section
              class="callout warning cloud-alerts"
              aria-labelledby="cloud-alerts"
              data-uplink-alerts
            >
              <h2 id="cloud-alerts">
                <NamedIcon name="error" /> Uplink warnings
              </h2>
              <ul>
                {status.alerts.map((a) => (
                  <li key={`${a.code}-${a.at}`} data-alert-code={a.code}>
                    <strong>{a.message}</strong>{' '}
                    <span class="small muted">
                      ({a.code}, {formatDateTime(a.at)})
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <UplinkStatusPanel status={status} />
          <EnrollmentPanel status={status} onStatus={onEnrolled} onChanged={reload} />
          <ConsentPanel items={status.consent} onSaved={onConsentSaved} />
          <PreviewPanel enrolled={status.enrolled} onSent={reloadAndFollow} />
        </>
      )}
    </>
  );
}
