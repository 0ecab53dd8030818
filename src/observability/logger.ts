// Structured logs (pino): one root logger per process, one child per subsystem; secrets redacted.

import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Paths that may carry secrets anywhere in a log record. */
const REDACT = [
  'password',
  'token',
  'secret',
  'authorization',
  'cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'enrollmentToken',
  'siteSecret',
  'sealedSecret',
  '*.enrollmentToken',
  '*.siteSecret',
  '*.sealedSecret',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable output (pino-pretty) instead of JSON lines. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions, destination?: NodeJS.WritableStream): Logger {
  const settings = {
    level: options.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(options.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss' },
          },
        }
      : {}),
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** A logger that drops everything (tests and tools that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
