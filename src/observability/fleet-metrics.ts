// Prometheus gauges of the live fleet, read from the in-memory fleet state at each scrape: how many
// devices are online and how many are in each state. No device label (the fleet is unbounded).

import { Gauge, type Registry } from 'prom-client';
import { DEVICE_STATES, type DeviceState } from '../domain/index.js';

export interface FleetStates {
  list(): readonly { state: DeviceState }[];
}

export function registerFleetMetrics(registry: Registry, fleet: FleetStates): void {
  new Gauge({
    name: 'cc_devices_online',
    help: 'Known devices whose state is not offline (heard from lately, over MQTT or Web Services).',
    registers: [registry],
    collect() {
      let online = 0;
      for (const device of fleet.list()) if (device.state !== 'offline') online += 1;
      this.set(online);
    },
  });
  new Gauge({
    name: 'cc_devices',
    help: 'Known devices by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map<DeviceState, number>(DEVICE_STATES.map((s) => [s, 0]));
      for (const device of fleet.list())
        counts.set(device.state, (counts.get(device.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
}
