// The trust policy (which vendor key ids count, which are retired, how many must sign) and the
// catalog sync from the vendor repository: its schedule, its last result and "Sync now", with
// what was listed, admitted and refused and why. Both need firmware:manage to read.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { FirmwareSyncStatus, FirmwareSyncSummary, FirmwareTrust } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from '../components/icons';
import { formatDateTime } from '../format/time-format';
import { CheckList } from './firmware-labels';
import { messageOf } from './users-page';

export function TrustAndSyncPanels({ onSynced }: { onSynced: () => void }) {
  const { can } = useApp();
  if (!can('firmware:manage')) {
    return (
      <section class="panel" aria-labelledby="fw-trust">
        <h2 id="fw-trust">Trust and sync</h2>
        <p class="callout info" data-permission-needed>
          You need the <code>firmware:manage</code> permission (an administrator) to see the trusted
          vendor keys and to sync the catalog from the vendor repository.
        </p>
      </section>
    );
  }
  return (
    <>
      <SyncPanel onSynced={onSynced} />
      <TrustPanel />
    </>
  );
}

function TrustPanel() {
  const { api } = useApp();
  const [trust, setTrust] = useState<FirmwareTrust | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<FirmwareTrust>('/api/v1/firmware/trust').then(setTrust, (err: unknown) => {
      setError(messageOf(err));
    });
  }, [api]);
  const active = trust ? trust.keys.filter((k) => !k.retired).length : 0;
  return (
    <section class="panel" aria-labelledby="fw-trust">
      <h2 id="fw-trust">Trusted vendor keys</h2>
      {error ? (
        <p class="callout error" role="alert">
          The trust policy could not be loaded: {error}
        </p>
      ) : trust === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          {!trust.configured ? (
            <p class="callout warning" data-trust-unconfigured>
              <NamedIcon name="error" /> No vendor key is configured (
              <code>firmware.trustedKeys</code>): every package is refused.
            </p>
          ) : null}
          <p data-threshold>
            A package needs signatures by at least <strong>{trust.threshold}</strong> distinct
            active {trust.threshold === 1 ? 'key' : 'keys'} ({active} active{' '}
            {active === 1 ? 'key' : 'keys'} configured).
          </p>
          {trust.keys.length > 0 ? (
            <table class="table fw-keys" aria-label="Vendor keys">
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {trust.keys.map((k) => (
                  <tr key={k.id} data-key-id={k.id}>
                    <td>
                      <code>{k.id}</code>
                    </td>
                    <td>
                      {k.retired ? (
                        <span class="fw-badge fw-key-retired">
                          <NamedIcon name="stop" /> Retired: its signatures no longer count
                        </span>
                      ) : (
                        <span class="fw-badge fw-key-active">
                          <NamedIcon name="check" /> Active
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </section>
  );
}

function SyncPanel({ onSynced }: { onSynced: () => void }) {
  const { api } = useApp();
  const [status, setStatus] = useState<FirmwareSyncStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<FirmwareSyncSummary | null>(null);
  const [syncError, setSyncError] = useState<string | null>(null);

  const reload = useCallback(() => {
    api.get<FirmwareSyncStatus>('/api/v1/firmware/sync').then(
      (s) => {
        setStatus(s);
        setError(null);
      },
      (err: unknown) => setError(messageOf(err)),
    );
  }, [api]);
  useEffect(reload, [reload]);

  async function syncNow(): Promise<void> {
    setBusy(true);
    setSyncError(null);
    setResult(null);
    try {
      const summary = await api.post<FirmwareSyncSummary>('/api/v1/firmware/sync');
      setResult(summary);
      if (summary.admitted.length > 0) onSynced();
    } catch (err) {
      setSyncError(messageOf(err));
    } finally {
      setBusy(false);
      reload();
    }
  }

  const last = result ?? status?.last ?? null;
  return (
    <section class="panel" aria-labelledby="fw-sync">
      <h2 id="fw-sync">Sync from the vendor repository</h2>
      {error ? (
        <p class="callout error" role="alert">
          The sync status could not be loaded: {error}
        </p>
      ) : null}
      {status === null ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : (
        <dl class="status-list">
          <dt>Repository</dt>
          <dd>
            {status.url ? (
              <code>{status.url}</code>
            ) : (
              <span class="muted">
                none configured (<code>firmware.syncUrl</code>)
              </span>
            )}
          </dd>
          {status.configured ? (
            <>
              <dt>Schedule</dt>
              <dd>
                {status.intervalMinutes > 0
                  ? `every ${status.intervalMinutes} min`
                  : 'on request only'}
                {status.nextAt ? `; next ${formatDateTime(status.nextAt)}` : ''}
              </dd>
            </>
          ) : null}
          {status.running ? (
            <>
              <dt>Now</dt>
              <dd>
                <NamedIcon name="updating" /> a sync is running
              </dd>
            </>
          ) : null}
        </dl>
      )}
      <div class="actions">
        <button
          type="button"
          class="button primary"
          disabled={busy || status?.configured === false}
          onClick={() => void syncNow()}
        >
          {busy ? 'Syncing…' : 'Sync now'}
        </button>
      </div>
      <div aria-live="polite" class="fw-result" data-sync-result>
        {syncError ? (
          <p class="form-error" role="alert">
            <NamedIcon name="error" /> Sync not done: {syncError}
          </p>
        ) : null}
        {last ? <SyncSummaryView summary={last} fresh={result !== null} /> : null}
      </div>
    </section>
  );
}

function SyncSummaryView({ summary: s, fresh }: { summary: FirmwareSyncSummary; fresh: boolean }) {
  return (
    <div class="fw-sync-summary" data-sync-summary>
      <h3>
        {fresh ? 'This sync' : 'Last sync'}{' '}
        <span class="muted small">
          ({s.trigger}, finished {formatDateTime(s.finishedAt)})
        </span>
      </h3>
      {s.ok ? null : (
        <p class="callout error" data-sync-error>
          <NamedIcon name="error" /> The repository could not be listed:{' '}
          {s.error ?? 'unknown error'}
        </p>
      )}
      <p data-sync-counts>
        Listed <strong>{s.listed}</strong>, new <strong>{s.new}</strong>, admitted{' '}
        <strong>{s.admitted.length}</strong>, refused <strong>{s.refused.length}</strong>
        {s.postponed.length > 0 ? (
          <>
            , postponed <strong>{s.postponed.length}</strong>
          </>
        ) : null}
        .
      </p>
      {s.admitted.length > 0 ? (
        <ul class="fw-plain" aria-label="Admitted packages">
          {s.admitted.map((a) => (
            <li key={a.id} class="fw-ok">
              <NamedIcon name="check" /> {a.file}: {a.name} {a.version}
            </li>
          ))}
        </ul>
      ) : null}
      {s.refused.length > 0 ? (
        <ul class="fw-plain" aria-label="Refused packages">
          {s.refused.map((r) => (
            <li key={r.file} data-refused-file={r.file}>
              <span class="fw-bad">
                <NamedIcon name="error" /> {r.file}
              </span>{' '}
              ({r.code}): {r.reason}
              {r.checks.length > 0 ? (
                <details>
                  <summary>Checks</summary>
                  <CheckList checks={r.checks} label={`Checks of ${r.file}`} />
                </details>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {s.postponed.length > 0 ? (
        <p class="small muted">Postponed to the next sync: {s.postponed.join(', ')}</p>
      ) : null}
    </div>
  );
}
