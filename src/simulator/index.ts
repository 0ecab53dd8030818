// Public surface of the simulator: a virtual fleet speaking MQTT and serving device Web Services
// (firmware updates included), and the fleet planner.
export {
  createSimulator,
  type Simulator,
  type SimulatorEvents,
  type SimulatorFirmwareOptions,
  type SimulatorOptions,
  type SimulatorWebServicesOptions,
} from './simulator.js';
export { planFleet, kindFromId, type PlannedDevice } from './fleet-plan.js';
export {
  VirtualDevice,
  type CommandResult,
  type DeviceFirmwareSettings,
  type SimulatorChannels,
  type SimulatorTlsOptions,
} from './virtual-device.js';
export {
  DeviceModel,
  type CommandAction,
  type CommandOutcome,
  type RefusalReason,
} from './device-model.js';
export {
  DEFAULT_FIRMWARE_MAX_BYTES,
  FLASH_WRITE_ERROR,
  INSTALL_FAILED,
  NO_VENDOR_KEY,
  TRANSFER_FAILED,
} from './device-firmware.js';
export { addressAt, parseIpv4 } from './loopback-addresses.js';
