// Paginated history lists (jobs, alerts): filters from the URL, one page at a time from the API,
// reloaded when the stream reports a change while the first page is shown, and CSV export of
// every match.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiClient, QueryValue } from '../api/api-client';
import type { Page } from '../api/types';
import { useApp } from '../app-context';
import type { FleetEvent } from '../live/fleet-store';
import { replaceSearch } from '../router';

export const PAGE_SIZE = 50;
/** Largest export; beyond it the file would be unwieldy in a spreadsheet anyway. */
export const EXPORT_MAX = 20_000;

/** A date input's value (YYYY-MM-DD, local) as the RFC 3339 start or end of that day. */
export function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = end ? new Date(y, m - 1, d, 23, 59, 59, 999) : new Date(y, m - 1, d);
  return date.toISOString();
}

export function readFilters<K extends string>(
  search: string,
  keys: readonly K[],
): Record<K, string> {
  const params = new URLSearchParams(search);
  return Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
}

export function writeFilters(filters: Record<string, string>): void {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  const text = params.toString();
  replaceSearch(text ? `?${text}` : '');
}

/** Every item matching the query, page by page (500 at a time), up to `max`. */
// The caller names the item type the endpoint answers, as with ApiClient.get.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export async function fetchAll<T>(
  api: ApiClient,
  path: string,
  query: Record<string, QueryValue>,
  max = EXPORT_MAX,
): Promise<{ items: T[]; total: number }> {
  const items: T[] = [];
  let total = 0;
  for (let offset = 0; offset < max; offset += 500) {
    const page = await api.get<Page<T>>(path, { ...query, limit: 500, offset });
    total = page.total;
    items.push(...page.items);
    if (page.items.length < 500 || items.length >= total) break;
  }
  return { items: items.slice(0, max), total };
}

export function usePagedList<T>(
  path: string,
  query: Record<string, QueryValue>,
  offset: number,
  isRelevant: (event: FleetEvent) => boolean,
): { page: Page<T> | null; error: string | null; reload: () => void } {
  const { api, fleet } = useApp();
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(query);
  const reload = useCallback(() => {
    api
      .get<Page<T>>(path, {
        ...(JSON.parse(key) as Record<string, QueryValue>),
        limit: PAGE_SIZE,
        offset,
      })
      .then(
        (p) => {
          setPage(p);
          setError(null);
        },
        (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
      );
  }, [api, path, key, offset]);
  useEffect(reload, [reload]);
  useEffect(() => {
    if (offset !== 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = fleet.onEvent((event) => {
      if (!isRelevant(event)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 1000);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
    // isRelevant is a stable module-level predicate in each page.
  }, [fleet, reload, offset]);
  return { page, error, reload };
}
