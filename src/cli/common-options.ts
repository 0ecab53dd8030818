// Options shared by the commands that read the server's configuration (--config, --data-dir).

import type { Command } from 'commander';

export interface ConfigOptions {
  config?: string;
  dataDir?: string;
}

export function addConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (YAML or JSON); default $CC_CONFIG')
    .option(
      '-d, --data-dir <dir>',
      'data directory (database, certificates, ports); overrides dataDir',
    );
}
