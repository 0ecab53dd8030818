// @vitest-environment happy-dom
import { cleanup, renderHook, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceView } from '../api/types';
import { EMPTY_QUERY, parseFleetQuery } from '../fleet/fleet-query';
import { device } from '../test-fixtures';
import { inPreviousOrder, useFleetOrder } from './fleet-order';

afterEach(cleanup);

const ids = (list: DeviceView[]): string[] => list.map((d) => d.id);

describe('fleet order', () => {
  it('puts devices in their previous order, new ones last, gone ones dropped', () => {
    const previous = [device('c'), device('a'), device('b')];
    const now = [device('a'), device('d'), device('c')];
    expect(ids(inPreviousOrder(now, previous))).toEqual(['c', 'a', 'd']);
    expect(inPreviousOrder(now, previous)[1]).toBe(now[0]);
    expect(ids(inPreviousOrder(now, []))).toEqual(['a', 'd', 'c']);
  });

  it('shows new views at once but moves cards at most every reorder interval', async () => {
    const first = [device('p1', { name: 'A' }), device('p2', { name: 'B' })];
    const { result, rerender } = renderHook(
      ({ all, search }: { all: DeviceView[]; search: string }) =>
        useFleetOrder(all, parseFleetQuery(search), search, 40),
      { initialProps: { all: first, search: '' } },
    );
    expect(ids(result.current)).toEqual(['p1', 'p2']);
    // p2 goes into error: it belongs first ("needs attention"), but keeps its place for now.
    const second = [first[0]!, device('p2', { name: 'B', state: 'error' })];
    rerender({ all: second, search: '' });
    expect(ids(result.current)).toEqual(['p1', 'p2']);
    expect(result.current[1]?.state).toBe('error');
    await waitFor(() => expect(ids(result.current)).toEqual(['p2', 'p1']));
  });

  it('applies a new query at once, filters included', () => {
    const all = [device('p1', { name: 'A' }), device('p2', { name: 'B', state: 'error' })];
    const { result, rerender } = renderHook(
      ({ search }: { search: string }) =>
        useFleetOrder(all, parseFleetQuery(search), search, 60_000),
      { initialProps: { search: '' } },
    );
    expect(ids(result.current)).toEqual(['p2', 'p1']);
    rerender({ search: '?sort=name' });
    expect(ids(result.current)).toEqual(['p1', 'p2']);
    rerender({ search: '?state=idle' });
    expect(ids(result.current)).toEqual(['p1']);
    expect(EMPTY_QUERY.sort).toBe('attention');
  });
});
