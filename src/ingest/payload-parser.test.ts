import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, parsePayload } from './payload-parser.js';
import type { DeviceChannel } from './ingest-types.js';

const TS = '2025-01-01T00:00:00Z';
const STATE = {
  ts: TS,
  kind: 'printer',
  model: 'P-100',
  serial: 'SN1',
  name: 'Printer',
  firmwareVersion: '1.0.0',
  state: 'idle',
};

function buf(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

describe('parsePayload: accepted payloads', () => {
  it('accepts a full state snapshot and normalizes its times to UTC', () => {
    const r = parsePayload(
      'state',
      buf({
        ...STATE,
        ts: '2025-01-01T01:00:00+01:00',
        job: { id: 'j1', name: 'n', owner: 'o', state: 'printing', progress: 5, layer: 3 },
        consumables: [{ slot: 'A', type: 'agent', level: 50, status: 'ok', expiresAt: null }],
        alerts: [{ id: 'a1', code: 'E', severity: 'info', message: 'm', raisedAt: TS }],
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      parsed: { channel: 'state', msg: { ts: '2025-01-01T00:00:00.000Z' } },
    });
  });

  it('ignores fields it does not know (newer firmware) and does not pass them on', () => {
    const r = parsePayload('state', buf({ ...STATE, futureField: { x: 1 } }));
    expect(r.ok).toBe(true);
    expect(r.ok && r.parsed.channel === 'state' && 'futureField' in r.parsed.msg).toBe(false);
  });

  it('accepts telemetry and every event type', () => {
    expect(parsePayload('telemetry', buf({ ts: TS, metrics: { nozzleTemp: 210.5 } })).ok).toBe(
      true,
    );
    const events = [
      {
        type: 'job.updated',
        ts: TS,
        job: { id: 'j', name: 'n', owner: 'o', state: 'queued', progress: 0 },
      },
      {
        type: 'alert.raised',
        ts: TS,
        alert: { id: 'a', code: 'c', severity: 'error', message: '', raisedAt: TS },
      },
      { type: 'alert.cleared', ts: TS, alertId: 'a' },
      {
        type: 'consumable.updated',
        ts: TS,
        consumable: { slot: 's', type: 'lamp', level: 1, status: 'low' },
      },
    ];
    for (const e of events) expect(parsePayload('events', buf(e)).ok).toBe(true);
  });

  it('accepts online and offline as text on status', () => {
    expect(parsePayload('status', buf('online'))).toEqual({
      ok: true,
      parsed: { channel: 'status', status: 'online' },
    });
    expect(parsePayload('status', buf('offline')).ok).toBe(true);
  });
});

const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('parsePayload: hostile and malformed payloads', () => {
  const cases: [string, DeviceChannel, Buffer, string][] = [
    ['not JSON', 'state', buf('{"ts":'), 'MALFORMED_JSON'],
    ['empty payload', 'state', Buffer.alloc(0), 'MALFORMED_JSON'],
    ['binary garbage', 'telemetry', Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80]), 'MALFORMED_JSON'],
    ['too large', 'telemetry', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), 'PAYLOAD_TOO_LARGE'],
    ['wrong type', 'state', buf({ ...STATE, state: 42 }), 'SCHEMA_INVALID'],
    ['unknown state', 'state', buf({ ...STATE, state: 'exploding' }), 'SCHEMA_INVALID'],
    ['missing field', 'state', buf({ ts: TS }), 'SCHEMA_INVALID'],
    ['JSON array', 'state', buf([STATE]), 'SCHEMA_INVALID'],
    ['NaN as string', 'telemetry', buf({ ts: TS, metrics: { t: 'NaN' } }), 'SCHEMA_INVALID'],
    [
      'Infinity as string',
      'telemetry',
      buf({ ts: TS, metrics: { t: 'Infinity' } }),
      'SCHEMA_INVALID',
    ],
    [
      'overflowing number',
      'telemetry',
      buf(`{"ts":"${TS}","metrics":{"t":1e999}}`),
      'SCHEMA_INVALID',
    ],
    ['bad metric name', 'telemetry', buf({ ts: TS, metrics: { '1bad': 1 } }), 'SCHEMA_INVALID'],
    [
      'too many metrics',
      'telemetry',
      buf({
        ts: TS,
        metrics: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m${String(i)}`, i])),
      }),
      'SCHEMA_INVALID',
    ],
    [
      '__proto__ key',
      'state',
      buf(`{"__proto__":{"polluted":true},${JSON.stringify(STATE).slice(1)}`),
      'SCHEMA_INVALID',
    ],
    [
      'escaped __proto__ key',
      'state',
      buf(`{"\\u005f_proto__":{"polluted":true},${JSON.stringify(STATE).slice(1)}`),
      'SCHEMA_INVALID',
    ],
    [
      'constructor.prototype',
      'events',
      buf({ type: 'alert.cleared', ts: TS, alertId: 'a', constructor: { prototype: { x: 1 } } }),
      'SCHEMA_INVALID',
    ],
    [
      '__proto__ metric',
      'telemetry',
      buf(`{"ts":"${TS}","metrics":{"__proto__":1}}`),
      'SCHEMA_INVALID',
    ],
    ['10k-deep nesting', 'state', buf(deep(10_000)), 'SCHEMA_INVALID'],
    [
      '10k-deep nesting in a field',
      'state',
      buf(`{"job":${deep(10_000)},${JSON.stringify(STATE).slice(1)}`),
      'SCHEMA_INVALID',
    ],
    [
      'time with a zone suffix',
      'state',
      buf({ ...STATE, ts: '2025-01-01T00:00:00Z[Europe/Paris]' }),
      'SCHEMA_INVALID',
    ],
    ['not a time', 'state', buf({ ...STATE, ts: 'yesterday' }), 'SCHEMA_INVALID'],
    ['month 13', 'state', buf({ ...STATE, ts: '2025-13-01T00:00:00Z' }), 'SCHEMA_INVALID'],
    [
      'id too long',
      'events',
      buf({ type: 'alert.cleared', ts: TS, alertId: 'x'.repeat(65) }),
      'SCHEMA_INVALID',
    ],
    [
      'message too long',
      'events',
      buf({
        type: 'alert.raised',
        ts: TS,
        alert: { id: 'a', code: 'c', severity: 'info', message: 'm'.repeat(1025), raisedAt: TS },
      }),
      'SCHEMA_INVALID',
    ],
    [
      'progress over 100',
      'events',
      buf({
        type: 'job.updated',
        ts: TS,
        job: { id: 'j', name: 'n', owner: 'o', state: 'queued', progress: 101 },
      }),
      'SCHEMA_INVALID',
    ],
    ['unknown event type', 'events', buf({ type: 'job.deleted', ts: TS }), 'SCHEMA_INVALID'],
    [
      'too many alerts',
      'state',
      buf({
        ...STATE,
        alerts: Array.from({ length: 257 }, (_, i) => ({
          id: `a${String(i)}`,
          code: 'c',
          severity: 'info',
          message: '',
          raisedAt: TS,
        })),
      }),
      'SCHEMA_INVALID',
    ],
    ['status not online/offline', 'status', buf('{"status":"online"}'), 'SCHEMA_INVALID'],
  ];

  it.each(cases)('refuses %s', (_name, channel, payload, code) => {
    const r = parsePayload(channel, payload);
    expect(r).toMatchObject({ ok: false, code });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('names the first invalid field in the message', () => {
    const r = parsePayload('state', buf({ ...STATE, state: 42 }));
    expect(r.ok ? '' : r.message).toMatch(/^\/state /);
  });

  it('keeps messages short even when the offending key is huge', () => {
    const r = parsePayload('telemetry', buf({ ts: TS, metrics: { ['k'.repeat(100_000)]: 1 } }));
    expect(r.ok ? '' : r.message.length).toBeLessThanOrEqual(301);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<DeviceChannel>('state', 'telemetry', 'events', 'status'),
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc.json().map((j) => Buffer.from(j)),
        ),
        (channel, bytes) => {
          const r = parsePayload(channel, Buffer.from(bytes));
          expect(typeof r.ok).toBe('boolean');
        },
      ),
    );
  });
});
