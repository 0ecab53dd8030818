// `command-center jobs pause|resume|cancel` and `command-center alerts ack`: remote actions on a
// running server's devices; each prints the command's result (accepted, rejected with the
// device's reason, timed out, failed).

import type { Command } from 'commander';
import { CcError } from '../../domain/index.js';
import { addServerOptions, connectApi, type ServerOptions } from '../api-client.js';

interface CommandAnswer {
  id: string;
  deviceId: string;
  action: string;
  targetId: string;
  channel: string;
  status: string;
  message: string | null;
}

function report(command: CommandAnswer, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(command, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${command.action} ${command.targetId} on ${command.deviceId} via ${command.channel}: ` +
        `${command.status}${command.message ? ` — ${command.message}` : ''} (command ${command.id})\n`,
    );
  }
  if (command.status !== 'accepted') process.exitCode = 1;
}

export function registerActionCommands(program: Command): void {
  const jobs = program.command('jobs').description('act on jobs running on devices');
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    addServerOptions(
      jobs
        .command(action)
        .argument('<device>', 'device id (acts on its current job)')
        .option('--job <jobId>', 'the job to act on, when not the current one')
        .option('--json', 'print the command as JSON')
        .description(`${action} a job on its device`),
    ).action(
      async (deviceId: string, options: ServerOptions & { job?: string; json?: boolean }) => {
        const api = await connectApi(options);
        try {
          let jobId = options.job;
          if (jobId === undefined) {
            const device = await api.call<{ currentJob: { id: string } | null }>(
              'GET',
              `/api/v1/devices/${encodeURIComponent(deviceId)}`,
            );
            jobId = device.currentJob?.id;
            if (jobId === undefined)
              throw new CcError('CONFLICT', `device ${deviceId} has no current job`);
          }
          const command = await api.call<CommandAnswer>(
            'POST',
            `/api/v1/jobs/${encodeURIComponent(jobId)}/${action}`,
          );
          report(command, options.json);
        } finally {
          await api.close();
        }
      },
    );
  }

  const alerts = program.command('alerts').description('act on alerts');
  addServerOptions(
    alerts
      .command('ack')
      .argument('<alertId>', 'alert id')
      .option('--json', 'print the alert as JSON')
      .description('acknowledge an alert (also on its device)'),
  ).action(async (alertId: string, options: ServerOptions & { json?: boolean }) => {
    const api = await connectApi(options);
    try {
      const alert = await api.call<{
        id: string;
        acknowledgedBy: string | null;
        acknowledgedAt: string | null;
      }>('POST', `/api/v1/alerts/${encodeURIComponent(alertId)}/ack`, {});
      process.stdout.write(
        options.json
          ? `${JSON.stringify(alert, null, 2)}\n`
          : `Alert ${alert.id} acknowledged by ${alert.acknowledgedBy ?? '-'} at ${alert.acknowledgedAt ?? '-'}\n`,
      );
    } finally {
      await api.close();
    }
  });
}
