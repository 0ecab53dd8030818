// How the CLI reports a failure: the error's code and message for people, no stack trace unless
// CC_DEBUG is set; exit code 1 (2 for configuration errors, so scripts can tell them apart).

import { isCcError } from '../domain/index.js';

export function exitWithError(err: unknown): void {
  if (isCcError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exitCode = err.code === 'CONFIG_INVALID' ? 2 : 1;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  }
  if (process.env.CC_DEBUG && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
}
