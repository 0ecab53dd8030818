// Fleet: every device as a card, live; counts per state (which filter on click), filters by site,
// kind and state, search and sort — all kept in the URL so a view can be bookmarked or shared.

import { useMemo } from 'preact/hooks';
import { DEVICE_KINDS, DEVICE_STATES, type DeviceState } from '../api/types';
import { useApp, useFleetVersion, useNow, useTitle } from '../app-context';
import { DeviceCard } from '../components/device-card';
import { StateIcon } from '../components/icons';
import {
  countByState,
  fleetQueryToSearch,
  NO_SITE_VALUE,
  parseFleetQuery,
  SORT_LABEL,
  SORTS,
  sitesOf,
  type FleetQuery,
} from '../fleet/fleet-query';
import { KIND_LABEL, NO_SITE, STATE_LABEL } from '../format/labels';
import { useFleetOrder } from '../live/fleet-order';
import { replaceSearch, useLocation } from '../router';

/** "Last seen" texts move every 10 s for all cards at once (one render pass, not 500 timers). */
const TICK_MS = 10_000;

export function FleetPage() {
  useTitle('Fleet');
  const { fleet } = useApp();
  const version = useFleetVersion(fleet);
  const location = useLocation();
  const query = parseFleetQuery(location.search);
  const now = Math.floor(useNow(TICK_MS) / TICK_MS) * TICK_MS;
  const all = useMemo(() => fleet.list(), [fleet, version]);
  const counts = useMemo(() => countByState(all), [all]);
  const sites = useMemo(() => sitesOf(all), [all]);
  const shown = useFleetOrder(all, query, location.search);

  const set = (change: Partial<FleetQuery>): void =>
    replaceSearch(fleetQueryToSearch({ ...query, ...change }));
  const filtered = query.site !== '' || query.kind !== '' || query.state !== '' || query.q !== '';

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Fleet</h1>
        <p class="muted" aria-live="polite">
          {fleet.ready
            ? `${shown.length} of ${all.length} device${all.length === 1 ? '' : 's'} shown`
            : 'Waiting for the live stream…'}
        </p>
      </div>
      <ul class="state-counts" aria-label="Devices per state">
        {DEVICE_STATES.map((state: DeviceState) => (
          <li key={state}>
            <button
              type="button"
              class={`count-tile state-${state}`}
              aria-pressed={query.state === state}
              onClick={() => set({ state: query.state === state ? '' : state })}
              data-count-state={state}
            >
              <span class="count-value">{counts[state]}</span>
              <span class="count-label">
                <StateIcon state={state} /> {STATE_LABEL[state]}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <form
        class="filters"
        role="search"
        aria-label="Filter devices"
        onSubmit={(e) => e.preventDefault()}
      >
        <div class="field grow">
          <label for="fleet-q">Search</label>
          <input
            id="fleet-q"
            type="search"
            placeholder="Name, id, model, serial or job"
            value={query.q}
            onInput={(e) => set({ q: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="fleet-site">Site</label>
          <select
            id="fleet-site"
            value={query.site}
            onChange={(e) => set({ site: e.currentTarget.value })}
          >
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s === NO_SITE_VALUE ? NO_SITE : s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="fleet-kind">Kind</label>
          <select
            id="fleet-kind"
            value={query.kind}
            onChange={(e) => set({ kind: e.currentTarget.value })}
          >
            <option value="">All kinds</option>
            {DEVICE_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABEL[k]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="fleet-state">State</label>
          <select
            id="fleet-state"
            value={query.state}
            onChange={(e) => set({ state: e.currentTarget.value })}
          >
            <option value="">All states</option>
            {DEVICE_STATES.map((s) => (
              <option key={s} value={s}>
                {STATE_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="fleet-sort">Sort by</label>
          <select
            id="fleet-sort"
            value={query.sort}
            onChange={(e) => set({ sort: parseFleetQuery(`sort=${e.currentTarget.value}`).sort })}
          >
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {SORT_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        {filtered ? (
          <button
            type="button"
            class="button secondary"
            onClick={() =>
              replaceSearch(fleetQueryToSearch({ ...query, site: '', kind: '', state: '', q: '' }))
            }
          >
            Clear filters
          </button>
        ) : null}
      </form>
      {fleet.ready && all.length === 0 ? (
        <p class="callout info">
          No devices yet. Devices appear here with their first MQTT state message, or once an
          administrator adds them by address (<code>command-center devices add</code>); a demo fleet
          runs with <code>npm start</code>.
        </p>
      ) : null}
      {fleet.ready && all.length > 0 && shown.length === 0 ? (
        <p class="callout info">No device matches these filters.</p>
      ) : null}
      <ul class="device-grid" aria-label="Devices">
        {shown.map((d) => (
          <DeviceCard key={d.id} device={d} now={now} />
        ))}
      </ul>
    </section>
  );
}
