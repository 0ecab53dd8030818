// Wall display (/wall): full screen, large type readable from across the hall, no controls. It
// rotates through the sites (and pages of a large site) every ROTATE_MS, keeps its session alive
// while it is shown, and reconnects by itself.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { DEVICE_STATES } from '../api/types';
import { useApp, useFleetVersion, useNow, useTitle } from '../app-context';
import { ConnectionIndicator } from '../components/connection-indicator';
import { NamedIcon, StateIcon } from '../components/icons';
import { ProgressBar } from '../components/meter-bar';
import { countByState, lowConsumables, worstSeverity } from '../fleet/fleet-query';
import { wallScreens } from '../fleet/wall-pages';
import { SEVERITY_LABEL, STATE_LABEL, siteLabel } from '../format/labels';
import { formatAgo, formatEta } from '../format/time-format';
import { navigate } from '../router';

export const ROTATE_MS = 15_000;
const PER_PAGE = 12;
/** A kiosk has nobody to log in again: touch the session well within its idle limit. */
const KEEPALIVE_MS = 5 * 60_000;

/** The site's name; a fleet with no sites at all is simply "All devices". */
function wallTitle(siteId: string | null | undefined, siteCount: number): string {
  if (siteId === undefined) return 'Command Center';
  if (siteId === null && siteCount === 1) return 'All devices';
  return siteLabel(siteId);
}

export function WallPage() {
  useTitle('Wall display');
  const { fleet, connection, api, me } = useApp();
  const version = useFleetVersion(fleet);
  const now = useNow(1000);
  const [index, setIndex] = useState(0);
  const screens = useMemo(() => wallScreens(fleet.list(), PER_PAGE), [fleet, version]);

  useEffect(() => {
    const timer = setInterval(() => setIndex((i) => i + 1), ROTATE_MS);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    const timer = setInterval(
      () => void api.get('/api/v1/auth/me').catch(() => undefined),
      KEEPALIVE_MS,
    );
    return () => clearInterval(timer);
  }, [api]);
  // People other than the wall account leave with Escape (there is nothing to click).
  useEffect(() => {
    if (me.user.role === 'dashboard') return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') navigate('/fleet');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [me.user.role]);

  const screen = screens.length > 0 ? screens[index % screens.length] : undefined;
  const siteCount = new Set(screens.map((s) => s.siteId)).size;
  const siteIndex = screen ? [...new Set(screens.map((s) => s.siteId))].indexOf(screen.siteId) : 0;
  const counts = countByState(screen?.siteDevices ?? []);
  const columns = Math.min(4, Math.max(2, Math.ceil(Math.sqrt(screen?.devices.length ?? 1))));

  return (
    <main id="main" class="wall" aria-labelledby="wall-title" data-wall-site={screen?.siteId ?? ''}>
      <header class="wall-head">
        <h1 id="wall-title">{wallTitle(screen?.siteId, siteCount)}</h1>
        <span class="muted">
          {siteCount > 1 ? `Site ${siteIndex + 1} of ${siteCount}` : ''}
          {screen && screen.pages > 1 ? ` · page ${screen.page + 1} of ${screen.pages}` : ''}
        </span>
        <div class="wall-meta">
          <ConnectionIndicator status={connection} />
          <span class="wall-clock">
            {new Date(now).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}
          </span>
        </div>
      </header>
      <ul class="wall-counts" aria-label="Devices per state">
        {DEVICE_STATES.map((s) => (
          <li key={s} class={`state-${s}`}>
            <span class="count-value">{counts[s]}</span>
            <span class="count-label">
              <StateIcon state={s} /> {STATE_LABEL[s]}
            </span>
          </li>
        ))}
      </ul>
      {!fleet.ready ? <p class="muted">Connecting to the live stream…</p> : null}
      {fleet.ready && !screen ? <p class="muted">No devices yet.</p> : null}
      <ul class="wall-grid" aria-label="Devices" style={{ '--wall-columns': String(columns) }}>
        {screen?.devices.map((d) => {
          const job = d.currentJob;
          const worst = worstSeverity(d);
          const low = lowConsumables(d);
          return (
            <li key={d.id} class={`wall-tile state-${d.state}`} data-device-id={d.id}>
              <span class="tile-name">{d.name || d.id}</span>
              <span class="tile-state">
                <StateIcon state={d.state} /> {STATE_LABEL[d.state]}
              </span>
              {job ? (
                <>
                  <p class="job-line">
                    <span class="job-name">{job.name}</span>
                    <span class="job-pct">{Math.floor(job.progress)} %</span>
                  </p>
                  <ProgressBar value={job.progress} label={`Progress of ${job.name}`} />
                  <p class="muted">{formatEta(job.estimatedEndAt, now) ?? ' '}</p>
                </>
              ) : (
                <p class="muted">
                  {d.state === 'offline' ? `Last seen ${formatAgo(d.lastSeenAt, now)}` : 'No job'}
                </p>
              )}
              {worst ? (
                <p class={`severity-${worst}`}>
                  <NamedIcon name="bell" /> {SEVERITY_LABEL[worst]}:{' '}
                  {d.openAlerts[d.openAlerts.length - 1]?.message}
                </p>
              ) : null}
              {low.length > 0 ? (
                <p class="consumable-low">
                  <NamedIcon name="drop" />{' '}
                  {low.map((c) => `${c.slot} ${Math.round(c.level)} %`).join(', ')}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
      <footer class="wall-foot small">
        <span>{fleet.devices.size} devices in total</span>
        <span>Command Center</span>
      </footer>
    </main>
  );
}
