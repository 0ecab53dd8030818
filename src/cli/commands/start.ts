// `command-center start`: runs the server (and, with --demo, a simulated fleet) until SIGINT/SIGTERM.

import type { Command } from 'commander';
import { createApp, type StartedApp } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../observability/index.js';
import { addConfigOptions, type ConfigOptions } from '../common-options.js';
import { exitWithError } from '../cli-errors.js';

interface StartOptions extends ConfigOptions {
  demo?: boolean;
  demoDevices?: string;
}

export function registerStartCommand(program: Command): void {
  addConfigOptions(
    program
      .command('start')
      .description('run the server: HTTPS API, MQTT broker, ingest and store')
      .option('--demo', 'also run a simulated demo fleet in the same process')
      .option('--demo-devices <n>', 'size of the demo fleet (with --demo)'),
  ).action(async (options: StartOptions) => {
    await runStart(options);
  });
}

async function runStart(options: StartOptions): Promise<void> {
  const demoDevices = options.demoDevices === undefined ? undefined : Number(options.demoDevices);
  const { config } = loadConfig({
    file: options.config,
    env: process.env,
    overrides: {
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.demo
        ? {
            demo: { enabled: true, ...(demoDevices === undefined ? {} : { devices: demoDevices }) },
          }
        : {}),
    },
  });
  const logger = createLogger({
    level: config.log.level,
    pretty: config.log.pretty || process.stdout.isTTY,
  });
  const app = createApp(config, logger);

  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exitCode = 0;
      },
      (err: unknown) => {
        exitWithError(err);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  const started = await app.start();
  process.stdout.write(renderBanner(started, config.dataDir));
}

export function renderBanner(started: StartedApp, dataDir: string): string {
  const lines = [
    '',
    'Command Center is running',
    '',
    `  Dashboard      ${started.urls.dashboard}`,
    `  API            ${started.urls.api}   (docs: ${started.urls.docs})`,
    `  MQTT broker    ${started.urls.mqtt}${started.urls.mqtts ? `  and TLS ${started.urls.mqtts}` : ''}`,
    `  HTTP           ${started.urls.http}   (redirects to HTTPS; /healthz, /ca.crt)`,
    ...(started.urls.apiProxy
      ? [`  API Proxy      ${started.urls.apiProxy}/devices/<id>/ws/v1/…   (proxy-scoped tokens)`]
      : []),
    '',
    `  Ports          https ${started.ports.https}, http ${started.ports.http}, mqtt ${started.ports.mqtt}${started.ports.mqtts ? `, mqtts ${started.ports.mqtts}` : ''}${started.ports.apiProxy ? `, apiProxy ${started.ports.apiProxy}` : ''}`,
    `  Data           ${dataDir}`,
    `  Certificate    ${started.certificate.source}, SHA-256 ${started.certificate.fingerprint256}`,
  ];
  if (started.demoDevices > 0)
    lines.push(`  Demo fleet     ${started.demoDevices} simulated devices`);
  if (started.demoCloud) {
    lines.push(
      `  Demo cloud     ${started.demoCloud.url}   (reference receiver; enroll on the Cloud page`,
      `                 with organization ${started.demoCloud.organizationId}, token ${started.demoCloud.enrollmentToken})`,
    );
  }
  if (started.setupUrl) {
    lines.push(
      '',
      '  No administrator exists yet. Open this one-time link to create one (valid 24 h):',
      `    ${started.setupUrl}`,
    );
  }
  lines.push('', '  Stop with Ctrl+C.', '');
  return lines.join('\n');
}
