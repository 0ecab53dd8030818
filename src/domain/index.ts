// The domain model: pure types and rules, no I/O. Everything else depends on this, never the reverse.
export * from './device.js';
export * from './job.js';
export * from './alert.js';
export * from './consumable.js';
export * from './metrics.js';
export * from './errors.js';
export * from './time.js';
export * from './device-messages.js';
export * from './fleet-view.js';
export * from './page.js';
export * from './fleet-state.js';
export * from './web-services.js';
export * from './command.js';
