import { describe, expect, it } from 'vitest';
import type { DeviceState, DeviceView, JobState } from '../../domain/index.js';
import { ALERT_SEVERITIES, DEVICE_STATES, JOB_STATES } from '../../domain/index.js';
import { buildReport, MAX_ALERTS_PER_DEVICE } from './build-report.js';
import { createPseudonymizer } from './pseudonym.js';
import { emittedPaths } from './report-paths.js';
import { CONSENT_CATEGORIES, REPORT_FIELDS } from './report-fields.js';
import {
  alert,
  device,
  GENERATED_AT,
  job,
  periodicInput,
  realisticPrinter,
  server,
  TEST_KEY,
  WINDOW_START,
} from './report-test-fleet.js';
import type { ReportInput } from './report-types.js';

const NONE = { consent: new Set<never>(), pseudonymKey: TEST_KEY };
const ALL = { consent: new Set(CONSENT_CATEGORIES), pseudonymKey: TEST_KEY };
const p = createPseudonymizer(TEST_KEY);

/** One device per state, jobs in every state, alerts of every severity, more than fit a list. */
function everyFieldFleet(): { periodic: ReportInput; critical: ReportInput } {
  const devices: DeviceView[] = DEVICE_STATES.map((state: DeviceState, i) =>
    device({ id: `d${i}`, serial: `S${i}`, state }),
  );
  const busy = devices[0]!;
  busy.currentJob = job({ id: 'j-current', deviceId: busy.id });
  busy.openAlerts = Array.from({ length: MAX_ALERTS_PER_DEVICE + 2 }, (_, i) =>
    alert({
      id: `a${i}`,
      deviceId: busy.id,
      severity: ALERT_SEVERITIES[i % ALERT_SEVERITIES.length],
      acknowledgedBy: i === 0 ? 'ops' : null,
      acknowledgedAt: i === 0 ? '2025-03-14T09:50:00Z' : null,
    }),
  );
  const jobs = JOB_STATES.map((state: JobState, i) =>
    job({ id: `j${i}`, deviceId: busy.id, state }),
  );
  const base = {
    generatedAt: GENERATED_AT,
    devices,
    jobs: { since: WINDOW_START, jobs },
    server: server(),
  };
  return {
    periodic: { ...base, kind: 'periodic' },
    critical: { ...base, kind: 'critical', trigger: busy.openAlerts[0]! },
  };
}

describe('buildReport', () => {
  it('emits only declared paths, and every declared path in some report', () => {
    const { periodic, critical } = everyFieldFleet();
    const declared = new Set(REPORT_FIELDS.map((f) => f.path));
    const emitted = new Set<string>();
    for (const options of [NONE, ALL]) {
      for (const input of [periodic, critical]) {
        for (const path of emittedPaths(buildReport(input, options))) {
          expect(declared, `emitted but not declared: ${path}`).toContain(path);
          emitted.add(path);
        }
      }
    }
    for (const path of declared)
      expect(emitted, `declared but never emitted: ${path}`).toContain(path);
  });

  it('reports a device: anonymous fields as they are, its id pseudonymized, its name left out', () => {
    const printer = realisticPrinter(7);
    const report = buildReport(periodicInput([printer]), NONE);
    expect(report.devices).toEqual([
      {
        id: p('labels', 'hall2-printer-007'),
        site: p('labels', 'berlin-plant'),
        kind: 'printer',
        model: 'Jet Fusion 5200',
        serial: 'SG93K40007',
        state: 'printing',
        firmware: '5.8.1.2301',
        seenAgoS: 12,
        job: {
          name: p('production', 'bracket-v14-batch3.3mf'),
          owner: p('identity', 'j.doe'),
          state: 'printing',
          progress: 42.4,
          layer: 1204,
          layers: 2870,
          materialG: 1834.5,
          remainingS: 7200,
        },
        jobs: { printing: 1, completed: 2 },
        consumables: [
          { slot: 'agent-fusing', type: 'agent', level: 64, status: 'ok' },
          { slot: 'agent-detailing', type: 'agent', level: 18.5, status: 'low' },
          { slot: 'printhead-1', type: 'printhead', level: 91, status: 'ok' },
          { slot: 'printhead-2', type: 'printhead', level: 87, status: 'ok' },
          { slot: 'material', type: 'material', level: 45.2, status: 'ok' },
          { slot: 'filter', type: 'filter', level: 72, status: 'ok' },
        ],
        alerts: [{ code: 'W-2104', severity: 'warning', acked: false, ageS: 1428 }],
      },
    ]);
  });

  it('summarizes the fleet and the window, and the server with its host name pseudonymized', () => {
    const devices = [realisticPrinter(1), realisticPrinter(2), device({ id: 'cooler-1' })];
    const report = buildReport(periodicInput(devices), NONE);
    expect(report).toMatchObject({
      v: 1,
      kind: 'periodic',
      generatedAt: '2025-03-14T10:05:00.000Z',
      since: '2025-03-14T10:00:00.000Z',
      fleet: {
        devices: 3,
        states: { printing: 2, idle: 1 },
        jobs: { printing: 2, completed: 6 },
        alerts: { warning: 2 },
      },
      server: {
        version: '0.1.0',
        runtime: 'v20.20.0',
        uptimeS: 86_400,
        hostName: p('network', 'cc01.plant.local'),
        health: { storeReady: true, mqttClients: 42, load1: 0.42 },
      },
    });
    expect(report.server.addresses).toBeUndefined();
    expect(report.trigger).toBeUndefined();
  });

  it('counts the newest version of each job of the window, the current jobs included', () => {
    const d = device({ id: 'd1', currentJob: job({ id: 'j1', deviceId: 'd1' }) });
    const older = job({
      id: 'j1',
      deviceId: 'd1',
      state: 'queued',
      updatedAt: '2025-03-14T10:01:00Z',
    });
    const finished = job({
      id: 'j2',
      deviceId: 'd1',
      state: 'queued',
      updatedAt: '2025-03-14T10:01:00Z',
    });
    const input: ReportInput = {
      ...periodicInput([d]),
      jobs: {
        since: WINDOW_START,
        jobs: [
          older,
          finished,
          { ...finished, state: 'failed', updatedAt: '2025-03-14T10:03:00Z' },
        ],
      },
    };
    const report = buildReport(input, NONE);
    expect(report.devices[0]?.jobs).toEqual({ printing: 1, failed: 1 });
    expect(report.fleet?.jobs).toEqual({ printing: 1, failed: 1 });
  });

  it('leaves job counts and the window out when the caller has no job activity', () => {
    const report = buildReport({ ...periodicInput([realisticPrinter(1)]), jobs: undefined }, NONE);
    expect(report.since).toBeUndefined();
    expect(report.fleet?.jobs).toBeUndefined();
    expect(report.devices[0]?.jobs).toBeUndefined();
    expect(report.devices[0]?.job?.state).toBe('printing');
  });

  it('lists the most severe and newest alerts of a device and counts the rest', () => {
    const { periodic } = everyFieldFleet();
    const busy = buildReport(periodic, NONE).devices.find((d) => d.serial === 'S0')!;
    expect(busy.alerts).toHaveLength(MAX_ALERTS_PER_DEVICE);
    expect(busy.moreAlerts).toBe(2);
    expect(busy.alerts[0]?.severity).toBe('critical');
    expect(busy.alerts.at(-1)?.severity).toBe('info');
  });

  it('orders devices by serial, so the order says nothing about their ids', () => {
    const devices = [
      device({ id: 'aaa', serial: 'S3' }),
      device({ id: 'bbb', serial: 'S1' }),
      device({ id: 'ccc', serial: 'S2' }),
    ];
    const report = buildReport(periodicInput(devices), NONE);
    expect(report.devices.map((d) => d.serial)).toEqual(['S1', 'S2', 'S3']);
  });

  it('sends a critical report with the trigger alert, classified as alerts are, and its device only', () => {
    const target = realisticPrinter(3);
    const trigger = alert({
      id: 'cc:overheat:hall2-printer-003:1',
      deviceId: target.id,
      code: 'E-9001',
      severity: 'critical',
      message: 'Chamber over temperature — stop requested by Jane Roe',
      raisedAt: '2025-03-14T11:04:59+01:00',
      acknowledgedBy: 'jane.roe',
      acknowledgedAt: '2025-03-14T10:04:59Z',
    });
    target.openAlerts.push(trigger);
    const input: ReportInput = {
      kind: 'critical',
      generatedAt: GENERATED_AT,
      devices: [realisticPrinter(1), target, realisticPrinter(5)],
      server: server(),
      trigger,
    };
    const report = buildReport(input, NONE);
    expect(report.kind).toBe('critical');
    expect(report.trigger).toEqual({
      device: p('labels', target.id),
      code: 'E-9001',
      severity: 'critical',
      raisedAt: '2025-03-14T10:04:59.000Z',
      acked: true,
      ackedBy: p('identity', 'jane.roe'),
    });
    expect(report.devices.map((d) => d.id)).toEqual([report.trigger?.device]);
    expect(report.devices[0]?.alerts[0]).toMatchObject({
      code: 'E-9001',
      ackedBy: p('identity', 'jane.roe'),
    });
    expect(report.fleet).toBeUndefined();

    const consented = buildReport(input, { ...NONE, consent: new Set(['freeText', 'labels']) });
    expect(consented.trigger).toMatchObject({ device: target.id, message: trigger.message });
    expect(consented.trigger?.ackedBy).toBe(p('identity', 'jane.roe'));
  });
});
