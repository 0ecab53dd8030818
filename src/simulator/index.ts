// Public surface of the simulator: a virtual fleet speaking MQTT, and the fleet planner.
export {
  createSimulator,
  type Simulator,
  type SimulatorEvents,
  type SimulatorOptions,
} from './simulator.js';
export { planFleet, kindFromId, type PlannedDevice } from './fleet-plan.js';
export { VirtualDevice, type CommandResult, type SimulatorTlsOptions } from './virtual-device.js';
export { DeviceModel, type CommandAction } from './device-model.js';
