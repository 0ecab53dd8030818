#!/usr/bin/env node
// The `command-center` executable: parses the command line and reports failures without stack traces.

import { CommanderError } from 'commander';
import { exitWithError } from './cli-errors.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit with 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode;
      return;
    }
    exitWithError(err);
  }
}

await main(process.argv);
