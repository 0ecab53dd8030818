// `command-center login`: logs in to a server with a user name and password, creates an API token
// for this machine and saves it (0600) so later commands use it without --token.

import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { CcError } from '../../domain/index.js';
import { addServerOptions, resolveServer, type ServerOptions } from '../api-client.js';
import { saveToken } from '../saved-credentials.js';

interface LoginOptions extends ServerOptions {
  username: string;
  passwordStdin?: boolean;
  days: string;
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (process.env.CC_PASSWORD) return process.env.CC_PASSWORD;
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: !fromStdin && process.stdin.isTTY,
  });
  if (!fromStdin && process.stdin.isTTY) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    process.stderr.write('password: ');
  }
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (!fromStdin && process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

export function registerLoginCommand(program: Command): void {
  addServerOptions(
    program
      .command('login')
      .description('log in to a server and save an API token for the other commands')
      .requiredOption('-u, --username <name>', 'user name')
      .option(
        '--password-stdin',
        'read the password from standard input (else $CC_PASSWORD or a prompt)',
      )
      .option('--days <n>', 'days the token stays valid', '30'),
  ).action(async (options: LoginOptions) => {
    const days = Number(options.days);
    if (!Number.isInteger(days) || days < 1 || days > 365) {
      throw new CcError('BAD_REQUEST', '--days must be a whole number from 1 to 365');
    }
    const { base, ca } = await resolveServer(options);
    const password = await readPassword(options.passwordStdin === true);
    if (password === '') throw new CcError('BAD_REQUEST', 'no password given');
    const agent = new Agent({ connect: { ...(ca ? { ca } : {}), minVersion: 'TLSv1.2' } });
    try {
      const login = await request(`${base}/api/v1/auth/login`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: options.username, password }),
      });
      const loginBody = (await login.body.json().catch(() => ({}))) as {
        error?: { message?: string };
      };
      if (login.statusCode !== 200) {
        throw new CcError(
          'INVALID_CREDENTIALS',
          loginBody.error?.message ?? `login failed (HTTP ${login.statusCode})`,
        );
      }
      const setCookie = login.headers['set-cookie'];
      const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie ?? ''])
        .map((c) => c.split(';')[0])
        .join('; ');
      const created = await request(`${base}/api/v1/tokens`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ name: `cli@${hostname()}`.slice(0, 100), expiresInDays: days }),
      });
      const body = (await created.body.json().catch(() => ({}))) as {
        token?: string;
        error?: { message?: string };
      };
      if (created.statusCode !== 201 || typeof body.token !== 'string') {
        throw new CcError(
          'FORBIDDEN',
          body.error?.message ?? `cannot create a token (HTTP ${created.statusCode})`,
        );
      }
      await request(`${base}/api/v1/auth/logout`, {
        method: 'POST',
        dispatcher: agent,
        headers: { cookie },
      }).then((r) => r.body.dump());
      const file = await saveToken(base, body.token);
      process.stdout.write(`Logged in to ${base} as ${options.username}; token saved in ${file}\n`);
    } finally {
      await agent.close();
    }
  });
}
