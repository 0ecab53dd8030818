// A remote action an operator sends to a device (pause / resume / cancel a job, acknowledge an
// alert), and what became of it. The record doubles as the audit trail of device actions.

export const COMMAND_ACTIONS = ['pause', 'resume', 'cancel', 'acknowledge'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

/** Which way the command travelled: the device's own Web Services, or MQTT `commands`. */
export const COMMAND_CHANNELS = ['web-services', 'mqtt'] as const;
export type CommandChannel = (typeof COMMAND_CHANNELS)[number];

/**
 * `pending` until the device answers; `accepted` / `rejected` (with the device's reason) as it
 * said; `timed-out` when no answer came in time; `failed` when it could not be delivered at all.
 */
export const COMMAND_STATUSES = ['pending', 'accepted', 'rejected', 'timed-out', 'failed'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface DeviceCommand {
  id: string;
  deviceId: string;
  action: CommandAction;
  /** The job (pause/resume/cancel) or alert (acknowledge) acted on. */
  targetId: string;
  channel: CommandChannel;
  status: CommandStatus;
  /** The device's reason, or why delivery failed. */
  message: string | null;
  /** Who asked: a user name or `token:<name>`. */
  requestedBy: string;
  requestedAt: string;
  completedAt: string | null;
}

export function isFinalCommandStatus(status: CommandStatus): boolean {
  return status !== 'pending';
}
