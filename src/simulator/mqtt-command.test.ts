import { describe, expect, it } from 'vitest';
import { parseCommand } from './mqtt-command.js';

const parse = (value: unknown) =>
  parseCommand(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

describe('MQTT command payloads', () => {
  it.each([
    [{ id: 'c1', action: 'pause' }, { action: 'pause' }],
    [
      { id: 'c1', action: 'cancel', jobId: 'job-7' },
      { action: 'cancel', jobId: 'job-7' },
    ],
    [{ id: 'c1', action: 'resume', jobId: null }, { action: 'resume' }],
    [
      { id: 'c1', action: 'acknowledge', alertId: 'al-3' },
      { action: 'acknowledge', alertId: 'al-3' },
    ],
  ])('reads %j', (payload, request) => {
    expect(parse(payload)).toEqual({ kind: 'request', id: 'c1', action: payload.action, request });
  });

  it.each([
    [{ id: 'c1', action: 'explode' }, 'unknown action'],
    [{ id: 'c1' }, 'unknown action'],
    [{ id: 'c1', action: 'acknowledge' }, 'acknowledge needs an alertId'],
    [{ id: 'c1', action: 'acknowledge', alertId: '' }, 'acknowledge needs an alertId'],
    [{ id: 'c1', action: 'pause', jobId: 42 }, 'jobId must be a non-empty string'],
    [{ id: 'c1', action: 'pause', jobId: 'j'.repeat(300) }, 'jobId must be a non-empty string'],
  ])('answers %j with a refusal', (payload, message) => {
    expect(parse(payload)).toMatchObject({ kind: 'invalid', id: 'c1', message });
  });

  it.each(['not json', 'null', '[1]', { action: 'pause' }, { id: 'a/b', action: 'pause' }])(
    'ignores %j (nothing to answer to)',
    (payload) => {
      expect(parse(payload).kind).toBe('ignored');
    },
  );
});
