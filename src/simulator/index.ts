// Public surface of the simulator: a virtual fleet speaking MQTT and serving device Web Services,
// and the fleet planner.
export {
  createSimulator,
  type Simulator,
  type SimulatorEvents,
  type SimulatorOptions,
  type SimulatorWebServicesOptions,
} from './simulator.js';
export { planFleet, kindFromId, type PlannedDevice } from './fleet-plan.js';
export {
  VirtualDevice,
  type CommandResult,
  type SimulatorChannels,
  type SimulatorTlsOptions,
} from './virtual-device.js';
export {
  DeviceModel,
  type CommandAction,
  type CommandOutcome,
  type RefusalReason,
} from './device-model.js';
export { addressAt, parseIpv4 } from './loopback-addresses.js';
