import { describe, expect, it } from 'vitest';
import type { Alert, Consumable, DeviceCommand, DeviceView, Job } from '../domain/index.js';
import {
  countStates,
  formatDuration,
  formatEta,
  formatLowConsumables,
  formatProgress,
  formatRelativeTime,
  formatStateCounts,
  paint,
  renderFleetTable,
  useColor,
} from './fleet-format.js';
import { ChangeTracker, formatChangeLine } from './fleet-changes.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const ANSI = /\u001b\[[\d;]*m/g;

function job(over: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    deviceId: 'printer-01',
    name: 'bracket',
    owner: 'olivia',
    state: 'printing',
    progress: 10,
    startedAt: ago(60_000),
    estimatedEndAt: new Date(NOW + 12 * 60_000).toISOString(),
    endedAt: null,
    layer: null,
    layers: null,
    materialUsedG: null,
    updatedAt: ago(0),
    ...over,
  };
}

function consumable(over: Partial<Consumable> = {}): Consumable {
  return {
    deviceId: 'printer-01',
    slot: 'agent-1',
    type: 'agent',
    level: 80,
    status: 'ok',
    expiresAt: null,
    updatedAt: ago(0),
    ...over,
  };
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a-1',
    deviceId: 'printer-01',
    code: 'DOOR_OPEN',
    severity: 'warning',
    message: 'door open',
    raisedAt: ago(1000),
    clearedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    ...over,
  };
}

function device(over: Partial<DeviceView> = {}): DeviceView {
  return {
    id: 'printer-01',
    kind: 'printer',
    model: 'P5',
    serial: 'S1',
    name: 'Printer 01',
    siteId: null,
    firmwareVersion: '1.0.0',
    address: null,
    state: 'idle',
    lastSeenAt: ago(12_000),
    stateAt: ago(12_000),
    currentJob: null,
    consumables: [],
    openAlerts: [],
    metrics: {},
    ...over,
  };
}

describe('relative times and durations', () => {
  it.each([
    [null, 'never'],
    [ago(0), 'just now'],
    [ago(-5000), 'just now'],
    [ago(12_400), '12 s ago'],
    [ago(59_999), '59 s ago'],
    [ago(5 * 60_000), '5 min ago'],
    [ago(3 * 3_600_000 + 4 * 60_000), '3 h 04 min ago'],
    [ago(2 * 86_400_000 + 5 * 3_600_000), '2 d ago'],
    ['not a time', '-'],
  ])('%s is %s', (iso, text) => {
    expect(formatRelativeTime(iso, NOW)).toBe(text);
  });

  it.each([
    [0, '0 s'],
    [45_900, '45 s'],
    [12 * 60_000, '12 min'],
    [65 * 60_000, '1 h 05 min'],
    [(3 * 24 + 4) * 3_600_000, '3 d 4 h'],
    [-1, '0 s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('progress and ETA', () => {
  it.each([
    [0, '0%'],
    [42.9, '42%'],
    [99.99, '99%'],
    [100, '100%'],
    [130, '100%'],
    [-3, '0%'],
  ])('progress %d shows %s', (progress, text) => {
    expect(formatProgress(job({ progress }))).toBe(text);
  });

  it('shows nothing without a job', () => {
    expect(formatProgress(null)).toBeNull();
    expect(formatEta(null, NOW)).toBeNull();
  });

  it('shows the time left, "due" once passed, nothing for finished jobs or no estimate', () => {
    expect(formatEta(job(), NOW)).toBe('12 min');
    expect(formatEta(job({ estimatedEndAt: ago(1000) }), NOW)).toBe('due');
    expect(formatEta(job({ state: 'completed' }), NOW)).toBeNull();
    expect(formatEta(job({ estimatedEndAt: null }), NOW)).toBeNull();
  });
});

describe('low consumables', () => {
  it('lists those not ok, at most two then a count', () => {
    expect(formatLowConsumables([consumable()])).toBeNull();
    expect(
      formatLowConsumables([
        consumable(),
        consumable({ slot: 'agent-2', status: 'low', level: 12.4 }),
        consumable({ slot: 'filter', status: 'empty', level: 0 }),
        consumable({ slot: 'lamp', status: 'expired' }),
      ]),
    ).toBe('agent-2 12%, filter empty +1');
  });
});

describe('state counts', () => {
  it('counts every state and prints the non-zero ones in canonical order', () => {
    const counts = countStates([
      { state: 'printing' },
      { state: 'idle' },
      { state: 'printing' },
      { state: 'error' },
    ]);
    expect(counts).toEqual({
      idle: 1,
      printing: 2,
      paused: 0,
      error: 1,
      offline: 0,
      maintenance: 0,
      updating: 0,
    });
    expect(formatStateCounts(counts, false)).toBe('4 devices: 1 idle, 2 printing, 1 error');
    expect(formatStateCounts(countStates([]), false)).toBe('0 devices');
    expect(formatStateCounts(countStates([{ state: 'offline' }]), false)).toBe(
      '1 device: 1 offline',
    );
  });

  it('colours state names only when asked', () => {
    const coloured = formatStateCounts(countStates([{ state: 'error' }]), true);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe('1 device: 1 error');
  });
});

describe('colour', () => {
  it('follows the terminal, NO_COLOR, TERM=dumb and FORCE_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('paints nothing when colour is off', () => {
    expect(paint('x', 'red', false)).toBe('x');
    expect(paint('x', null, true)).toBe('x');
    expect(paint('x', 'red', true)).toBe('\u001b[31mx\u001b[39m');
  });
});

describe('fleet table', () => {
  const fleet = [
    device({
      state: 'printing',
      currentJob: job({ progress: 42.5 }),
      consumables: [consumable({ status: 'low', level: 9 })],
      openAlerts: [alert(), alert({ id: 'a-2', severity: 'critical' })],
    }),
    device({
      id: 'cooling-01',
      kind: 'cooling-unit',
      name: 'Cooling',
      state: 'offline',
      lastSeenAt: null,
    }),
  ];

  it('prints one aligned row per device, without escape codes when colour is off', () => {
    const text = renderFleetTable(fleet, { now: NOW, color: false });
    expect(text).not.toMatch(ANSI);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^ID\s+NAME\s+KIND\s+STATE\s+JOB\s+PROGRESS\s+ETA\s+LOW CONSUMABLES\s+ALERTS\s+LAST SEEN$/,
    );
    expect(lines[1]).toMatch(
      /^printer-01\s+Printer 01\s+printer\s+printing\s+bracket\s+42%\s+12 min\s+agent-1 9%\s+2\s+12 s ago$/,
    );
    expect(lines[2]).toMatch(
      /^cooling-01\s+Cooling\s+cooling-unit\s+offline(\s+-){4}\s+0\s+never$/,
    );
    // Columns line up: STATE starts at the same offset on every line.
    const at = lines.map((l) => l.search(/printing|offline|STATE/));
    expect(new Set(at).size).toBe(1);
  });

  it('adds a SITE column when a device has a site', () => {
    const text = renderFleetTable([device({ siteId: 'plant-a' })], { now: NOW, color: false });
    expect(text.split('\n')[0]).toMatch(/KIND\s+SITE\s+STATE/);
    expect(text).toContain('plant-a');
  });

  it('keeps the alignment when colour is on', () => {
    const plain = renderFleetTable(fleet, { now: NOW, color: false });
    const coloured = renderFleetTable(fleet, { now: NOW, color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });
});

describe('live changes', () => {
  const texts = (lines: { text: string }[]): string[] => lines.map((l) => l.text);

  function primed(devices: DeviceView[] = [device()]): ChangeTracker {
    const tracker = new ChangeTracker();
    expect(tracker.snapshot(devices)).toEqual([]);
    return tracker;
  }

  it('says state transitions once', () => {
    const tracker = primed();
    expect(texts(tracker.device(device({ state: 'maintenance' })))).toEqual([
      'state idle → maintenance',
    ]);
    expect(tracker.device(device({ state: 'maintenance', lastSeenAt: ago(0) }))).toEqual([]);
  });

  it('follows a job: start, 25 % milestones, pause, resume, completion — each once', () => {
    const tracker = primed();
    const said = [
      tracker.job(job({ state: 'queued', progress: 0 })),
      tracker.job(job({ progress: 0 })),
      tracker.job(job({ progress: 10 })),
      tracker.job(job({ progress: 26 })),
      // The device view repeats the job: nothing new.
      tracker.device(device({ state: 'printing', currentJob: job({ progress: 26 }) })),
      tracker.job(job({ progress: 80 })),
      tracker.job(job({ state: 'paused', progress: 81 })),
      tracker.job(job({ progress: 81 })),
      tracker.job(job({ state: 'completed', progress: 100 })),
      tracker.job(job({ state: 'completed', progress: 100 })),
    ].flatMap((lines) => texts(lines));
    expect(said).toEqual([
      'job "bracket" queued',
      'job "bracket" started',
      'job "bracket" 26%',
      'state idle → printing',
      'job "bracket" 80%',
      'job "bracket" paused at 81%',
      'job "bracket" resumed at 81%',
      'job "bracket" completed',
    ]);
  });

  it('says alerts raised, acknowledged and cleared, also when only the device view shows it', () => {
    const tracker = primed();
    expect(texts(tracker.alert(alert()))).toEqual(['alert raised: warning DOOR_OPEN — door open']);
    expect(tracker.device(device({ openAlerts: [alert()] }))).toEqual([]);
    expect(texts(tracker.alert(alert({ acknowledgedBy: 'olivia' })))).toEqual([
      'alert DOOR_OPEN acknowledged by olivia',
    ]);
    // The clearing event was missed: the device view no longer lists the alert.
    expect(texts(tracker.device(device()))).toEqual(['alert DOOR_OPEN cleared']);
    expect(tracker.alert(alert({ clearedAt: ago(0) }))).toEqual([]);
  });

  it('says consumables going low, empty and back to ok', () => {
    const tracker = primed([device({ consumables: [consumable()] })]);
    const views = [
      consumable({ level: 15, status: 'low' }),
      consumable({ level: 14, status: 'low' }),
      consumable({ level: 0, status: 'empty' }),
      consumable({ level: 100, status: 'ok' }),
    ].map((c) => texts(tracker.device(device({ consumables: [c] }))));
    expect(views).toEqual([
      ['agent-1 (agent) low, 15%'],
      [],
      ['agent-1 (agent) empty'],
      ['agent-1 (agent) ok again, 100%'],
    ]);
  });

  it('says command results with the job name it knows', () => {
    const tracker = primed([device({ currentJob: job() })]);
    const command: DeviceCommand = {
      id: 'c-1',
      deviceId: 'printer-01',
      action: 'pause',
      targetId: 'job-1',
      channel: 'mqtt',
      status: 'pending',
      message: null,
      requestedBy: 'olivia',
      requestedAt: ago(0),
      completedAt: null,
    };
    expect(texts(tracker.command(command))).toEqual([
      'pause job "bracket" requested by olivia via mqtt',
    ]);
    expect(texts(tracker.command({ ...command, status: 'rejected', message: 'busy' }))).toEqual([
      'pause job "bracket": rejected — busy',
    ]);
  });

  it('compares a later snapshot (after a reconnect) with what it knew', () => {
    const tracker = primed([device(), device({ id: 'printer-02', name: 'Printer 02' })]);
    const lines = tracker.snapshot([
      device({ state: 'error' }),
      device({ id: 'printer-03', name: 'Printer 03' }),
    ]);
    expect(lines.map((l) => `${l.deviceId} ${l.text}`)).toEqual([
      'printer-02 removed from the fleet',
      'printer-01 state idle → error',
      'printer-03 new printer "Printer 03", idle',
    ]);
  });

  it('formats a line with the time, the device and the change', () => {
    const at = new Date(2025, 2, 1, 9, 5, 7);
    expect(
      formatChangeLine(
        at,
        { deviceId: 'printer-01', text: 'state idle → printing', style: 'green' },
        false,
      ),
    ).toBe('09:05:07  printer-01      state idle → printing');
  });
});
