// Alerts: open and past alerts, filtered by device, severity, status and dates, page by page,
// acknowledged in place by roles that may, kept fresh by the stream, exportable as CSV.

import { useState } from 'preact/hooks';
import { ALERT_SEVERITIES, type Alert } from '../api/types';
import { useApp, useNow, useTitle } from '../app-context';
import {
  EXPORT_MAX,
  PAGE_SIZE,
  dayBoundary,
  fetchAll,
  readFilters,
  usePagedList,
  writeFilters,
} from '../components/history-list';
import { NamedIcon } from '../components/icons';
import { Link } from '../components/link';
import { Pager } from '../components/pager';
import { downloadText, toCsv, type CsvColumn } from '../format/csv';
import { SEVERITY_LABEL } from '../format/labels';
import { formatAgo, formatDateTime } from '../format/time-format';
import { withAlert, type FleetEvent } from '../live/fleet-store';
import { devicePath, useLocation } from '../router';

const KEYS = ['deviceId', 'severity', 'status', 'since', 'until'] as const;
const isAlertEvent = (e: FleetEvent): boolean => e.type === 'alert';

export const ALERT_COLUMNS: CsvColumn<Alert>[] = [
  { header: 'id', value: (a) => a.id },
  { header: 'deviceId', value: (a) => a.deviceId },
  { header: 'code', value: (a) => a.code },
  { header: 'severity', value: (a) => a.severity },
  { header: 'message', value: (a) => a.message },
  { header: 'raisedAt', value: (a) => a.raisedAt },
  { header: 'clearedAt', value: (a) => a.clearedAt },
  { header: 'acknowledgedBy', value: (a) => a.acknowledgedBy },
  { header: 'acknowledgedAt', value: (a) => a.acknowledgedAt },
];

export function AlertsPage() {
  useTitle('Alerts');
  const { api, fleet, notify, can } = useApp();
  const location = useLocation();
  const now = useNow(10_000);
  const filters = readFilters(location.search, KEYS);
  const [offset, setOffset] = useState(0);
  const [exporting, setExporting] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const query = {
    deviceId: filters.deviceId,
    severity: filters.severity,
    status: filters.status,
    since: dayBoundary(filters.since, false),
    until: dayBoundary(filters.until, true),
  };
  const { page, error, reload } = usePagedList<Alert>(
    '/api/v1/alerts',
    query,
    offset,
    isAlertEvent,
  );
  const set = (k: (typeof KEYS)[number], v: string): void => {
    setOffset(0);
    writeFilters({ ...filters, [k]: v });
  };
  const devices = [...fleet.devices.values()].sort((a, b) => a.id.localeCompare(b.id));

  async function ack(alert: Alert): Promise<void> {
    setBusy(alert.id);
    try {
      const updated = await api.post<Alert>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/ack`);
      const device = fleet.devices.get(updated.deviceId);
      if (device) fleet.put(withAlert(device, updated));
      notify(`Alert ${updated.code} on ${updated.deviceId} acknowledged`, 'success');
      reload();
    } catch (err) {
      notify(`Acknowledge failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setBusy(null);
    }
  }

  async function exportCsv(): Promise<void> {
    setExporting(true);
    try {
      const { items, total } = await fetchAll<Alert>(api, '/api/v1/alerts', query);
      downloadText(
        `alerts-${new Date().toISOString().slice(0, 10)}.csv`,
        toCsv(ALERT_COLUMNS, items),
      );
      notify(
        total > items.length
          ? `Exported the newest ${items.length} of ${total} alerts (limit ${EXPORT_MAX}).`
          : `Exported ${items.length} alerts.`,
        'success',
      );
    } catch (err) {
      notify(`Export failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setExporting(false);
    }
  }

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Alerts</h1>
        <div class="actions">
          <button
            type="button"
            class="button"
            onClick={() => void exportCsv()}
            disabled={exporting}
          >
            <NamedIcon name="download" /> {exporting ? 'Exporting…' : 'Export CSV'}
          </button>
        </div>
      </div>
      <form class="filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="alerts-status">Status</label>
          <select
            id="alerts-status"
            value={filters.status}
            onChange={(e) => set('status', e.currentTarget.value)}
          >
            <option value="">Open and cleared</option>
            <option value="open">Open</option>
            <option value="cleared">Cleared</option>
          </select>
        </div>
        <div class="field">
          <label for="alerts-severity">Severity</label>
          <select
            id="alerts-severity"
            value={filters.severity}
            onChange={(e) => set('severity', e.currentTarget.value)}
          >
            <option value="">All severities</option>
            {ALERT_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {SEVERITY_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="alerts-device">Device</label>
          <select
            id="alerts-device"
            value={filters.deviceId}
            onChange={(e) => set('deviceId', e.currentTarget.value)}
          >
            <option value="">All devices</option>
            {filters.deviceId && !fleet.devices.has(filters.deviceId) ? (
              <option value={filters.deviceId}>{filters.deviceId}</option>
            ) : null}
            {devices.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name && d.name !== d.id ? `${d.name} (${d.id})` : d.id}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="alerts-since">Raised from</label>
          <input
            id="alerts-since"
            type="date"
            value={filters.since}
            onChange={(e) => set('since', e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="alerts-until">Raised until</label>
          <input
            id="alerts-until"
            type="date"
            value={filters.until}
            onChange={(e) => set('until', e.currentTarget.value)}
          />
        </div>
      </form>
      {error ? (
        <p class="callout error" role="alert">
          Alerts could not be loaded: {error}
        </p>
      ) : null}
      {page === null ? (
        <p class="muted">Loading…</p>
      ) : page.total === 0 ? (
        <p class="callout info">No alert matches these filters.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table" aria-describedby="page-title">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Device</th>
                  <th scope="col">Raised</th>
                  <th scope="col">Cleared</th>
                  <th scope="col">Acknowledged</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((a) => (
                  <tr key={a.id} data-alert-id={a.id}>
                    <td class={`severity-${a.severity}`}>
                      <strong>{SEVERITY_LABEL[a.severity]}</strong>
                    </td>
                    <td>
                      <strong>{a.code}</strong>
                      <div>{a.message}</div>
                    </td>
                    <td>
                      <Link href={devicePath(a.deviceId)}>{a.deviceId}</Link>
                    </td>
                    <td title={formatDateTime(a.raisedAt)}>{formatAgo(a.raisedAt, now)}</td>
                    <td>
                      {a.clearedAt ? (
                        formatDateTime(a.clearedAt)
                      ) : (
                        <span class="severity-warning">open</span>
                      )}
                    </td>
                    <td>
                      {a.acknowledgedBy ? (
                        `${a.acknowledgedBy}, ${formatDateTime(a.acknowledgedAt)}`
                      ) : can('alerts:ack') ? (
                        <button
                          type="button"
                          disabled={busy === a.id}
                          onClick={() => void ack(a)}
                          aria-label={`Acknowledge ${a.code} on ${a.deviceId}`}
                        >
                          {busy === a.id ? 'Acknowledging…' : 'Acknowledge'}
                        </button>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            total={page.total}
            onChange={setOffset}
            label="Alerts pages"
          />
        </>
      )}
    </section>
  );
}
