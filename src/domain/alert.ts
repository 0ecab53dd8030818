// Alerts raised by devices, cleared by devices, acknowledged by people.

export const ALERT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface Alert {
  id: string;
  deviceId: string;
  code: string;
  severity: AlertSeverity;
  message: string;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
}
