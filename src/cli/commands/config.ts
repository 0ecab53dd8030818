// `command-center config check [file]`: validates a configuration and reports every problem.

import type { Command } from 'commander';
import { checkConfig, formatConfigIssues } from '../../config/index.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('inspect and validate the configuration');
  config
    .command('check')
    .argument(
      '[file]',
      'configuration file (YAML or JSON); default $CC_CONFIG or built-in defaults',
    )
    .description('validate the configuration file and CC_* environment variables')
    .option('--json', 'print the result as JSON')
    .action((file: string | undefined, options: { json?: boolean }) => {
      const result = checkConfig(file ?? process.env.CC_CONFIG, process.env);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ ok: result.ok, issues: result.issues }, null, 2)}\n`,
        );
      } else if (result.ok) {
        process.stdout.write(`configuration OK${file ? ` (${file})` : ''}\n`);
      } else {
        process.stderr.write(formatConfigIssues(result.issues));
      }
      if (!result.ok) process.exitCode = 2;
    });
}
