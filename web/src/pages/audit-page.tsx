// Audit log: who did what, when, from where and how it ended — filtered by actor, action (a prefix
// with `*`), target, outcome and dates, page by page, exportable as CSV.

import { useState } from 'preact/hooks';
import type { AuditEntry } from '../api/types';
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
import { Pager } from '../components/pager';
import { downloadText, toCsv, type CsvColumn } from '../format/csv';
import { formatDateTime } from '../format/time-format';
import { useLocation } from '../router';

const KEYS = ['actor', 'action', 'target', 'outcome', 'since', 'until'] as const;
// Audit entries do not arrive on the live stream; the list reloads when filters change.
const never = (): boolean => false;

export const AUDIT_COLUMNS: CsvColumn<AuditEntry>[] = [
  { header: 'at', value: (e) => e.at },
  { header: 'actor', value: (e) => e.actor },
  { header: 'action', value: (e) => e.action },
  { header: 'target', value: (e) => e.target },
  { header: 'outcome', value: (e) => e.outcome },
  { header: 'source', value: (e) => e.source },
  { header: 'details', value: (e) => JSON.stringify(e.details) },
];

function details(e: AuditEntry): string {
  return Object.entries(e.details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

export function AuditPage() {
  useTitle('Audit log');
  const { api, notify } = useApp();
  const location = useLocation();
  const filters = readFilters(location.search, KEYS);
  const [offset, setOffset] = useState(0);
  const [exporting, setExporting] = useState(false);
  const query = {
    actor: filters.actor,
    action: filters.action,
    target: filters.target,
    outcome: filters.outcome,
    since: dayBoundary(filters.since, false),
    until: dayBoundary(filters.until, true),
  };
  const { page, error } = usePagedList<AuditEntry>('/api/v1/audit', query, offset, never);
  const set = (k: (typeof KEYS)[number], v: string): void => {
    setOffset(0);
    writeFilters({ ...filters, [k]: v });
  };

  async function exportCsv(): Promise<void> {
    setExporting(true);
    try {
      const { items, total } = await fetchAll<AuditEntry>(api, '/api/v1/audit', query);
      downloadText(
        `audit-${new Date().toISOString().slice(0, 10)}.csv`,
        toCsv(AUDIT_COLUMNS, items),
      );
      notify(
        total > items.length
          ? `Exported the newest ${items.length} of ${total} entries (limit ${EXPORT_MAX}).`
          : `Exported ${items.length} entries.`,
        'success',
      );
    } catch (err) {
      notify(`Export failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setExporting(false);
    }
  }

  const text = (key: 'actor' | 'action' | 'target', label: string, hint?: string) => (
    <div class="field">
      <label for={`audit-${key}`}>{label}</label>
      <input
        id={`audit-${key}`}
        value={filters[key]}
        placeholder={hint}
        onChange={(e) => set(key, e.currentTarget.value.trim())}
      />
    </div>
  );

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Audit log</h1>
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
      <form class="filters" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        {text('actor', 'Who')}
        {text('action', 'Action', 'e.g. auth.* or user.delete')}
        {text('target', 'Target')}
        <div class="field">
          <label for="audit-outcome">Outcome</label>
          <select
            id="audit-outcome"
            value={filters.outcome}
            onChange={(e) => set('outcome', e.currentTarget.value)}
          >
            <option value="">Any</option>
            <option value="ok">ok</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div class="field">
          <label for="audit-since">From</label>
          <input
            id="audit-since"
            type="date"
            value={filters.since}
            onChange={(e) => set('since', e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="audit-until">Until</label>
          <input
            id="audit-until"
            type="date"
            value={filters.until}
            onChange={(e) => set('until', e.currentTarget.value)}
          />
        </div>
      </form>
      {error ? (
        <p class="callout error" role="alert">
          The audit log could not be loaded: {error}
        </p>
      ) : null}
      {page === null ? (
        <p class="muted">Loading…</p>
      ) : page.total === 0 ? (
        <p class="callout info">No entry matches these filters.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table" aria-describedby="page-title">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">From</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((e) => (
                  <tr key={e.id} data-action={e.action}>
                    <td>{formatDateTime(e.at)}</td>
                    <td>{e.actor}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>{e.target}</td>
                    <td>{e.outcome}</td>
                    <td>{e.source ?? '—'}</td>
                    <td class="small">{details(e)}</td>
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
            label="Audit log pages"
          />
        </>
      )}
    </section>
  );
}
