// Logs and metrics shared by every subsystem.
export * from './logger.js';
export * from './metrics.js';
export * from './fleet-metrics.js';
