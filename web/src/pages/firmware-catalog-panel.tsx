// The firmware catalog: every verified package with its models, size, signers, validity, origin
// and the verdict it was admitted with; filtered by model and name, paged; removed (after an
// explicit confirmation) by those with firmware:manage.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { deleteVia } from '../api/api-client';
import type { FirmwarePackage, Page } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from '../components/icons';
import { Pager } from '../components/pager';
import { formatDateTime } from '../format/time-format';
import { formatBytes } from './cloud-status-panel';
import { CheckList, shortId } from './firmware-labels';
import { messageOf } from './users-page';

export const CATALOG_PAGE_SIZE = 20;

function useCatalogPage(refreshKey: number, query: { model: string; name: string }) {
  const { api } = useApp();
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page<FirmwarePackage> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const reload = useCallback(() => {
    latest.current += 1;
    const ticket = latest.current;
    api
      .get<Page<FirmwarePackage>>('/api/v1/firmware/packages', {
        model: query.model.trim(),
        name: query.name.trim(),
        limit: CATALOG_PAGE_SIZE,
        offset,
      })
      .then(
        (p) => {
          if (ticket !== latest.current) return;
          setPage(p);
          setError(null);
        },
        (err: unknown) => {
          if (ticket === latest.current) setError(messageOf(err));
        },
      );
  }, [api, query.model, query.name, offset]);
  useEffect(() => {
    reload();
  }, [reload, refreshKey]);
  useEffect(
    () => () => {
      latest.current += 1;
    },
    [],
  );
  return { page, error, offset, setOffset, reload };
}

export function CatalogPanel({
  refreshKey,
  onChanged,
}: {
  refreshKey: number;
  /** A package was removed: whatever lists packages loads them again. */
  onChanged: () => void;
}) {
  const { can } = useApp();
  const manage = can('firmware:manage');
  const [model, setModel] = useState('');
  const [name, setName] = useState('');
  const [query, setQuery] = useState({ model: '', name: '' });
  const { page, error, offset, setOffset, reload } = useCatalogPage(refreshKey, query);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  return (
    <section class="panel fw-catalog" aria-labelledby="fw-catalog">
      <h2 id="fw-catalog">Catalog</h2>
      <p class="muted small">
        Packages this server verified and holds: only these can be rolled out. Each device checks a
        package again before installing it.
      </p>
      <form
        class="filters"
        aria-label="Filter packages"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setQuery({ model, name });
        }}
      >
        <div class="field">
          <label for="fw-filter-model">Model</label>
          <input
            id="fw-filter-model"
            value={model}
            maxLength={64}
            onInput={(e) => setModel(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="fw-filter-name">Package name</label>
          <input
            id="fw-filter-name"
            value={name}
            maxLength={64}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="button">
          Filter
        </button>
      </form>
      <div aria-live="polite" class="fw-result">
        {result ? (
          <p class={result.ok ? 'fw-ok' : 'form-error'} data-remove-result>
            <NamedIcon name={result.ok ? 'check' : 'error'} /> {result.text}
          </p>
        ) : null}
      </div>
      {error ? (
        <p class="callout error" role="alert">
          The catalog could not be loaded: {error}
        </p>
      ) : null}
      {page === null ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : page.items.length === 0 ? (
        <p class="muted" data-catalog-empty>
          {query.model || query.name
            ? 'No package matches the filter.'
            : 'The catalog is empty: upload a package or sync from the vendor repository.'}
        </p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table fw-table" aria-label="Firmware packages">
              <thead>
                <tr>
                  <th scope="col">Package</th>
                  <th scope="col">Version</th>
                  <th scope="col">Models</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col">Signed by</th>
                  <th scope="col">Released / expires</th>
                  <th scope="col">Added</th>
                  <th scope="col">Source</th>
                  {manage ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {page.items.map((p) => (
                  <PackageRow
                    key={p.id}
                    pkg={p}
                    manage={manage}
                    confirming={confirming === p.id}
                    onConfirm={(open) => setConfirming(open ? p.id : null)}
                    onRemoved={(ok, text) => {
                      setConfirming(null);
                      setResult({ ok, text });
                      reload();
                      if (ok) onChanged();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
          {page.total > page.limit ? (
            <Pager
              offset={offset}
              limit={CATALOG_PAGE_SIZE}
              total={page.total}
              onChange={setOffset}
              label="Catalog pages"
            />
          ) : null}
        </>
      )}
    </section>
  );
}

function PackageRow({
  pkg: p,
  manage,
  confirming,
  onConfirm,
  onRemoved,
}: {
  pkg: FirmwarePackage;
  manage: boolean;
  confirming: boolean;
  onConfirm: (open: boolean) => void;
  onRemoved: (ok: boolean, text: string) => void;
}) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const expired = Date.parse(p.expiresAt) <= Date.now();
  const title = `${p.name} ${p.version}`;

  async function remove(): Promise<void> {
    setBusy(true);
    try {
      await deleteVia(api, `/api/v1/firmware/packages/${encodeURIComponent(p.id)}`);
      onRemoved(true, `${title} removed from the catalog.`);
    } catch (err) {
      onRemoved(false, `${title} was not removed: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr data-package-id={p.id}>
      <td>
        <strong>{p.name}</strong>
        <div class="small muted">
          <code title={p.id}>{shortId(p.id)}</code>
        </div>
        <details class="fw-verdict">
          <summary>Checks at admission</summary>
          <CheckList checks={p.checks} label={`Checks of ${title}`} />
        </details>
      </td>
      <td>
        {p.version}
        {p.allowDowngrade ? <div class="small muted">may downgrade</div> : null}
      </td>
      <td>{p.models.length > 0 ? p.models.join(', ') : '—'}</td>
      <td class="num">
        {formatBytes(p.packageBytes)}
        <div class="small muted">image {formatBytes(p.imageSize)}</div>
      </td>
      <td>
        {p.signers.map((s) => (
          <code key={s} class="fw-key">
            {s}
          </code>
        ))}
      </td>
      <td>
        {formatDateTime(p.releasedAt)}
        <div class={expired ? 'fw-expired small' : 'small muted'}>
          {expired ? (
            <>
              <NamedIcon name="error" /> expired {formatDateTime(p.expiresAt)}
            </>
          ) : (
            <>until {formatDateTime(p.expiresAt)}</>
          )}
        </div>
      </td>
      <td>
        {formatDateTime(p.addedAt)}
        <div class="small muted">by {p.addedBy}</div>
      </td>
      <td class="fw-source">{p.source === 'upload' ? 'Uploaded' : <code>{p.source}</code>}</td>
      {manage ? (
        <td>
          {confirming ? (
            <div
              class="fw-confirm"
              role="group"
              aria-label={`Remove ${title}?`}
              data-confirm-remove
            >
              <p class="small">
                Remove {title} and its file? A rollout still under way keeps it (the server
                refuses).
              </p>
              <div class="confirm">
                <button
                  type="button"
                  class="button danger"
                  disabled={busy}
                  onClick={() => void remove()}
                >
                  {busy ? 'Removing…' : 'Yes, remove'}
                </button>
                <button
                  type="button"
                  class="button"
                  disabled={busy}
                  onClick={() => onConfirm(false)}
                >
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <button
              type="button"
              class="button"
              aria-label={`Remove ${title}…`}
              onClick={() => onConfirm(true)}
            >
              Remove…
            </button>
          )}
        </td>
      ) : null}
    </tr>
  );
}
