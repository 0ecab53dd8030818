// Telemetry of a simulated device: temperatures that ramp toward the operating point of the
// device's state, with a little seeded noise, plus power, humidity, flow and levels per kind.

import type { DeviceKind, DeviceState } from '../domain/index.js';
import type { Prng } from './prng.js';

export interface TelemetryContext {
  state: DeviceState;
  /** Level (0–100) of a consumable slot, when the device has it. */
  level(slot: string): number | undefined;
  openAlertCodes: ReadonlySet<string>;
}

export interface TelemetryModel {
  sample(nowMs: number, context: TelemetryContext): Record<string, number>;
}

/** Nominal time constant of temperature changes: ~63 % of the way to the target in 8 minutes. */
const THERMAL_TAU_MS = 8 * 60_000;
const BUILD_CYCLE_MS = 3 * 3_600_000;

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function createTelemetryModel(
  kind: DeviceKind,
  prng: Prng,
  speed: number,
  startMs: number,
): TelemetryModel {
  const temps = new Map<string, number>();
  let lastMs = startMs;
  const noise = (amplitude: number): number => prng.between(-amplitude, amplitude);

  /** Moves a temperature toward `target` for the elapsed time and returns it. */
  function approach(name: string, target: number, initial: number, dtMs: number): number {
    const current = temps.get(name) ?? initial;
    const factor = 1 - Math.exp(-(dtMs * speed) / THERMAL_TAU_MS);
    const next = current + (target - current) * factor;
    temps.set(name, next);
    return round1(next + noise(0.3));
  }

  return {
    sample(nowMs, context): Record<string, number> {
      const dt = Math.max(0, nowMs - lastMs);
      lastMs = nowMs;
      const { state } = context;
      switch (kind) {
        case 'printer': {
          const hot = state === 'printing';
          const warm = state === 'paused';
          return {
            nozzleTemp: approach('nozzle', hot ? 210 : warm ? 150 : 28, 28, dt),
            bedTemp: approach('bed', hot ? 175 : warm ? 160 : 25, 25, dt),
            chamberTemp: approach('chamber', hot ? 62 : warm ? 55 : 24, 24, dt),
            humidity: round1((context.openAlertCodes.has('HUMIDITY_HIGH') ? 63 : 42) + noise(2.5)),
            powerW: Math.round((hot ? 3800 : warm ? 1500 : 260) + noise(hot ? 180 : 25)),
          };
        }
        case 'processing-station': {
          const active = state !== 'maintenance' && state !== 'offline';
          const low = context.openAlertCodes.has('BATH_TEMP_LOW');
          return {
            bathTemp: approach('bath', active ? (low ? 44 : 55) : 24, 50, dt),
            powerW: Math.round((active ? 1100 : 120) + noise(active ? 150 : 10)),
          };
        }
        case 'build-unit': {
          // Build units come out of a printer hot and cool down again, in a slow cycle.
          const phase = (((nowMs - startMs) * speed) % BUILD_CYCLE_MS) / BUILD_CYCLE_MS;
          const target = 30 + 130 * Math.max(0, Math.sin(phase * 2 * Math.PI));
          return {
            buildTemp: approach('build', target, 30, dt),
            powderLevel: round1(context.level('powder') ?? 0),
          };
        }
        case 'cooling-unit': {
          const flowLow = context.openAlertCodes.has('FLOW_LOW');
          const pumpFault = context.openAlertCodes.has('PUMP_FAULT');
          return {
            coolantTemp: approach('coolant', pumpFault ? 30 : 18, 18, dt),
            flowLpm: round1(pumpFault ? 0 : (flowLow ? 5.2 : 10) + noise(0.6)),
            coolantLevel: round1(context.level('coolant') ?? 0),
          };
        }
      }
    },
  };
}
