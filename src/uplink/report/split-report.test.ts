import { describe, expect, it } from 'vitest';
import { splitReport } from './split-report.js';
import type { ReportDevice, UplinkReport } from './report-types.js';

function device(i: number, padding = 0): ReportDevice {
  return {
    id: `p:${String(i).padStart(22, '0')}`,
    site: null,
    kind: 'printer',
    model: 'Fusion P5',
    serial: `SN${i}${'x'.repeat(padding)}`,
    state: 'printing',
    firmware: '4.1.9',
    seenAgoS: 1,
    consumables: [],
    alerts: [],
  };
}

function report(devices: ReportDevice[]): UplinkReport {
  return {
    v: 1,
    kind: 'periodic',
    generatedAt: '2026-01-01T00:00:00.000Z',
    fleet: { devices: devices.length, states: { printing: devices.length }, alerts: {} },
    devices,
    server: {
      version: '1.0.0',
      runtime: 'v20',
      uptimeS: 1,
      hostName: 'p:host',
      health: {
        storeReady: true,
        mqttClients: 0,
        malformedMessages: 0,
        outboxPending: 0,
        rssBytes: 1,
        load1: 0,
        diskFreeBytes: null,
      },
    },
  };
}

describe('splitting a report into parts', () => {
  it('keeps a report that fits in one part, marked 1 of 1', () => {
    const parts = splitReport(report([device(1), device(2)]));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ part: { index: 1, count: 1 } });
    expect(parts[0]!.devices).toHaveLength(2);
  });

  it('splits a large fleet into parts under the bound, devices in order, each once', () => {
    const devices = Array.from({ length: 5000 }, (_, i) => device(i));
    const full = report(devices);
    const parts = splitReport(full, 64 * 1024);
    expect(parts.length).toBeGreaterThan(5);
    for (const [i, part] of parts.entries()) {
      expect(
        Buffer.byteLength(JSON.stringify({ ...part, seq: 1e12, siteId: 's'.repeat(64) })),
      ).toBeLessThanOrEqual(64 * 1024);
      expect(part.part).toEqual({ index: i + 1, count: parts.length });
      expect(part.fleet).toEqual(full.fleet);
      expect(part.server).toEqual(full.server);
    }
    expect(parts.flatMap((p) => p.devices)).toEqual(devices);
  });

  it('gives an oversized device a part of its own rather than dropping it', () => {
    const parts = splitReport(report([device(1), device(2, 10_000), device(3)]), 4096);
    expect(parts.map((p) => p.devices.length)).toEqual([1, 1, 1]);
  });
});
