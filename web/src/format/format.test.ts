import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';
import { formatMetric, metricLabel, metricUnit } from './labels';
import { formatAgo, formatDuration, formatEta } from './time-format';

const NOW = Date.parse('2025-03-01T12:00:00Z');

describe('formats', () => {
  it('writes durations and "ago" the way an operator reads them', () => {
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(65 * 60_000)).toBe('1 h 05 min');
    expect(formatDuration(27 * 3_600_000)).toBe('1 d 3 h');
    expect(formatAgo(null, NOW)).toBe('never');
    expect(formatAgo('2025-03-01T11:59:58Z', NOW)).toBe('just now');
    expect(formatAgo('2025-03-01T11:57:00Z', NOW)).toBe('3 min ago');
  });

  it('gives an ETA with the time left, or none', () => {
    expect(formatEta(null, NOW)).toBeNull();
    expect(formatEta('2025-03-01T11:00:00Z', NOW)).toBe('ETA now');
    expect(formatEta('2025-03-01T13:05:00Z', NOW)).toMatch(/^ETA .+ · in 1 h 05 min$/);
  });

  it('names metrics and their units', () => {
    expect(metricLabel('chamberTemp')).toBe('Chamber temp');
    expect(metricLabel('powerW')).toBe('Power');
    expect(metricUnit('nozzleTemp')).toBe('°C');
    expect(metricUnit('powerW')).toBe('W');
    expect(metricUnit('humidity')).toBe('%');
    expect(formatMetric('powerW', 3812.4)).toMatch(/^3.?812 W$/);
  });

  it('writes RFC 4180 CSV and defuses spreadsheet formulas', () => {
    const csv = toCsv(
      [
        { header: 'name', value: (r: { name: string; n: number | null }) => r.name },
        { header: 'n', value: (r) => r.n },
      ],
      [
        { name: 'plain', n: 1 },
        { name: 'with, comma and "quotes"', n: null },
        { name: '=HYPERLINK("x")', n: -5 },
        { name: '-12.5', n: 0 },
        { name: 'two\nlines', n: 2 },
      ],
    );
    expect(csv.split('\r\n')).toEqual([
      'name,n',
      'plain,1',
      '"with, comma and ""quotes""",',
      `"'=HYPERLINK(""x"")",-5`,
      '-12.5,0',
      '"two\nlines",2',
      '',
    ]);
  });
});
