// The rollouts, newest first: state, package, who started it and when, and devices per status.
// Loaded again every 10 s while one of those shown is unfinished; a row opens its details.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ROLLOUT_STATES, type Page, type RolloutState, type RolloutSummary } from '../api/types';
import { useApp } from '../app-context';
import { Pager } from '../components/pager';
import { formatDateTime } from '../format/time-format';
import { RolloutStateBadge, isFinished, packageTitle } from './firmware-labels';
import { CountsBar } from './firmware-rollout-detail';
import { messageOf } from './users-page';

export const ROLLOUTS_PAGE_SIZE = 20;
export const ROLLOUTS_REFRESH_MS = 10_000;

export function RolloutsPanel({
  refreshKey,
  selectedId,
  onSelect,
}: {
  refreshKey: number;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const { api } = useApp();
  const [state, setState] = useState<RolloutState | ''>('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page<RolloutSummary> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);

  const reload = useCallback(() => {
    latest.current += 1;
    const ticket = latest.current;
    api
      .get<Page<RolloutSummary>>('/api/v1/firmware/rollouts', {
        state,
        limit: ROLLOUTS_PAGE_SIZE,
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
  }, [api, state, offset]);

  useEffect(() => {
    reload();
  }, [reload, refreshKey]);

  const unfinished = page?.items.some((r) => !isFinished(r)) ?? false;
  useEffect(() => {
    if (!unfinished) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') reload();
    }, ROLLOUTS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [unfinished, reload]);
  useEffect(
    () => () => {
      latest.current += 1;
    },
    [],
  );

  return (
    <section class="panel" aria-labelledby="fw-rollouts">
      <h2 id="fw-rollouts">Rollouts</h2>
      <div class="filters">
        <div class="field">
          <label for="fw-rollouts-state">State</label>
          <select
            id="fw-rollouts-state"
            value={state}
            onChange={(e) => {
              setOffset(0);
              setState(e.currentTarget.value as RolloutState | '');
            }}
          >
            <option value="">Any</option>
            {ROLLOUT_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      {error ? (
        <p class="callout error" role="alert">
          The rollouts could not be loaded: {error}
        </p>
      ) : null}
      {page === null ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : page.items.length === 0 ? (
        <p class="muted">No rollout yet.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table fw-rollouts" aria-label="Rollouts">
              <thead>
                <tr>
                  <th scope="col">State</th>
                  <th scope="col">Package</th>
                  <th scope="col">Created</th>
                  <th scope="col">Devices</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((r) => (
                  <tr
                    key={r.id}
                    data-rollout-id={r.id}
                    class={r.id === selectedId ? 'fw-selected' : undefined}
                  >
                    <td>
                      <RolloutStateBadge rollout={r} />
                    </td>
                    <td>{packageTitle(r)}</td>
                    <td>
                      {formatDateTime(r.createdAt)}
                      <div class="small muted">by {r.createdBy}</div>
                    </td>
                    <td class="fw-counts-cell">
                      <CountsBar rollout={r} />
                    </td>
                    <td>
                      <button
                        type="button"
                        class="button"
                        aria-pressed={r.id === selectedId}
                        aria-label={`Show rollout ${packageTitle(r)} of ${formatDateTime(r.createdAt)}`}
                        onClick={() => onSelect(r.id)}
                      >
                        Show
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.total > page.limit ? (
            <Pager
              offset={offset}
              limit={ROLLOUTS_PAGE_SIZE}
              total={page.total}
              onChange={setOffset}
              label="Rollout pages"
            />
          ) : null}
        </>
      )}
    </section>
  );
}
