// The proxy's side of a device connection: one keep-alive pool per device, connecting only to the
// registry's address and only through the pinned-certificate connector the Web Services client
// uses, so an integration's call is held to exactly the trust the server itself places in the device.
// Failures become the same DEVICE_* codes the poller and the API use.

import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { CcError, isCcError } from '../domain/index.js';
import { createPinnedConnector, pinMismatchOf, type DeviceEndpoint } from '../devices/index.js';

export interface ForwardRequest {
  endpoint: DeviceEndpoint;
  method: Dispatcher.HttpMethod;
  /** Path and query, origin form. */
  path: string;
  headers: Record<string, string>;
  body: Readable | null;
  signal: AbortSignal;
}

export interface DeviceForwarder {
  request(request: ForwardRequest): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export interface DeviceForwarderOptions {
  timeoutMs: number;
  connectionsPerDevice: number;
  keepAliveMs?: number;
  /** Most device pools kept; the least recently used is closed beyond it. Default 256. */
  maxPools?: number;
}

export function createDeviceForwarder(options: DeviceForwarderOptions): DeviceForwarder {
  const maxPools = options.maxPools ?? 256;
  const keepAliveMs = options.keepAliveMs ?? 10_000;
  const pools = new Map<string, { fingerprint: string; pool: Pool }>();
  let closed = false;

  function dispose(pool: Pool): void {
    void pool.destroy().catch(() => undefined);
  }

  function poolFor(endpoint: DeviceEndpoint): Pool {
    const key = endpoint.baseUrl;
    const existing = pools.get(key);
    if (existing !== undefined) {
      pools.delete(key);
      if (existing.fingerprint === endpoint.fingerprint256) {
        pools.set(key, existing); // most recently used last
        return existing.pool;
      }
      dispose(existing.pool);
    }
    while (pools.size >= maxPools) {
      const oldest = pools.entries().next().value;
      if (oldest === undefined) break;
      pools.delete(oldest[0]);
      dispose(oldest[1].pool);
    }
    const pool = new Pool(endpoint.baseUrl, {
      connect: createPinnedConnector({
        baseUrl: endpoint.baseUrl,
        fingerprint256: endpoint.fingerprint256,
        timeoutMs: options.timeoutMs,
      }),
      connections: options.connectionsPerDevice,
      pipelining: 1,
      keepAliveTimeout: keepAliveMs,
      keepAliveMaxTimeout: keepAliveMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    pools.set(key, { fingerprint: endpoint.fingerprint256, pool });
    return pool;
  }

  return {
    async request(request) {
      if (closed) throw new CcError('DEVICE_UNREACHABLE', 'the API Proxy is stopping');
      return poolFor(request.endpoint).request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
      });
    },
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.pool.destroy().catch(() => undefined)));
    },
  };
}

/** The fingerprint a device presented when `err` (or its cause) is a pin mismatch. */
export function presentedFingerprint(err: unknown): string | null | undefined {
  const direct = pinMismatchOf(err);
  if (direct !== undefined) return direct.presented;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause === undefined ? undefined : pinMismatchOf(cause)?.presented;
}

/** A DEVICE_* error for what undici or Node threw while talking to device `deviceId`. */
export function deviceFailure(err: unknown, deviceId: string, timedOut: boolean): CcError {
  if (isCcError(err)) return err;
  if (timedOut) return new CcError('DEVICE_TIMEOUT', `device ${deviceId} did not answer in time`);
  if (presentedFingerprint(err) !== undefined) {
    return new CcError(
      'DEVICE_CERTIFICATE_MISMATCH',
      `device ${deviceId} presented a certificate that is not the approved one; an admin must approve it`,
    );
  }
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if ((code.startsWith('UND_ERR_') && code.includes('TIMEOUT')) || code === 'ETIMEDOUT') {
    return new CcError('DEVICE_TIMEOUT', `device ${deviceId} did not answer in time`);
  }
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE'
          ? 'connection reset'
          : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
            ? 'no route to host'
            : 'connection failed';
  return new CcError('DEVICE_UNREACHABLE', `device ${deviceId} is unreachable: ${reason}`);
}
