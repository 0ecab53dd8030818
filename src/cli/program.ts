// The `command-center` program: its subcommands, one file each under commands/.

import { Command } from 'commander';
import { registerActionCommands } from './commands/actions.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerCloudCommands } from './commands/cloud.js';
import { registerCloudReceiverCommand } from './commands/cloud-receiver.js';
import { registerConfigCommands } from './commands/config.js';
import { registerLoginCommand } from './commands/login.js';
import { registerDevicesCommands } from './commands/devices.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerFirmwareCommands } from './commands/firmware.js';
import { registerFirmwareCatalogCommands } from './commands/firmware-catalog.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerStartCommand } from './commands/start.js';
import { registerStatusCommand } from './commands/status.js';
import { registerWatchCommand } from './commands/watch.js';
import { productVersion } from './version.js';

export function buildProgram(): Command {
  const program = new Command('command-center')
    .description('Command Center — the on-premises hub of an industrial 3D-printing site')
    .version(productVersion(), '-V, --version')
    // Options after a subcommand belong to it, so `firmware pack --version 4.3.0` is the package's
    // version while `command-center --version` still prints the program's.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for additional information)')
    .configureHelp({ sortSubcommands: true })
    .exitOverride();
  registerStartCommand(program);
  registerConfigCommands(program);
  registerBackupCommands(program);
  registerDevicesCommands(program);
  registerSimulateCommand(program);
  registerLoginCommand(program);
  registerActionCommands(program);
  registerStatusCommand(program);
  registerWatchCommand(program);
  registerCloudCommands(program);
  registerCloudReceiverCommand(program);
  registerFirmwareCommands(program);
  registerFirmwareCatalogCommands(program);
  registerDoctorCommand(program);
  return program;
}
