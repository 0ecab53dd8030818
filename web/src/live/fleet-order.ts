// The order of the Fleet page under a stream of updates: filters apply at once, card contents
// follow every frame, but the cards are sorted again at most every REORDER_MS. Sorting 500 devices
// (a locale-aware name comparison each) on every frame costs more than the frame has, and cards
// jumping places many times a second help nobody read the page.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '../api/types';
import { filterDevices, sortDevices, type FleetQuery } from '../fleet/fleet-query';

/** Longest a card waits for its new place after a change that moves it. */
export const REORDER_MS = 500;

/**
 * `devices` in the order they were shown last time (new ones at the end), in linear time. Fed a
 * nearly sorted list, the engine's sort (TimSort) does about n comparisons instead of n log n.
 */
export function inPreviousOrder(devices: DeviceView[], previous: DeviceView[]): DeviceView[] {
  const rank = new Map<string, number>();
  previous.forEach((d, i) => rank.set(d.id, i));
  const placed = new Array<DeviceView | undefined>(previous.length);
  const added: DeviceView[] = [];
  for (const d of devices) {
    const i = rank.get(d.id);
    if (i === undefined) added.push(d);
    else placed[i] = d;
  }
  const out: DeviceView[] = [];
  for (const d of placed) if (d !== undefined) out.push(d);
  return out.concat(added);
}

/**
 * The devices to show, filtered and sorted. The order is refreshed at once when the query changes
 * (`search` is its URL text), otherwise at most every `reorderMs`; in between, cards keep their
 * places with the latest views, and devices that start to match are added at the end.
 */
export function useFleetOrder(
  all: DeviceView[],
  query: FleetQuery,
  search: string,
  reorderMs = REORDER_MS,
): DeviceView[] {
  const sorted = useRef<{ list: DeviceView[]; search: string | null; at: number }>({
    list: [],
    search: null,
    at: 0,
  });
  const [refresh, setRefresh] = useState(0);
  const result = useMemo(
    () => {
      const last = sorted.current;
      const inPlace = filterDevices(inPreviousOrder(all, last.list), query);
      const t = performance.now();
      if (last.search === search && t - last.at < reorderMs) {
        return { list: inPlace, staleFor: reorderMs - (t - last.at) };
      }
      const list = sortDevices(inPlace, query.sort);
      sorted.current = { list, search, at: t };
      return { list, staleFor: 0 };
    },
    // The query is rebuilt from the URL on each render; its text is the real dependency.
    [all, search, refresh, reorderMs],
  );
  useEffect(() => {
    if (result.staleFor === 0) return undefined;
    const timer = setTimeout(() => setRefresh((n) => n + 1), result.staleFor);
    return () => clearTimeout(timer);
  }, [result]);
  return result.list;
}
