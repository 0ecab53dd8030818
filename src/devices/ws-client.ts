// The server's client of device Web Services (DESIGN §4.3).
//
// Devices present self-signed certificates, so the usual chain check cannot say who answers; the
// server pins each device's certificate instead. `probe` is the only call that accepts any
// certificate: it is anonymous (identity only, no credential) and reports what it saw so an admin
// can approve it. Every other call goes through a keep-alive pool per device whose connector
// compares the presented certificate's SHA-256 fingerprint with the pinned one before a byte of
// the request — credential included — is written.
//
// Answers are bounded (Content-Length and a streamed count), time-limited, never followed through
// redirects, and validated against the contract's schemas; anything else is a CcError with a
// DEVICE_* code the poller and the API understand.

import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import {
  CcError,
  isCcError,
  WEB_SERVICES_PREFIX,
  type WsActionResult,
  type WsAlerts,
  type WsConsumables,
  type WsFirmwareStatus,
  type WsIdentity,
  type WsJobAction,
  type WsJobs,
  type WsStatus,
} from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { wsValidators, type Checker } from './ws-schemas.js';
import {
  createPinnedConnector,
  PIN_MISMATCH,
  serverName,
  type PinMismatchError,
} from './pinned-connector.js';

export interface DeviceCredential {
  username: string;
  password: string;
}

/** Where and how to reach one approved device. */
export interface DeviceEndpoint {
  /** `https://host:port`, as normalizeBaseUrl returns it. */
  baseUrl: string;
  /** The pinned certificate: SHA-256, upper-case hex pairs joined by colons. */
  fingerprint256: string;
  credential: DeviceCredential;
}

export interface ProbeResult {
  identity: WsIdentity;
  fingerprint256: string;
  certificate: {
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    selfSigned: boolean;
  };
}

export interface WsClientOptions {
  /** Per request, connect to last byte. */
  timeoutMs: number;
  /** Largest answer body accepted. */
  maxResponseBytes: number;
  /** Keep-alive connections per device. */
  connectionsPerDevice: number;
  /** How long an idle connection is kept. */
  keepAliveMs: number;
  logger: Logger;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WsClient {
  /** Anonymous `GET identity` accepting any certificate; reports the certificate it saw. */
  probe(baseUrl: string, options?: RequestOptions): Promise<ProbeResult>;
  identity(endpoint: DeviceEndpoint, signal?: AbortSignal): Promise<WsIdentity>;
  status(endpoint: DeviceEndpoint, signal?: AbortSignal): Promise<WsStatus>;
  consumables(endpoint: DeviceEndpoint, signal?: AbortSignal): Promise<WsConsumables>;
  alerts(endpoint: DeviceEndpoint, signal?: AbortSignal): Promise<WsAlerts>;
  /** Jobs changed at or after `since` (all the device keeps when null). */
  jobs(endpoint: DeviceEndpoint, since: string | null, signal?: AbortSignal): Promise<WsJobs>;
  jobAction(
    endpoint: DeviceEndpoint,
    jobId: string,
    action: WsJobAction,
    signal?: AbortSignal,
  ): Promise<WsActionResult>;
  acknowledgeAlert(
    endpoint: DeviceEndpoint,
    alertId: string,
    signal?: AbortSignal,
  ): Promise<WsActionResult>;
  firmwareStatus(endpoint: DeviceEndpoint, signal?: AbortSignal): Promise<WsFirmwareStatus>;
  /** Closes the device's connections (after removal or a new pin). */
  forget(baseUrl: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `host`, `host:port`, `[v6]:port` or an `https://` URL without path → `https://host:port`.
 * Plain HTTP, credentials in the URL, paths, queries and fragments are refused.
 */
export function normalizeBaseUrl(input: string): string {
  const text = input.trim();
  if (text === '' || text.length > 300) {
    throw new CcError(
      'VALIDATION_FAILED',
      'a device address is a host name or IP, with an optional port',
    );
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CcError('VALIDATION_FAILED', `"${text}" is not a device address`);
  }
  if (url.protocol !== 'https:') {
    throw new CcError(
      'VALIDATION_FAILED',
      `device Web Services are HTTPS only; "${url.protocol}" is not accepted`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new CcError(
      'VALIDATION_FAILED',
      'put the device credential in the username and password fields, not in the address',
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new CcError(
      'VALIDATION_FAILED',
      `a device address has no path or query (the server adds ${WEB_SERVICES_PREFIX}/…)`,
    );
  }
  if (url.hostname === '') throw new CcError('VALIDATION_FAILED', 'the device address has no host');
  const port = url.port === '' ? 443 : Number(url.port);
  return `https://${url.hostname}:${port}`;
}

function firstError(
  checker: { Errors(v: unknown): Iterable<{ instancePath: string; message: string }> },
  value: unknown,
): string {
  for (const e of checker.Errors(value)) {
    return `${e.instancePath === '' ? '/' : e.instancePath} ${e.message}`;
  }
  return 'answer does not match the contract';
}

/** A device error from what Node or undici threw. */
function deviceError(err: unknown, baseUrl: string, timedOut: boolean): CcError {
  if (isCcError(err)) return err;
  if (timedOut) return new CcError('DEVICE_TIMEOUT', `${baseUrl} did not answer in time`);
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e.code === PIN_MISMATCH) {
    const presented = (err as PinMismatchError).presented;
    return new CcError(
      'DEVICE_CERTIFICATE_MISMATCH',
      `${baseUrl} presented a certificate that is not the approved one`,
      presented === null ? {} : { presented },
    );
  }
  const cause = e.cause as { code?: string } | undefined;
  const code = e.code ?? cause?.code ?? '';
  if (code.startsWith('UND_ERR_') && code.includes('TIMEOUT')) {
    return new CcError('DEVICE_TIMEOUT', `${baseUrl} did not answer in time`);
  }
  if (code === 'ETIMEDOUT')
    return new CcError('DEVICE_TIMEOUT', `${baseUrl} did not answer in time`);
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE'
          ? 'connection reset'
          : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
            ? 'no route to host'
            : code !== ''
              ? code
              : (e.message ?? 'unknown error');
  return new CcError('DEVICE_UNREACHABLE', `${baseUrl} is unreachable: ${reason}`);
}

/** True when the caller's own deadline (an AbortSignal.timeout) ended the request. */
function isTimeout(signal: AbortSignal | undefined): boolean {
  const reason: unknown = signal?.aborted === true ? signal.reason : undefined;
  return (
    (reason instanceof Error || reason instanceof DOMException) && reason.name === 'TimeoutError'
  );
}

/** Reads a body up to `max` bytes; more is an error and the stream is destroyed. */
async function readBounded(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy?: (err?: Error) => void },
  max: number,
  baseUrl: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy?.();
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `${baseUrl} sent an answer over ${max} bytes; refused`,
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

function validated<T>(checker: Checker<T>, value: unknown, baseUrl: string, path: string): T {
  if (checker.Check(value)) return value;
  throw new CcError(
    'DEVICE_BAD_RESPONSE',
    `${baseUrl}${path} answered outside the contract: ${firstError(checker, value)}`,
  );
}

/** The device's error message, or a fallback when the body is not a contract error. */
function deviceMessage(body: unknown, fallback: string): string {
  return wsValidators.error.Check(body) ? body.error.message : fallback;
}

function isJsonType(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (value === undefined) return true; // lenient: some firmware omits it; the parse decides
  return /^application\/([a-z0-9.+-]*\+)?json\b/i.test(value.trim());
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export function createWsClient(options: WsClientOptions): WsClient {
  const log = options.logger;
  const pools = new Map<string, { fingerprint: string; pool: Pool }>();
  const probing = new Set<AbortController>();
  let closed = false;

  function poolFor(endpoint: DeviceEndpoint): Pool {
    const existing = pools.get(endpoint.baseUrl);
    if (existing !== undefined && existing.fingerprint === endpoint.fingerprint256) {
      return existing.pool;
    }
    if (existing !== undefined) {
      pools.delete(endpoint.baseUrl);
      void existing.pool.destroy().catch(() => undefined);
    }
    const expected = endpoint.fingerprint256;
    const connect = createPinnedConnector({
      baseUrl: endpoint.baseUrl,
      fingerprint256: expected,
      timeoutMs: options.timeoutMs,
    });
    const pool = new Pool(endpoint.baseUrl, {
      connect,
      connections: options.connectionsPerDevice,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: options.keepAliveMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    pools.set(endpoint.baseUrl, { fingerprint: expected, pool });
    return pool;
  }

  async function call(
    endpoint: DeviceEndpoint,
    method: 'GET' | 'POST',
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    if (closed) throw new CcError('DEVICE_UNREACHABLE', 'the Web Services client is closed');
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new DOMException('the device did not answer in time', 'TimeoutError'));
    }, options.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const pool = poolFor(endpoint);
    const auth = Buffer.from(
      `${endpoint.credential.username}:${endpoint.credential.password}`,
    ).toString('base64');
    let response: Dispatcher.ResponseData | undefined;
    try {
      response = await pool.request({
        method,
        path: `${WEB_SERVICES_PREFIX}${path}`,
        headers: {
          authorization: `Basic ${auth}`,
          accept: 'application/json',
          ...(method === 'POST' ? { 'content-length': '0' } : {}),
        },
        signal: controller.signal,
      });
      return await readAnswer(response, endpoint.baseUrl, path);
    } catch (err) {
      if (response !== undefined && !response.body.destroyed) {
        response.body.on('error', () => undefined);
        response.body.destroy();
      }
      throw deviceError(err, endpoint.baseUrl, isTimeout(controller.signal));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function readAnswer(
    response: Dispatcher.ResponseData,
    baseUrl: string,
    path: string,
  ): Promise<Answer> {
    const { statusCode: status, headers } = response;
    const length = Number(headers['content-length']);
    if (Number.isFinite(length) && length > options.maxResponseBytes) {
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `${baseUrl}${path} announced ${length} bytes, over the ${options.maxResponseBytes}-byte limit; refused`,
      );
    }
    if (status >= 300 && status < 400) {
      const location = headers.location;
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `${baseUrl}${path} answered with a redirect (${status}${location ? ` to ${String(location)}` : ''}); redirects are refused`,
      );
    }
    const raw = await readBounded(response.body, options.maxResponseBytes, baseUrl);
    let body: unknown = null;
    if (raw.length > 0 && isJsonType(headers['content-type'])) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        if (status < 300)
          throw new CcError(
            'DEVICE_BAD_RESPONSE',
            `${baseUrl}${path} answered with malformed JSON`,
          );
      }
    } else if (status < 300) {
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `${baseUrl}${path} answered ${raw.length === 0 ? 'with an empty body' : `with ${String(headers['content-type'])}, not JSON`}`,
      );
    }
    return { status, headers, body };
  }

  function failure(answer: Answer, baseUrl: string, path: string, action: boolean): CcError {
    const { status, body } = answer;
    if (status === 401 || status === 403) {
      return new CcError(
        'DEVICE_AUTH_FAILED',
        `${baseUrl} refused the device credential (HTTP ${status}); update it on the device's registration`,
      );
    }
    if (action && status === 409) {
      return new CcError('DEVICE_REJECTED', deviceMessage(body, 'the device refused the action'));
    }
    if (action && status === 404) {
      return new CcError('NOT_FOUND', deviceMessage(body, 'the device does not know that id'));
    }
    return new CcError(
      'DEVICE_BAD_RESPONSE',
      `${baseUrl}${path} answered HTTP ${status}${wsValidators.error.Check(body) ? `: ${body.error.message}` : ''}`,
    );
  }

  async function get<T>(
    endpoint: DeviceEndpoint,
    path: string,
    checker: Checker<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const answer = await call(endpoint, 'GET', path, signal);
    if (answer.status !== 200) throw failure(answer, endpoint.baseUrl, path, false);
    return validated(checker, answer.body, endpoint.baseUrl, path);
  }

  async function post(
    endpoint: DeviceEndpoint,
    path: string,
    signal?: AbortSignal,
  ): Promise<WsActionResult> {
    const answer = await call(endpoint, 'POST', path, signal);
    if (answer.status !== 200) throw failure(answer, endpoint.baseUrl, path, true);
    const result = validated(wsValidators.action, answer.body, endpoint.baseUrl, path);
    if (!result.accepted)
      throw new CcError('DEVICE_REJECTED', result.message || 'the device refused the action');
    return result;
  }

  function probe(baseUrl: string, requestOptions: RequestOptions = {}): Promise<ProbeResult> {
    if (closed)
      return Promise.reject(new CcError('DEVICE_UNREACHABLE', 'the Web Services client is closed'));
    const url = new URL(`${normalizeBaseUrl(baseUrl)}${WEB_SERVICES_PREFIX}/identity`);
    const origin = `https://${url.host}`;
    const timeoutMs = requestOptions.timeoutMs ?? options.timeoutMs;
    const controller = new AbortController();
    probing.add(controller);
    const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
    const onAbort = () => controller.abort(requestOptions.signal?.reason);
    requestOptions.signal?.addEventListener('abort', onAbort, { once: true });
    const sni = serverName(url.hostname);
    const cleanup = () => {
      clearTimeout(timer);
      probing.delete(controller);
      requestOptions.signal?.removeEventListener('abort', onAbort);
    };
    return new Promise<ProbeResult>((resolve, reject) => {
      let timedOut = false;
      controller.signal.addEventListener('abort', () => {
        timedOut = requestOptions.signal?.aborted !== true || isTimeout(requestOptions.signal);
      });
      const req = httpsRequest(
        url,
        {
          method: 'GET',
          agent: false,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
          headers: { accept: 'application/json' },
          signal: controller.signal,
          ...(sni === undefined ? {} : { servername: sni }),
        },
        (res: IncomingMessage) => {
          const peer: Partial<PeerCertificate> | undefined =
            res.socket instanceof TLSSocket ? res.socket.getPeerCertificate(false) : undefined;
          const raw = peer?.raw;
          const certificate = raw === undefined ? undefined : new X509Certificate(raw);
          const headers = res.headers;
          void (async () => {
            if (certificate === undefined) {
              throw new CcError('DEVICE_BAD_RESPONSE', `${origin} presented no certificate`);
            }
            const answer = await readAnswer(
              {
                statusCode: res.statusCode ?? 0,
                headers,
                body: res,
              } as unknown as Dispatcher.ResponseData,
              origin,
              '/identity',
            );
            if (answer.status !== 200) throw failure(answer, origin, '/identity', false);
            const identity = validated(wsValidators.identity, answer.body, origin, '/identity');
            return {
              identity,
              fingerprint256: certificate.fingerprint256,
              certificate: {
                subject: certificate.subject,
                issuer: certificate.issuer,
                validFrom: certificate.validFrom,
                validTo: certificate.validTo,
                selfSigned:
                  certificate.subject === certificate.issuer &&
                  certificate.verify(certificate.publicKey),
              },
            };
          })().then(resolve, (err: unknown) => {
            res.destroy();
            reject(deviceError(err, origin, timedOut));
          });
        },
      );
      req.on('error', (err) => reject(deviceError(err, origin, timedOut)));
      req.end();
    }).finally(cleanup);
  }

  return {
    probe,
    identity: (ep, signal) => get(ep, '/identity', wsValidators.identity, signal),
    status: (ep, signal) => get(ep, '/status', wsValidators.status, signal),
    consumables: (ep, signal) => get(ep, '/consumables', wsValidators.consumables, signal),
    alerts: (ep, signal) => get(ep, '/alerts', wsValidators.alerts, signal),
    jobs: (ep, since, signal) =>
      get(
        ep,
        since === null ? '/jobs' : `/jobs?since=${encodeURIComponent(since)}`,
        wsValidators.jobs,
        signal,
      ),
    jobAction: (ep, jobId, action, signal) =>
      post(ep, `/jobs/${encodeURIComponent(jobId)}/${action}`, signal),
    acknowledgeAlert: (ep, alertId, signal) =>
      post(ep, `/alerts/${encodeURIComponent(alertId)}/acknowledge`, signal),
    firmwareStatus: (ep, signal) => get(ep, '/firmware/status', wsValidators.firmware, signal),
    async forget(baseUrl) {
      const entry = pools.get(baseUrl);
      if (entry === undefined) return;
      pools.delete(baseUrl);
      await entry.pool.destroy().catch(() => undefined);
    },
    async close() {
      closed = true;
      for (const c of probing) c.abort(new Error('client closed'));
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((e) => e.pool.destroy().catch(() => undefined)));
      log.debug({ pools: all.length }, 'Web Services client closed');
    },
  };
}
