// How CLI commands that act on a running server reach it: the server URL (--server, CC_SERVER, or
// this machine's server found through its data directory), the certificate to trust (--ca, CC_CA,
// or the data directory's own), and an API token (--token, CC_TOKEN, or the one `command-center
// login` saved). Errors come back as CcErrors with the server's code and message. The live stream
// (WebSocket) is opened with the same resolution.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Agent, request, type Dispatcher } from 'undici';
import WebSocket from 'ws';
import { loadConfig } from '../config/index.js';
import { CcError, ERROR_STATUS, type ErrorCode } from '../domain/index.js';
import { readPortsState } from '../net/index.js';
import { readSavedToken } from './saved-credentials.js';

export interface ServerOptions {
  server?: string;
  ca?: string;
  token?: string;
  config?: string;
  dataDir?: string;
}

export function addServerOptions(command: Command): Command {
  return command
    .option(
      '--server <url>',
      'server URL, e.g. https://cc.example:8443; default $CC_SERVER or this machine’s server',
    )
    .option(
      '--ca <file>',
      'CA certificate (PEM) to trust for the server; default $CC_CA or the data directory’s',
    )
    .option(
      '--token <token>',
      'API token; default $CC_TOKEN or the one saved by `command-center login`',
    )
    .option('-c, --config <file>', 'configuration file, to find this machine’s server')
    .option('-d, --data-dir <dir>', 'data directory, to find this machine’s server');
}

export interface ApiClient {
  readonly base: string;
  call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T>;
  close(): Promise<void>;
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && code in ERROR_STATUS;
}

/** Finds the server URL and CA; the token is left to `connectApi`. */
export async function resolveServer(
  options: ServerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ base: string; ca: string | undefined }> {
  const explicit = options.server ?? env.CC_SERVER;
  const caFile = options.ca ?? env.CC_CA;
  let base: string;
  let localCa: string | undefined;
  if (explicit !== undefined && explicit !== '') {
    let url: URL;
    try {
      url = new URL(explicit);
    } catch {
      throw new CcError('BAD_REQUEST', `--server ${explicit} is not a URL`);
    }
    if (url.protocol !== 'https:') {
      throw new CcError('BAD_REQUEST', '--server must be an https:// URL');
    }
    base = url.origin;
  } else {
    const { config } = loadConfig({
      file: options.config,
      env,
      overrides: options.dataDir === undefined ? {} : { dataDir: options.dataDir },
    });
    const ports = await readPortsState(join(config.dataDir, 'ports.json'));
    const https = ports.get('https');
    if (https === undefined) {
      throw new CcError(
        'BAD_REQUEST',
        `no server found in ${config.dataDir} (no ports.json): start one, or give --server <url>`,
      );
    }
    base = `https://localhost:${https}`;
    const cert = join(config.dataDir, 'tls', 'server.crt');
    if (existsSync(cert)) localCa = cert;
  }
  const caPath = caFile ?? localCa;
  const ca =
    caPath === undefined
      ? undefined
      : await readFile(caPath, 'utf8').catch(() => {
          throw new CcError('BAD_REQUEST', `cannot read the CA certificate ${caPath}`);
        });
  return { base, ca };
}

/** The API token: --token, then $CC_TOKEN, then the one `command-center login` saved for `base`. */
export async function resolveToken(
  options: ServerOptions,
  base: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const token = options.token ?? env.CC_TOKEN ?? (await readSavedToken(base, env));
  return token === undefined || token === '' ? undefined : token;
}

function noTokenError(base: string): CcError {
  return new CcError(
    'UNAUTHENTICATED',
    `no API token for ${base}: run \`command-center login\`, or give --token / CC_TOKEN`,
  );
}

// Certificate verification failures (OpenSSL's X509 names, Node's ERR_TLS_CERT_ALTNAME_INVALID)
// and handshakes that failed otherwise (e.g. the port speaks plain HTTP).
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_/;
const HANDSHAKE_ERROR = /^ERR_SSL_|^ERR_TLS_|^EPROTO$/;

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  return typeof code === 'string' ? code : errorCode(cause);
}

/**
 * What a failed connection to the server means for the user: a certificate that is not trusted
 * (TLS_INVALID, with what to do) or a server that cannot be reached.
 */
export function connectionFailure(err: unknown, base: string): CcError {
  const reason = err instanceof Error ? err.message : String(err);
  const code = errorCode(err) ?? '';
  if (CERTIFICATE_ERROR.test(code)) {
    return new CcError(
      'TLS_INVALID',
      `the certificate of ${base} is not trusted (${reason}): give the server’s certificate with ` +
        `--ca <file> or CC_CA (download it from http://<host>:<http port>/ca.crt)`,
    );
  }
  if (HANDSHAKE_ERROR.test(code)) {
    // OpenSSL's message is "<id>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:".
    const openssl = /SSL routines:[^:]*:([^:]+)/.exec(reason)?.[1] ?? reason.split('\n')[0];
    return new CcError(
      'TLS_INVALID',
      `TLS with ${base} failed (${openssl ?? reason}): is it the server’s HTTPS port?`,
    );
  }
  return new CcError('SERVER_UNREACHABLE', `cannot reach the server at ${base}: ${reason}`);
}

/** Adds what to do to a refused credential: log in again or give another token. */
export function withLoginHint<E>(err: E): E | CcError {
  if (
    err instanceof CcError &&
    (err.code === 'UNAUTHENTICATED' ||
      err.code === 'SESSION_EXPIRED' ||
      err.code === 'INVALID_CREDENTIALS') &&
    !err.message.includes('command-center login')
  ) {
    return new CcError(
      err.code,
      `${err.message}: run \`command-center login\`, or give a valid --token / CC_TOKEN`,
    );
  }
  return err;
}

/** Where and how to open the live stream (GET /api/v1/stream) with the same resolution as the API. */
export interface StreamTarget {
  base: string;
  url: string;
  ca: string | undefined;
  token: string;
}

export async function resolveStreamTarget(
  options: ServerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StreamTarget> {
  const { base, ca } = await resolveServer(options, env);
  const token = await resolveToken(options, base, env);
  if (token === undefined) throw noTokenError(base);
  return { base, url: `${base.replace(/^https:/, 'wss:')}/api/v1/stream`, ca, token };
}

/** Opens one WebSocket to the live stream, authenticated with the API token as Bearer. */
export function openStream(target: StreamTarget, handshakeTimeoutMs = 15_000): WebSocket {
  return new WebSocket(target.url, {
    ...(target.ca ? { ca: target.ca } : {}),
    minVersion: 'TLSv1.2',
    headers: { authorization: `Bearer ${target.token}` },
    handshakeTimeout: handshakeTimeoutMs,
  });
}

export async function connectApi(
  options: ServerOptions,
  env: NodeJS.ProcessEnv = process.env,
  { needToken = true }: { needToken?: boolean } = {},
): Promise<ApiClient> {
  const { base, ca } = await resolveServer(options, env);
  const token = await resolveToken(options, base, env);
  if (needToken && token === undefined) throw noTokenError(base);
  const agent = new Agent({ connect: { ...(ca ? { ca } : {}), minVersion: 'TLSv1.2' } });
  return {
    base,
    async call<T>(method: Parameters<ApiClient['call']>[0], path: string, body?: unknown) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${base}${path}`, {
          method,
          headers,
          dispatcher: agent,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          headersTimeout: 180_000,
          bodyTimeout: 180_000,
        });
      } catch (err) {
        throw connectionFailure(err, base);
      }
      const text = await res.body.text();
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      if (res.statusCode >= 400) {
        const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)
          ?.error;
        const code = isErrorCode(error?.code) ? error.code : 'INTERNAL';
        const message =
          typeof error?.message === 'string' ? error.message : `HTTP ${res.statusCode}`;
        throw new CcError(code, message);
      }
      return parsed as T;
    },
    close: () => agent.close(),
  };
}

/** Connects, runs `fn` with the client, and always closes it. */
export async function withApi<T>(
  options: ServerOptions,
  fn: (api: ApiClient) => Promise<T>,
): Promise<T> {
  const api = await connectApi(options);
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}
