// Parses a command the server sends on `cc/v1/devices/{id}/commands` (docs/protocols/mqtt.md):
// `{ "id", "action": "pause" | "resume" | "cancel", "jobId"? }` or
// `{ "id", "action": "acknowledge", "alertId" }`.

import type { CommandAction } from './device-model.js';

/** What a device is asked to do, whichever channel the request came on. */
export type DeviceRequest =
  { action: CommandAction; jobId?: string } | { action: 'acknowledge'; alertId: string };

export type ParsedCommand =
  /** Nothing can be answered: the payload is not JSON or has no usable command id. */
  | { kind: 'ignored'; why: string }
  /** Answered on the result topic with `ok: false` and `message`. */
  | { kind: 'invalid'; id: string; action: string; message: string }
  | { kind: 'request'; id: string; action: string; request: DeviceRequest };

const COMMAND_ID = /^[A-Za-z0-9._-]{1,64}$/;
const JOB_ACTIONS: readonly string[] = ['pause', 'resume', 'cancel'] satisfies CommandAction[];
const MAX_TARGET_LENGTH = 256;

function targetId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TARGET_LENGTH
    ? value
    : undefined;
}

export function parseCommand(payload: Buffer): ParsedCommand {
  let command: unknown;
  try {
    command = JSON.parse(payload.toString('utf8'));
  } catch {
    return { kind: 'ignored', why: 'not JSON' };
  }
  if (typeof command !== 'object' || command === null) {
    return { kind: 'ignored', why: 'not a JSON object' };
  }
  const { id, action, jobId, alertId } = command as Record<string, unknown>;
  if (typeof id !== 'string' || !COMMAND_ID.test(id)) {
    return { kind: 'ignored', why: 'no valid command id' };
  }
  const name = typeof action === 'string' ? action.slice(0, 32) : '';
  const invalid = (message: string): ParsedCommand => ({
    kind: 'invalid',
    id,
    action: name,
    message,
  });
  if (action === 'acknowledge') {
    const alert = targetId(alertId);
    if (alert === undefined) return invalid('acknowledge needs an alertId');
    return {
      kind: 'request',
      id,
      action: name,
      request: { action: 'acknowledge', alertId: alert },
    };
  }
  if (typeof action !== 'string' || !JOB_ACTIONS.includes(action)) return invalid('unknown action');
  if (jobId === undefined || jobId === null) {
    return { kind: 'request', id, action: name, request: { action: action as CommandAction } };
  }
  const job = targetId(jobId);
  if (job === undefined) return invalid('jobId must be a non-empty string');
  return {
    kind: 'request',
    id,
    action: name,
    request: { action: action as CommandAction, jobId: job },
  };
}
