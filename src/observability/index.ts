// Logs and metrics shared by every subsystem.
export * from './logger.js';
export * from './metrics.js';
