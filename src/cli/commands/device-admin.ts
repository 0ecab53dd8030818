// `command-center devices add|approve|list|rename|move|remove|discover`: device administration on a
// running server, over its API (see api-client.ts for how the server and token are found).

import type { Command } from 'commander';
import { CcError } from '../../domain/index.js';
import { addServerOptions, withApi, type ServerOptions } from '../api-client.js';
import { renderTable } from '../table.js';

interface Registration {
  deviceId: string;
  baseUrl: string | null;
  pinState: string;
  fingerprint256: string | null;
  presentedFingerprint256: string | null;
  displayName: string | null;
  siteId: string | null;
}

interface AddAnswer {
  registration: Registration;
  identity: { id: string; kind: string; model: string; serial: string; name: string };
  certificate: { fingerprint256: string; subject: string; validTo: string; selfSigned: boolean };
}

interface DiscoverAnswer {
  found: {
    baseUrl: string;
    identity: { id: string; kind: string; model: string; name: string };
    fingerprint256: string;
    registered: boolean;
  }[];
  probed: number;
  total: number;
  failures: Record<string, number>;
  truncated: boolean;
  durationMs: number;
}

interface CredentialOptions {
  username?: string;
  password?: string;
}

function credential(options: CredentialOptions): { username: string; password: string } {
  const username = options.username ?? 'admin';
  const password = options.password ?? process.env.CC_DEVICE_PASSWORD;
  if (password === undefined || password === '') {
    throw new CcError(
      'BAD_REQUEST',
      'give the device’s Web Services password with --password or $CC_DEVICE_PASSWORD',
    );
  }
  return { username, password };
}

function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

function describeAdded(a: AddAnswer): string {
  const r = a.registration;
  const lines = [
    `Device ${r.deviceId} (${a.identity.kind} ${a.identity.model}, serial ${a.identity.serial}) at ${r.baseUrl ?? '-'}`,
    `  certificate SHA-256 ${a.certificate.fingerprint256}`,
    `  subject ${a.certificate.subject}${a.certificate.selfSigned ? ' (self-signed)' : ''}, valid to ${a.certificate.validTo}`,
  ];
  if (r.pinState === 'pinned') {
    lines.push('  pinned: polling has started');
  } else {
    lines.push(
      '  waiting for approval: check the fingerprint on the device, then run',
      `    command-center devices approve ${r.deviceId} --fingerprint ${a.certificate.fingerprint256}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerDeviceAdminCommands(devices: Command): void {
  addServerOptions(
    devices
      .command('add')
      .argument(
        '<url>',
        'the device’s Web Services address: https://host[:port], host or host:port',
      )
      .description('add a device by its Web Services address and pin its certificate')
      .option(
        '--fingerprint <sha256>',
        'pin at once if the certificate has this SHA-256 fingerprint',
      )
      .option('--username <name>', 'device Web Services user', 'admin')
      .option('--password <secret>', 'device Web Services password (default $CC_DEVICE_PASSWORD)')
      .option('--name <name>', 'display name')
      .option('--site <siteId>', 'site the device belongs to')
      .option('--json', 'print the answer as JSON'),
  ).action(
    async (
      url: string,
      options: ServerOptions &
        CredentialOptions & { fingerprint?: string; name?: string; site?: string; json?: boolean },
    ) => {
      const body = {
        url,
        ...credential(options),
        ...(options.fingerprint !== undefined ? { fingerprint: options.fingerprint } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.site !== undefined ? { siteId: options.site } : {}),
      };
      const added = await withApi(options, (api) =>
        api.call<AddAnswer>('POST', '/api/v1/devices', body),
      );
      print(options.json, added, () => describeAdded(added));
    },
  );

  addServerOptions(
    devices
      .command('approve')
      .argument('<id>', 'device id')
      .requiredOption(
        '--fingerprint <sha256>',
        'the fingerprint the device presented (as shown by add or list)',
      )
      .description('pin the certificate a device presented (first use, or after it changed)')
      .option('--json', 'print the answer as JSON'),
  ).action(async (id: string, options: ServerOptions & { fingerprint: string; json?: boolean }) => {
    const reg = await withApi(options, (api) =>
      api.call<Registration>('POST', `/api/v1/devices/${encodeURIComponent(id)}/approve`, {
        fingerprint: options.fingerprint,
      }),
    );
    print(
      options.json,
      reg,
      () => `Device ${reg.deviceId} pinned to ${reg.fingerprint256 ?? '-'}; polling has started\n`,
    );
  });

  addServerOptions(
    devices
      .command('list')
      .description('list registered devices: address, certificate pinning and fingerprints')
      .option('--json', 'print JSON'),
  ).action(async (options: ServerOptions & { json?: boolean }) => {
    const { items } = await withApi(options, (api) =>
      api.call<{ items: Registration[] }>('GET', '/api/v1/registrations'),
    );
    print(options.json, items, () =>
      renderTable(
        ['DEVICE', 'ADDRESS', 'PIN', 'NAME', 'SITE', 'FINGERPRINT (pinned / presented)'],
        items.map((r) => [
          r.deviceId,
          r.baseUrl,
          r.pinState,
          r.displayName,
          r.siteId,
          r.pinState === 'pinned' ? r.fingerprint256 : r.presentedFingerprint256,
        ]),
      ),
    );
  });

  const patch = (name: string, description: string, arg: string, key: 'name' | 'siteId'): void => {
    addServerOptions(
      devices
        .command(name)
        .argument('<id>', 'device id')
        .argument(
          arg,
          key === 'name' ? 'new display name ("" for the device’s own)' : 'site id ("" for none)',
        )
        .description(description),
    ).action(async (id: string, value: string, options: ServerOptions) => {
      await withApi(options, (api) =>
        api.call('PATCH', `/api/v1/devices/${encodeURIComponent(id)}`, {
          [key]: value === '' ? null : value,
        }),
      );
      process.stdout.write(`Device ${id} updated\n`);
    });
  };
  patch('rename', 'give a device a display name', '<name>', 'name');
  patch('move', 'move a device to a site', '<site>', 'siteId');

  addServerOptions(
    devices
      .command('remove')
      .argument('<id>', 'device id')
      .description('remove a device and everything recorded about it')
      .option('--yes', 'do not ask for confirmation (required when not on a terminal)'),
  ).action(async (id: string, options: ServerOptions & { yes?: boolean }) => {
    if (!options.yes) {
      throw new CcError('BAD_REQUEST', `removing ${id} forgets its history: add --yes to confirm`);
    }
    await withApi(options, (api) =>
      api.call('DELETE', `/api/v1/devices/${encodeURIComponent(id)}`),
    );
    process.stdout.write(`Device ${id} removed\n`);
  });

  addServerOptions(
    devices
      .command('token')
      .argument('<id>', 'device id')
      .description(
        'issue or rotate a device’s MQTT token through the server (the old one stops at once and ' +
          'its connection is closed), or revoke it',
      )
      .option('--revoke', 'revoke the token and disconnect the device')
      .option('--json', 'print { deviceId, token, issuedAt, rotated } as JSON'),
  ).action(async (id: string, options: ServerOptions & { revoke?: boolean; json?: boolean }) => {
    const path = `/api/v1/devices/${encodeURIComponent(id)}/mqtt-token`;
    if (options.revoke) {
      await withApi(options, (api) => api.call('DELETE', path));
      process.stdout.write(`MQTT token of ${id} revoked; the device was disconnected\n`);
      return;
    }
    const issued = await withApi(options, (api) =>
      api.call<{ deviceId: string; token: string; issuedAt: string; rotated: boolean }>(
        'POST',
        path,
      ),
    );
    print(options.json, issued, () =>
      [
        `Device ${id}: MQTT token ${issued.rotated ? 'rotated (the old one no longer works)' : 'issued'}. It is shown once; store it on the device.`,
        '',
        `  MQTT username  ${id}`,
        `  MQTT password  ${issued.token}`,
        `  MQTT client id ${id}`,
        '',
      ].join('\n'),
    );
  });

  addServerOptions(
    devices
      .command('discover')
      .argument('<targets...>', 'CIDR blocks (/16–/32), addresses, host names or host:port')
      .description('find devices by probing their /ws/v1/identity, and optionally add them')
      .option('-p, --port <ports>', 'ports to probe on entries without one, comma-separated', '443')
      .option('--timeout-ms <ms>', 'time per probe', '3000')
      .option('--add', 'add every new device found (pinning the fingerprint seen now)')
      .option('--username <name>', 'device Web Services user (with --add)', 'admin')
      .option(
        '--password <secret>',
        'device Web Services password (with --add; default $CC_DEVICE_PASSWORD)',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      targets: string[],
      options: ServerOptions &
        CredentialOptions & { port: string; timeoutMs: string; add?: boolean; json?: boolean },
    ) => {
      const ports = options.port.split(',').map((p) => Number(p.trim()));
      if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
        throw new CcError('BAD_REQUEST', '--port takes ports 1–65535, comma-separated');
      }
      const timeoutMs = Number(options.timeoutMs);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000) {
        throw new CcError('BAD_REQUEST', '--timeout-ms must be 100–30000');
      }
      const cred = options.add ? credential(options) : undefined;
      await withApi(options, async (api) => {
        if (!options.json)
          process.stderr.write(`probing ${targets.join(' ')} on port(s) ${ports.join(',')} …\n`);
        const result = await api.call<DiscoverAnswer>('POST', '/api/v1/devices/discover', {
          targets,
          ports,
          timeoutMs,
        });
        const added: string[] = [];
        if (cred !== undefined) {
          for (const f of result.found.filter((x) => !x.registered)) {
            await api.call('POST', '/api/v1/devices', {
              url: f.baseUrl,
              fingerprint: f.fingerprint256,
              ...cred,
            });
            added.push(f.identity.id);
            if (!options.json) process.stderr.write(`added ${f.identity.id} (${f.baseUrl})\n`);
          }
        }
        print(options.json, { ...result, added }, () => {
          const table = renderTable(
            ['DEVICE', 'KIND', 'MODEL', 'ADDRESS', 'REGISTERED', 'SHA-256 FINGERPRINT'],
            result.found.map((f) => [
              f.identity.id,
              f.identity.kind,
              f.identity.model,
              f.baseUrl,
              f.registered || added.includes(f.identity.id) ? 'yes' : 'no',
              f.fingerprint256,
            ]),
          );
          const failures = Object.entries(result.failures)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          return (
            `${table}${result.found.length} device(s) found; ${result.probed}/${result.total} probed in ` +
            `${(result.durationMs / 1000).toFixed(1)} s${failures ? ` (no device: ${failures})` : ''}` +
            `${result.truncated ? '; stopped at the time limit' : ''}\n`
          );
        });
      });
    },
  );
}
