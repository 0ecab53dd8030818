// Pushing a firmware package to one device over its Web Services (DESIGN §4.3, §4.5), for the
// rollout engine. The package is streamed to `POST /ws/v1/firmware` over a connection that trusts
// only the device's pinned certificate, with the server's stored credential; then
// `GET /ws/v1/firmware/status` is followed until the device has installed the package, refused it or
// failed, or time runs out. The device verifies the package itself: its refusal comes back as given.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'undici';
import { CcError, isCcError, WEB_SERVICES_PREFIX, type WsFirmwareStatus } from '../domain/index.js';
import { FIRMWARE_ERROR_STATUS } from '../firmware/index.js';
import type { Logger } from '../observability/index.js';
import { createPinnedConnector, pinMismatchOf } from './pinned-connector.js';
import type { DeviceRegistry } from './registry.js';
import type { DeviceEndpoint, WsClient } from './ws-client.js';
import { wsValidators } from './ws-schemas.js';

export interface FirmwarePushResult {
  /**
   * `installed`: the device reports the update done (`firmwareVersion` is what it runs now);
   * `refused`: the device would not take the package (its checks, its size limit, an update under
   * way); `failed`: the transfer, the installation or the wait for an outcome failed.
   */
  outcome: 'installed' | 'refused' | 'failed';
  /** Why, in the device's words when it gave them; null when installed. */
  reason: string | null;
  /** The version the device last reported; null when it never answered. */
  firmwareVersion: string | null;
}

export interface FirmwarePushProgress {
  phase: 'transferring' | 'verifying' | 'installing';
  /** 0–100, null when the device does not say. */
  percent: number | null;
}

export interface FirmwarePushOptions {
  /** Aborting rejects the push with the signal's reason (the device may still finish on its own). */
  signal?: AbortSignal;
  /** Bound on the whole push: transfer, verification and installation. */
  timeoutMs: number;
  /** Called in phase order, with non-decreasing percents within a phase. */
  onProgress?: (p: FirmwarePushProgress) => void;
}

export interface FirmwarePush {
  /**
   * Streams the package file to the device's `POST /ws/v1/firmware` over its pinned connection (the
   * server's stored device credential), then follows `GET /ws/v1/firmware/status` until installed,
   * failed or timed out.
   *
   * Throws a CcError, before anything is sent, for a device that is not registered
   * (DEVICE_NOT_FOUND), has no Web Services address (DEVICE_NO_WEB_SERVICES) or no approved
   * certificate or credential (DEVICE_NOT_APPROVED); and for a device that presents another
   * certificate than the pinned one (DEVICE_CERTIFICATE_MISMATCH: reported to the registry, which
   * stops polling it and alerts admins) or refuses the stored credential (DEVICE_AUTH_FAILED).
   * Everything else — unreachable, refused, failed, timed out — is the result.
   */
  push(
    deviceId: string,
    packageFile: string,
    options: FirmwarePushOptions,
  ): Promise<FirmwarePushResult>;
}

export interface FirmwarePushService extends FirmwarePush {
  /** Ends pushes under way (they resolve as failed) and refuses new ones. */
  stop(): Promise<void>;
}

export interface FirmwarePushDeps {
  registry: Pick<DeviceRegistry, 'get' | 'endpoint' | 'reportMismatch'>;
  /** Reads the firmware status over the pooled, pinned connections. */
  client: Pick<WsClient, 'firmwareStatus'>;
  logger: Logger;
  /** Connect and TLS handshake of the upload connection, ms. */
  connectTimeoutMs: number;
  /** Between two status reads (default 500 ms). */
  pollIntervalMs?: number;
}

/** What a push saw last, to say where it stood when time ran out. */
interface Seen {
  last: WsFirmwareStatus | null;
  error: string | null;
  progress: FirmwarePushProgress | null;
}

const DEFAULT_POLL_INTERVAL_MS = 500;
const MAX_ANSWER_BYTES = 64 * 1024;
const PHASES: readonly FirmwarePushProgress['phase'][] = [
  'transferring',
  'verifying',
  'installing',
];
const REFUSAL_CODES: ReadonlySet<string> = new Set(Object.keys(FIRMWARE_ERROR_STATUS));

/** Passes progress on in phase order, each percent once and never backwards. */
function monotonic(
  listener: ((p: FirmwarePushProgress) => void) | undefined,
): (p: FirmwarePushProgress) => void {
  let rank = -1;
  let percent: number | null = null;
  return (p) => {
    const next = PHASES.indexOf(p.phase);
    if (listener === undefined || next < rank) return;
    if (next === rank && (p.percent === null || (percent !== null && p.percent <= percent))) return;
    rank = next;
    percent = p.percent;
    listener(p);
  };
}

function describe(status: WsFirmwareStatus): string {
  const progress = status.progress == null ? '' : ` ${status.progress} %`;
  return `${status.state}${progress}${status.message === null ? '' : `: ${status.message}`}`;
}

/** A short reason for a transfer that broke (the device's own words come from its answers). */
function transferReason(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    return 'connection reset';
  }
  if (code.includes('TIMEOUT')) return 'the device did not answer in time';
  return e.message ?? String(err);
}

async function readAnswer(body: AsyncIterable<Buffer | Uint8Array>): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) return null;
    chunks.push(Buffer.from(chunk));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

export function createFirmwarePush(deps: FirmwarePushDeps): FirmwarePushService {
  const { registry, client } = deps;
  const log = deps.logger;
  const pollIntervalMs = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const stopping = new AbortController();
  const stopped = (): boolean => stopping.signal.aborted;
  const running = new Set<Promise<unknown>>();

  async function endpointOf(deviceId: string): Promise<DeviceEndpoint> {
    const reg = await registry.get(deviceId);
    if (reg === undefined) {
      throw new CcError('DEVICE_NOT_FOUND', `no device ${deviceId} is registered`);
    }
    if (reg.baseUrl === null) {
      throw new CcError(
        'DEVICE_NO_WEB_SERVICES',
        `device ${deviceId} has no Web Services address; firmware is pushed over Web Services`,
      );
    }
    if (reg.pinState !== 'pinned') {
      throw new CcError(
        'DEVICE_NOT_APPROVED',
        reg.pinState === 'mismatch'
          ? `device ${deviceId} presented a changed certificate; an admin must approve it first`
          : `the certificate of device ${deviceId} is not approved yet`,
      );
    }
    const endpoint = await registry.endpoint(deviceId);
    if (endpoint === undefined) {
      throw new CcError('DEVICE_NOT_APPROVED', `device ${deviceId} has no stored credential`);
    }
    return endpoint;
  }

  /** The device presented another certificate: stop trusting it, tell the admin, refuse. */
  async function mismatch(deviceId: string, presented: string | null): Promise<CcError> {
    if (presented !== null) await registry.reportMismatch(deviceId, presented);
    return new CcError(
      'DEVICE_CERTIFICATE_MISMATCH',
      `device ${deviceId} presented a certificate that is not the approved one; nothing was sent`,
      presented === null ? {} : { presented },
    );
  }

  /** Streams the package; null once the device accepted it (202), else the result it answered. */
  async function transfer(
    deviceId: string,
    endpoint: DeviceEndpoint,
    file: string,
    size: number,
    signal: AbortSignal,
    progress: (p: FirmwarePushProgress) => void,
  ): Promise<FirmwarePushResult | null> {
    const upload = new Client(endpoint.baseUrl, {
      connect: createPinnedConnector({
        baseUrl: endpoint.baseUrl,
        fingerprint256: endpoint.fingerprint256,
        timeoutMs: deps.connectTimeoutMs,
      }),
      // The answer comes after the last byte of a package that may take long to send: the push's
      // own deadline bounds the wait instead.
      headersTimeout: 0,
      bodyTimeout: deps.connectTimeoutMs,
      pipelining: 1,
    });
    let sent = 0;
    async function* chunks(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
        const bytes = chunk as Buffer;
        sent += bytes.length;
        progress({ phase: 'transferring', percent: Math.floor((sent / size) * 100) });
        yield bytes;
      }
    }
    const { username, password } = endpoint.credential;
    try {
      progress({ phase: 'transferring', percent: 0 });
      const response = await upload.request({
        method: 'POST',
        path: `${WEB_SERVICES_PREFIX}/firmware`,
        headers: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          accept: 'application/json',
        },
        body: Readable.from(chunks()),
        signal,
      });
      const answer = await readAnswer(response.body);
      const status = response.statusCode;
      const message = wsValidators.error.Check(answer) ? answer.error.message : null;
      if (status === 202) {
        progress({ phase: 'transferring', percent: 100 });
        return null;
      }
      if (status === 401 || status === 403) {
        throw new CcError(
          'DEVICE_AUTH_FAILED',
          `device ${deviceId} refused the stored credential (HTTP ${status}); update it on the device's registration`,
        );
      }
      const reason = message ?? `the device answered HTTP ${status}`;
      // 409: an update under way; 413: over the device's size limit.
      const refused = status === 409 || status === 413;
      return { outcome: refused ? 'refused' : 'failed', reason, firmwareVersion: null };
    } catch (err) {
      const pin = pinMismatchOf(err) ?? pinMismatchOf((err as { cause?: unknown }).cause);
      if (pin !== undefined) throw await mismatch(deviceId, pin.presented);
      if (isCcError(err) || signal.aborted) throw err;
      return {
        outcome: 'failed',
        reason: `the transfer failed after ${sent} of ${size} bytes: ${transferReason(err)}`,
        firmwareVersion: null,
      };
    } finally {
      await upload.destroy().catch(() => undefined);
    }
  }

  /** Follows the device's firmware status until it installed, refused or failed. */
  async function follow(
    deviceId: string,
    endpoint: DeviceEndpoint,
    signal: AbortSignal,
    progress: (p: FirmwarePushProgress) => void,
    seen: Seen,
  ): Promise<FirmwarePushResult> {
    for (;;) {
      let status: WsFirmwareStatus | undefined;
      try {
        status = await client.firmwareStatus(endpoint, signal);
        seen.last = status;
        seen.error = null;
      } catch (err) {
        if (signal.aborted) throw err;
        if (isCcError(err) && err.code === 'DEVICE_CERTIFICATE_MISMATCH') {
          const presented = err.details?.presented;
          throw await mismatch(deviceId, typeof presented === 'string' ? presented : null);
        }
        if (isCcError(err) && err.code === 'DEVICE_AUTH_FAILED') throw err;
        // A device may restart or drop off while it installs: keep asking until the deadline.
        seen.error = err instanceof Error ? err.message : String(err);
      }
      switch (status?.state) {
        case 'idle':
          return { outcome: 'installed', reason: null, firmwareVersion: status.firmwareVersion };
        case 'failed':
          return {
            outcome: REFUSAL_CODES.has(status.code ?? '') ? 'refused' : 'failed',
            reason: status.message ?? 'the device reports that the update failed',
            firmwareVersion: status.firmwareVersion,
          };
        case 'verifying':
        case 'installing':
          progress({ phase: status.state, percent: status.progress ?? null });
          break;
        case 'receiving':
        case undefined:
          break;
      }
      await delay(pollIntervalMs, undefined, { signal });
    }
  }

  async function push(
    deviceId: string,
    packageFile: string,
    options: FirmwarePushOptions,
  ): Promise<FirmwarePushResult> {
    if (stopped()) throw new CcError('INTERNAL', 'the server is stopping');
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new CcError(
        'BAD_REQUEST',
        `timeoutMs must be a positive number (got ${options.timeoutMs})`,
      );
    }
    const endpoint = await endpointOf(deviceId);
    const size = await stat(packageFile).then(
      (s) => s.size,
      (err: unknown) => {
        throw new CcError('INTERNAL', `cannot read the package ${packageFile}: ${String(err)}`);
      },
    );
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = AbortSignal.any([
      deadline,
      stopping.signal,
      ...(options.signal ? [options.signal] : []),
    ]);
    const seen: Seen = { last: null, error: null, progress: null };
    const report = monotonic(options.onProgress);
    const progress = (p: FirmwarePushProgress): void => {
      seen.progress = p;
      report(p);
    };
    log.info({ deviceId, packageFile, bytes: size }, 'pushing firmware to a device');
    try {
      const refused = await transfer(deviceId, endpoint, packageFile, size, signal, progress);
      const result = refused ?? (await follow(deviceId, endpoint, signal, progress, seen));
      log.info({ deviceId, ...result }, 'firmware push finished');
      return result;
    } catch (err) {
      options.signal?.throwIfAborted();
      if (!signal.aborted) throw err;
      const why = stopped()
        ? 'the server stopped before the device finished'
        : `no outcome within ${options.timeoutMs} ms`;
      const last =
        seen.last !== null
          ? ` (last seen: ${describe(seen.last)})`
          : seen.progress !== null
            ? ` (${seen.progress.phase}${seen.progress.percent === null ? '' : ` ${seen.progress.percent} %`})`
            : '';
      const error = seen.error === null ? '' : ` (last error: ${seen.error})`;
      const result: FirmwarePushResult = {
        outcome: 'failed',
        reason: `${why}${last}${error}`,
        firmwareVersion: seen.last?.firmwareVersion ?? null,
      };
      log.warn({ deviceId, ...result }, 'firmware push ended without an outcome');
      return result;
    }
  }

  return {
    push(deviceId, packageFile, options) {
      const run = push(deviceId, packageFile, options);
      running.add(run);
      void run.finally(() => running.delete(run)).catch(() => undefined);
      return run;
    },
    async stop() {
      stopping.abort(new CcError('INTERNAL', 'the server is stopping'));
      await Promise.allSettled([...running]);
    },
  };
}
