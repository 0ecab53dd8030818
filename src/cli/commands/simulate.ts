// `command-center simulate`: runs a virtual fleet against a broker, speaking only the device contracts.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { issueDeviceToken } from '../../broker/index.js';
import { loadConfig } from '../../config/index.js';
import { CcError } from '../../domain/index.js';
import { createLogger, silentLogger } from '../../observability/index.js';
import { createSimulator, planFleet } from '../../simulator/index.js';
import { openStore } from '../../store/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { parseIntegerOption } from '../parse-options.js';

interface SimulateOptions extends ConfigOptions {
  devices: string;
  broker: string;
  credentials?: string;
  provision?: boolean;
  speed: string;
  seed: string;
  telemetryMs: string;
}

export function registerSimulateCommand(program: Command): void {
  addConfigOptions(
    program
      .command('simulate')
      .description('run a simulated fleet (printers, stations, build and cooling units) over MQTT')
      .option('-n, --devices <n>', 'number of devices', '12')
      .requiredOption('-b, --broker <url>', 'broker URL, e.g. mqtt://127.0.0.1:1883')
      .option(
        '--credentials <file>',
        'JSON file mapping device id to token ({ "printer-01": "…" })',
      )
      .option('--provision', "issue tokens in this machine's server data directory")
      .option('--speed <x>', 'time multiplier for job progress', '1')
      .option('--seed <n>', 'random seed (same seed, same fleet behaviour)', '1')
      .option('--telemetry-ms <ms>', 'telemetry interval in milliseconds', '2000'),
  ).action(async (options: SimulateOptions) => {
    await runSimulate(options);
  });
}

async function runSimulate(options: SimulateOptions): Promise<void> {
  const count = parseIntegerOption('--devices', options.devices, 1, 5000);
  const speed = Number(options.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) {
    throw new CcError('BAD_REQUEST', '--speed must be a number between 0 and 10000');
  }
  const seed = parseIntegerOption('--seed', options.seed, 0, 2 ** 31 - 1);
  const telemetryIntervalMs = parseIntegerOption(
    '--telemetry-ms',
    options.telemetryMs,
    100,
    3_600_000,
  );
  if (!/^mqtts?:\/\//.test(options.broker)) {
    throw new CcError('BAD_REQUEST', '--broker must be an mqtt:// or mqtts:// URL');
  }

  const plan = planFleet(count, seed);
  const tokens = await resolveTokens(
    options,
    plan.map((d) => d.id),
  );
  const logger = createLogger({ level: 'info', pretty: process.stdout.isTTY });
  const simulator = createSimulator({
    brokerUrl: options.broker,
    devices: plan.map((d) => ({ ...d, token: tokens.get(d.id) ?? '' })),
    logger,
    speed,
    seed,
    telemetryIntervalMs,
  });
  await simulator.start();
  process.stdout.write(
    `simulating ${plan.length} devices against ${options.broker}; Ctrl+C stops\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await simulator.stop();
}

async function resolveTokens(
  options: SimulateOptions,
  ids: string[],
): Promise<Map<string, string>> {
  if (options.credentials) {
    const raw = await readFile(options.credentials, 'utf8').catch((err: unknown) => {
      throw new CcError(
        'BAD_REQUEST',
        `cannot read --credentials ${options.credentials}: ${String(err)}`,
      );
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new CcError('BAD_REQUEST', `--credentials ${options.credentials} is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CcError(
        'BAD_REQUEST',
        '--credentials must hold an object { "<device id>": "<token>" }',
      );
    }
    const map = new Map<string, string>();
    for (const id of ids) {
      const token = (parsed as Record<string, unknown>)[id];
      if (typeof token !== 'string') {
        throw new CcError('BAD_REQUEST', `--credentials has no token for device ${id}`);
      }
      map.set(id, token);
    }
    return map;
  }
  if (!options.provision) {
    throw new CcError(
      'BAD_REQUEST',
      'give --credentials <file> or --provision so devices can log in',
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
    const map = new Map<string, string>();
    for (const id of ids) map.set(id, await issueDeviceToken(store.deviceCredentials, id));
    return map;
  } finally {
    await store.close();
  }
}
