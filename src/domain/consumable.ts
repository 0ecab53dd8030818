// Consumables: agents, printheads, materials, filters, lamps — their levels and status.

export const CONSUMABLE_STATUSES = ['ok', 'low', 'empty', 'expired'] as const;
export type ConsumableStatus = (typeof CONSUMABLE_STATUSES)[number];

export interface Consumable {
  deviceId: string;
  slot: string;
  /** agent, printhead, material, filter, lamp … (open set: devices may report new types). */
  type: string;
  /** 0–100 */
  level: number;
  status: ConsumableStatus;
  expiresAt: string | null;
  updatedAt: string;
}
