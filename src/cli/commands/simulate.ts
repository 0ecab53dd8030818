// `command-center simulate`: runs a virtual fleet speaking only the device contracts: MQTT to a
// broker, each device's own HTTPS Web Services on its own loopback address, or both. Devices take
// signed firmware packages over Web Services, checked with the vendor keys given here.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { issueDeviceToken } from '../../broker/index.js';
import { loadConfig } from '../../config/index.js';
import { CcError } from '../../domain/index.js';
import { parseVendorKey, type VendorKey } from '../../firmware/index.js';
import { createLogger, silentLogger } from '../../observability/index.js';
import {
  createSimulator,
  parseIpv4,
  planFleet,
  type Simulator,
  type SimulatorChannels,
  type SimulatorWebServicesOptions,
} from '../../simulator/index.js';
import { openStore } from '../../store/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { parseIntegerOption } from '../parse-options.js';
import { renderTable } from '../table.js';

interface SimulateOptions extends ConfigOptions {
  devices: string;
  broker?: string;
  credentials?: string;
  provision?: boolean;
  speed: string;
  seed: string;
  telemetryMs: string;
  webServices?: boolean;
  channels?: string;
  wsAddress: string;
  wsPort: string;
  wsPassword?: string;
  stateDir?: string;
  idPrefix?: string;
  vendorKey?: string[];
  failInstall?: string[];
}

const CHANNELS: readonly SimulatorChannels[] = ['mqtt', 'web-services', 'both'];
const PASSWORD_ENV = 'CC_SIM_WS_PASSWORD';
const MIN_PASSWORD_LENGTH = 8;
/** Devices listed on start; the rest are counted. */
const LISTED_DEVICES = 20;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerSimulateCommand(program: Command): void {
  addConfigOptions(
    program
      .command('simulate')
      .description(
        'run a simulated fleet (printers, stations, build and cooling units) over MQTT and/or device Web Services',
      )
      .option('-n, --devices <n>', 'number of devices', '12')
      .option(
        '--id-prefix <text>',
        'put this before every device id (e.g. ws- → ws-printer-01), to run beside another fleet',
      )
      .option(
        '-b, --broker <url>',
        'broker URL, e.g. mqtt://127.0.0.1:1883 (not needed with --channels web-services)',
      )
      .option(
        '--credentials <file>',
        'JSON file mapping device id to token ({ "printer-01": "…" })',
      )
      .option('--provision', "issue tokens in this machine's server data directory")
      .option('--speed <x>', 'time multiplier for job progress', '1')
      .option('--seed <n>', 'random seed (same seed, same fleet behaviour)', '1')
      .option('--telemetry-ms <ms>', 'telemetry interval in milliseconds', '2000')
      .option('--web-services', 'devices also serve their HTTPS Web Services (--channels both)')
      .option('--channels <channels>', 'mqtt, web-services or both (default mqtt)')
      .option(
        '--ws-address <ipv4>',
        'Web Services address of the first device; the next devices count up from it',
        '127.0.0.11',
      )
      .option('--ws-port <n>', 'Web Services port of every device (0: ephemeral)', '443')
      .option(
        '--ws-password <password>',
        `admin password of every device's Web Services (or set ${PASSWORD_ENV})`,
      )
      .option(
        '--state-dir <dir>',
        'keeps device certificates here, so their fingerprints survive restarts',
      )
      .option(
        '--vendor-key <pem>',
        'a vendor public key (PEM file) every device trusts for firmware packages (repeatable); without one, devices refuse every package',
        collect,
      )
      .option(
        '--fail-install <ids>',
        'devices whose firmware installation fails with a flash write error, comma-separated (repeatable)',
        collect,
      ),
  ).action(async (options: SimulateOptions) => {
    await runSimulate(options);
  });
}

function parseIdPrefix(value: string | undefined): string {
  if (value === undefined) return '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,23}$/.test(value)) {
    throw new CcError(
      'BAD_REQUEST',
      '--id-prefix is 1–24 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return value;
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
  const channels = parseChannels(options);
  const broker = options.broker;
  if (channels !== 'web-services') {
    if (broker === undefined) {
      throw new CcError(
        'BAD_REQUEST',
        `--broker <url> is required with --channels ${channels} (only web-services runs without MQTT)`,
      );
    }
    if (!/^mqtts?:\/\//.test(broker)) {
      throw new CcError('BAD_REQUEST', '--broker must be an mqtt:// or mqtts:// URL');
    }
  }
  const webServices = channels === 'mqtt' ? undefined : parseWebServices(options);

  const prefix = parseIdPrefix(options.idPrefix);
  const plan = planFleet(count, seed).map((d) => ({ ...d, id: `${prefix}${d.id}` }));
  // Devices that speak Web Services only never log in to the broker: no tokens to find.
  const tokens =
    channels === 'web-services'
      ? new Map<string, string>()
      : await resolveTokens(
          options,
          plan.map((d) => d.id),
        );
  const vendorKeys = await readVendorKeys(options.vendorKey ?? []);
  const failInstall = parseFailInstall(
    options.failInstall ?? [],
    plan.map((d) => d.id),
  );
  const logger = createLogger({ level: 'info', pretty: process.stdout.isTTY });
  const simulator = createSimulator({
    ...(broker !== undefined && channels !== 'web-services' ? { brokerUrl: broker } : {}),
    devices: plan.map((d) => ({ ...d, token: tokens.get(d.id) ?? '' })),
    channels,
    ...(webServices ? { webServices } : {}),
    logger,
    speed,
    seed,
    telemetryIntervalMs,
    firmware: { vendorKeys, failInstall },
  });
  await simulator.start();
  const where = channels === 'web-services' ? 'serving Web Services' : `against ${broker ?? ''}`;
  process.stdout.write(
    `simulating ${plan.length} devices (channels: ${channels}) ${where}; Ctrl+C stops\n`,
  );
  if (webServices) {
    process.stdout.write(webServicesTable(simulator, webServices));
    process.stdout.write(
      vendorKeys.length > 0
        ? `firmware: devices trust vendor key${vendorKeys.length === 1 ? '' : 's'} ${vendorKeys.map((k) => k.id).join(', ')}\n`
        : 'firmware: no vendor key given (--vendor-key): devices refuse every package\n',
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await simulator.stop();
}

async function readVendorKeys(files: readonly string[]): Promise<VendorKey[]> {
  const keys: VendorKey[] = [];
  for (const file of files) {
    const pem = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new CcError('BAD_REQUEST', `cannot read --vendor-key ${file}: ${String(err)}`);
    });
    const key = parseVendorKey(pem, { source: file });
    if (keys.some((k) => k.id === key.id)) {
      throw new CcError('BAD_REQUEST', `--vendor-key ${file}: key ${key.id} is given twice`);
    }
    keys.push(key);
  }
  return keys;
}

function parseFailInstall(values: readonly string[], ids: readonly string[]): string[] {
  const wanted = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  const unknown = wanted.filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    throw new CcError(
      'BAD_REQUEST',
      `--fail-install names devices this fleet does not have: ${unknown.join(', ').slice(0, 200)}`,
    );
  }
  return wanted;
}

function parseChannels(options: SimulateOptions): SimulatorChannels {
  const given = options.channels;
  if (given === undefined) return options.webServices ? 'both' : 'mqtt';
  const channels = CHANNELS.find((c) => c === given);
  if (channels === undefined) {
    throw new CcError('BAD_REQUEST', `--channels must be one of ${CHANNELS.join(', ')}`);
  }
  if (options.webServices && channels !== 'both') {
    throw new CcError(
      'BAD_REQUEST',
      `--web-services means --channels both; it contradicts --channels ${channels}`,
    );
  }
  return channels;
}

function parseWebServices(options: SimulateOptions): SimulatorWebServicesOptions {
  try {
    parseIpv4(options.wsAddress);
  } catch {
    throw new CcError(
      'BAD_REQUEST',
      `--ws-address must be an IPv4 address such as 127.0.0.11 (got "${options.wsAddress.slice(0, 40)}")`,
    );
  }
  const port = parseIntegerOption('--ws-port', options.wsPort, 0, 65_535);
  // No default password: a device's admin credential is the operator's choice.
  const password = options.wsPassword ?? process.env[PASSWORD_ENV];
  if (password === undefined || password === '') {
    throw new CcError(
      'BAD_REQUEST',
      `Web Services need an admin password: give --ws-password <password> or set ${PASSWORD_ENV}`,
    );
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new CcError(
      'BAD_REQUEST',
      `the Web Services password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
  return {
    firstAddress: options.wsAddress,
    port,
    password,
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  };
}

/** Where each device answers and the fingerprint an admin confirms when adding it. */
function webServicesTable(simulator: Simulator, options: SimulatorWebServicesOptions): string {
  const devices = simulator.devices();
  const rows = devices
    .slice(0, LISTED_DEVICES)
    .map((d) => [d.id, d.webServicesUrl ?? null, d.certificateFingerprint ?? null]);
  const more = devices.length - rows.length;
  return [
    `Web Services: user ${options.username ?? 'admin'}, certificates ${
      options.stateDir !== undefined ? `kept in ${options.stateDir}` : 'new on every start'
    }\n`,
    renderTable(['DEVICE', 'URL', 'SHA-256 FINGERPRINT'], rows),
    more > 0 ? `… and ${more} more devices\n` : '',
  ].join('');
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
