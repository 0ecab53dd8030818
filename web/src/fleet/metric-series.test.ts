import { describe, expect, it } from 'vitest';
import { appendLive, seriesFromHistory } from './metric-series';
import { wallScreens } from './wall-pages';
import { device } from '../test-fixtures';

describe('metric series', () => {
  const t = (iso: string): number => Date.parse(iso) / 1000;

  it('turns history buckets into chart arrays', () => {
    const series = seriesFromHistory({
      deviceId: 'p1',
      from: '',
      to: '',
      stepSeconds: 60,
      series: [
        { name: 'bedTemp', points: [{ ts: '2025-03-01T12:00:00Z', avg: 170, min: 169, max: 171 }] },
      ],
    });
    expect(series).toEqual([{ name: 'bedTemp', xs: [t('2025-03-01T12:00:00Z')], ys: [170] }]);
  });

  it('appends newer live values, keeps the window, and ignores repeats', () => {
    const series = [
      {
        name: 'bedTemp',
        xs: [t('2025-03-01T11:00:00Z'), t('2025-03-01T11:30:00Z')],
        ys: [20, 100],
      },
    ];
    const next = appendLive(series, { bedTemp: { value: 170, ts: '2025-03-01T12:10:00Z' } }, 3600);
    expect(next[0]).toEqual({
      name: 'bedTemp',
      xs: [t('2025-03-01T11:30:00Z'), t('2025-03-01T12:10:00Z')],
      ys: [100, 170],
    });
    expect(appendLive(next, { bedTemp: { value: 170, ts: '2025-03-01T12:10:00Z' } }, 3600)).toBe(
      next,
    );
    const added = appendLive(next, { powerW: { value: 3800, ts: '2025-03-01T12:10:00Z' } }, 3600);
    expect(added.map((s) => s.name)).toEqual(['bedTemp', 'powerW']);
  });
});

describe('wall rotation', () => {
  it('makes one screen per site, splits long sites into pages and puts problems first', () => {
    const devices = [
      device('a1', { siteId: 'plant-a' }),
      device('a2', { siteId: 'plant-a', state: 'error' }),
      device('a3', { siteId: 'plant-a' }),
      device('x', { siteId: null }),
      device('b1', { siteId: 'plant-b' }),
    ];
    const screens = wallScreens(devices, 2);
    expect(screens.map((s) => [s.siteId, s.page, s.pages, s.devices.map((d) => d.id)])).toEqual([
      ['plant-a', 0, 2, ['a2', 'a1']],
      ['plant-a', 1, 2, ['a3']],
      ['plant-b', 0, 1, ['b1']],
      [null, 0, 1, ['x']],
    ]);
    expect(screens[1]?.siteDevices).toHaveLength(3);
  });
});
