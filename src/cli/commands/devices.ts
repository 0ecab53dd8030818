// `command-center devices …`: device administration from the server's own machine.

import type { Command } from 'commander';
import { issueDeviceToken } from '../../broker/index.js';
import { loadConfig } from '../../config/index.js';
import { CcError, isValidDeviceId } from '../../domain/index.js';
import { silentLogger } from '../../observability/index.js';
import { openStore } from '../../store/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { registerDeviceAdminCommands } from './device-admin.js';

export function registerDevicesCommands(program: Command): void {
  const devices = program.command('devices').description('manage devices and their credentials');
  registerDeviceAdminCommands(devices);
  addConfigOptions(
    devices
      .command('provision')
      .argument('<id>', 'device id (letters, digits, . _ -; at most 64 characters)')
      .description('issue an MQTT token for a device (replaces its previous token)')
      .option('--json', 'print { deviceId, token } as JSON'),
  ).action(async (id: string, options: ConfigOptions & { json?: boolean }) => {
    if (!isValidDeviceId(id)) {
      throw new CcError(
        'BAD_REQUEST',
        `invalid device id "${id.slice(0, 80)}": use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    const { config } = loadConfig({
      file: options.config,
      env: process.env,
      overrides: options.dataDir === undefined ? {} : { dataDir: options.dataDir },
    });
    const store = await openStore(config.store, config.dataDir, silentLogger());
    try {
      await store.migrate();
      const token = await issueDeviceToken(store.deviceCredentials, id);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ deviceId: id, token })}\n`);
      } else {
        process.stdout.write(
          [
            `Device ${id} provisioned. Its token is shown once; store it on the device.`,
            '',
            `  MQTT username  ${id}`,
            `  MQTT password  ${token}`,
            `  MQTT client id ${id}`,
            '',
          ].join('\n'),
        );
      }
    } finally {
      await store.close();
    }
  });
}
