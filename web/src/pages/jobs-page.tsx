// Jobs: history of every job (or one's own, without jobs:read-all), filtered by device, state,
// owner and dates, page by page, kept fresh by the stream, exportable as CSV.

import { useState } from 'preact/hooks';
import { JOB_STATES, type Job } from '../api/types';
import { useApp, useTitle } from '../app-context';
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
import { JOB_STATE_LABEL } from '../format/labels';
import type { FleetEvent } from '../live/fleet-store';
import { devicePath, useLocation } from '../router';
import { formatDateTime, formatDuration } from '../format/time-format';

const KEYS = ['deviceId', 'state', 'owner', 'since', 'until'] as const;
const isJobEvent = (e: FleetEvent): boolean => e.type === 'job';

export const JOB_COLUMNS: CsvColumn<Job>[] = [
  { header: 'id', value: (j) => j.id },
  { header: 'name', value: (j) => j.name },
  { header: 'deviceId', value: (j) => j.deviceId },
  { header: 'owner', value: (j) => j.owner },
  { header: 'state', value: (j) => j.state },
  { header: 'progress', value: (j) => j.progress },
  { header: 'startedAt', value: (j) => j.startedAt },
  { header: 'estimatedEndAt', value: (j) => j.estimatedEndAt },
  { header: 'endedAt', value: (j) => j.endedAt },
  { header: 'layer', value: (j) => j.layer },
  { header: 'layers', value: (j) => j.layers },
  { header: 'materialUsedG', value: (j) => j.materialUsedG },
  { header: 'updatedAt', value: (j) => j.updatedAt },
];

function duration(j: Job): string {
  if (!j.startedAt) return '—';
  const end = j.endedAt ? Date.parse(j.endedAt) : Date.now();
  return formatDuration(end - Date.parse(j.startedAt));
}

export function JobsPage() {
  useTitle('Jobs');
  const { api, fleet, notify, can } = useApp();
  const location = useLocation();
  const filters = readFilters(location.search, KEYS);
  const [offset, setOffset] = useState(0);
  const [exporting, setExporting] = useState(false);
  const query = {
    deviceId: filters.deviceId,
    state: filters.state,
    owner: filters.owner,
    since: dayBoundary(filters.since, false),
    until: dayBoundary(filters.until, true),
  };
  const { page, error } = usePagedList<Job>('/api/v1/jobs', query, offset, isJobEvent);
  const set = (k: (typeof KEYS)[number], v: string): void => {
    setOffset(0);
    writeFilters({ ...filters, [k]: v });
  };
  const devices = [...fleet.devices.values()].sort((a, b) => a.id.localeCompare(b.id));

  async function exportCsv(): Promise<void> {
    setExporting(true);
    try {
      const { items, total } = await fetchAll<Job>(api, '/api/v1/jobs', query);
      downloadText(`jobs-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(JOB_COLUMNS, items));
      notify(
        total > items.length
          ? `Exported the newest ${items.length} of ${total} jobs (limit ${EXPORT_MAX}).`
          : `Exported ${items.length} jobs.`,
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
        <h1 id="page-title">Jobs</h1>
        {!can('jobs:read-all') ? <p class="muted">Your own jobs</p> : null}
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
      <form class="filters" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="jobs-device">Device</label>
          <select
            id="jobs-device"
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
          <label for="jobs-state">State</label>
          <select
            id="jobs-state"
            value={filters.state}
            onChange={(e) => set('state', e.currentTarget.value)}
          >
            <option value="">All states</option>
            {JOB_STATES.map((s) => (
              <option key={s} value={s}>
                {JOB_STATE_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="jobs-owner">Owner</label>
          <input
            id="jobs-owner"
            value={filters.owner}
            onChange={(e) => set('owner', e.currentTarget.value.trim())}
          />
        </div>
        <div class="field">
          <label for="jobs-since">Updated from</label>
          <input
            id="jobs-since"
            type="date"
            value={filters.since}
            onChange={(e) => set('since', e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="jobs-until">Updated until</label>
          <input
            id="jobs-until"
            type="date"
            value={filters.until}
            onChange={(e) => set('until', e.currentTarget.value)}
          />
        </div>
      </form>
      {error ? (
        <p class="callout error" role="alert">
          Jobs could not be loaded: {error}
        </p>
      ) : null}
      {page === null ? (
        <p class="muted">Loading…</p>
      ) : page.total === 0 ? (
        <p class="callout info">No job matches these filters.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table" aria-describedby="page-title">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Device</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">
                    Progress
                  </th>
                  <th scope="col">Owner</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col" class="num">
                    Duration
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((j) => (
                  <tr key={j.id}>
                    <td>
                      {j.name}
                      <div class="muted small">{j.id}</div>
                    </td>
                    <td>
                      <Link href={devicePath(j.deviceId)}>{j.deviceId}</Link>
                    </td>
                    <td>{JOB_STATE_LABEL[j.state]}</td>
                    <td class="num">{j.progress.toFixed(0)} %</td>
                    <td>{j.owner}</td>
                    <td>{formatDateTime(j.startedAt)}</td>
                    <td>{formatDateTime(j.endedAt)}</td>
                    <td class="num">{duration(j)}</td>
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
            label="Jobs pages"
          />
        </>
      )}
    </section>
  );
}
