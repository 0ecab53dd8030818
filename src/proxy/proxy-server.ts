// The API Proxy (DESIGN §2, §3): a separate HTTPS listener through which an integration token with
// proxy scope calls a device's own Web Services, `https://server:<port>/devices/<id>/ws/v1/…`.
// Each call is checked in a fixed order — target form, Host, method, token, rate limit, scope,
// device — and only then forwarded to the registry's address for the device over its pinned
// certificate, with the server's credential for it; bodies are streamed within their limits both
// ways, the whole call has a deadline, and every call is counted and audited.

import { randomUUID } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { Auth, Principal } from '../auth/index.js';
import type { PortRange } from '../config/index.js';
import { CcError, ERROR_STATUS, type FleetReader } from '../domain/index.js';
import type { DeviceEndpoint, DeviceRegistry } from '../devices/index.js';
import { listenOnRange, type TlsServerOptions } from '../net/index.js';
import type { Logger, Registry } from '../observability/index.js';
import type { AuditRepository } from '../store/index.js';
import { createDeviceForwarder, deviceFailure, presentedFingerprint } from './device-forwarder.js';
import { createDeviceSlots } from './device-slots.js';
import { asCcError, SECURITY_HEADERS, sendError, sendRawError } from './proxy-answers.js';
import { createProxyAudit, type ProxyCall } from './proxy-audit.js';
import { clientResponseHeaders, deviceRequestHeaders } from './proxy-headers.js';
import { createProxyMetrics } from './proxy-metrics.js';
import { assertInScope, FORWARDED_METHODS, isForwardedMethod } from './proxy-scope.js';
import { createRateLimiter } from './rate-limiter.js';
import { parseProxyTarget } from './request-target.js';
import { resolveTargetDevice } from './target-device.js';

export const VIA = '1.1 command-center-proxy';

export interface ApiProxyLimits {
  maxBodyBytes: number;
  maxResponseBytes: number;
  timeoutMs: number;
  ratePerMinute: number;
  concurrencyPerDevice: number;
}

export interface ApiProxyDeps {
  auth: Pick<Auth, 'authenticate'>;
  registry: Pick<DeviceRegistry, 'get' | 'endpoint' | 'reportMismatch'>;
  /** Known devices and their sites (MQTT-only devices have no registration). */
  fleet?: Pick<FleetReader, 'get'>;
  audit: Pick<AuditRepository, 'append'>;
  logger: Logger;
  metrics: Registry;
}

export interface ApiProxyOptions extends ApiProxyLimits {
  host: string;
  /** The allocated port (tried first); 0 for an ephemeral one (tests). */
  port: number;
  /** With a range, a port lost since allocation moves to the next free one of it. */
  range?: PortRange;
  /** Ports of other services, never taken from the range. */
  exclude?: number[];
  tls: TlsServerOptions;
  /** Identical read calls within this window share one audit record (default 10 s). */
  auditWindowMs?: number;
}

export interface ApiProxy {
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
  /** `https://host:port` once started. */
  readonly url: string;
}

/** One call as it goes: filled in step by step, recorded when the answer is done. */
interface CallState extends ProxyCall {
  startedAt: number;
  recorded: boolean;
}

const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;
const AUTH_FAILURES_PER_MINUTE = 30;

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** The host name of a Host header (no port, no brackets); undefined when malformed. */
function hostOf(header: string): string | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9.-]{1,253}))(?::\d{1,5})?$/.exec(header);
  return m?.[1] ?? m?.[2]?.replace(/\.$/, '');
}

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  );
}

/** Counts bytes through and fails past `max` (a device sending more than it announced). */
function byteCounter(max: number, onBytes: (n: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      onBytes(total);
      if (total > max)
        done(new CcError('DEVICE_RESPONSE_TOO_LARGE', 'the device answer is too large'));
      else done(null, chunk);
    },
  });
}

export function createApiProxy(deps: ApiProxyDeps, options: ApiProxyOptions): ApiProxy {
  const log = deps.logger;
  const metrics = createProxyMetrics(deps.metrics);
  const audit = createProxyAudit({
    audit: deps.audit,
    logger: log,
    ...(options.auditWindowMs === undefined ? {} : { windowMs: options.auditWindowMs }),
  });
  const limiter = createRateLimiter({ perMinute: options.ratePerMinute });
  // Failed authentications per client address: a guessing loop is slowed down before it costs a
  // token lookup each time.
  const failures = createRateLimiter({ perMinute: AUTH_FAILURES_PER_MINUTE });
  const slots = createDeviceSlots(options.concurrencyPerDevice);
  const forwarder = createDeviceForwarder({
    timeoutMs: options.timeoutMs,
    connectionsPerDevice: options.concurrencyPerDevice,
  });
  const certificate = new X509Certificate(options.tls.cert);
  let server: Server | undefined;
  let url = '';

  function hostAllowed(header: string | undefined): void {
    if (header === undefined || header === '') {
      throw new CcError('PROXY_BAD_TARGET', 'a Host header is required');
    }
    const host = hostOf(header);
    if (host === undefined) throw new CcError('PROXY_BAD_TARGET', 'the Host header is malformed');
    // Only names the server's certificate is valid for: a client that verified TLS sent one of
    // them, so any other names someone else (DNS rebinding, a forged header).
    const covered =
      isIP(host) === 0
        ? certificate.checkHost(host) !== undefined
        : certificate.checkIP(host) !== undefined;
    if (!covered) {
      throw new CcError(
        'PROXY_MISDIRECTED',
        `this server does not answer for host ${host}; the destination is always the device's registered address`,
      );
    }
  }

  async function authenticate(req: IncomingMessage, source: string): Promise<Principal> {
    const blocked = failures.check(source);
    if (!blocked.ok) {
      throw new CcError(
        'RATE_LIMITED',
        `too many failed authentications from this address; retry in ${blocked.retryAfterSeconds} s`,
        { retryAfterSeconds: blocked.retryAfterSeconds },
      );
    }
    const authorization = req.headers.authorization;
    if (authorization === undefined || authorization === '') {
      failures.take(source);
      throw new CcError(
        'UNAUTHENTICATED',
        'send an API token with proxy scope: Authorization: Bearer <token> (cookies are not accepted)',
      );
    }
    // Only the Authorization header: a session cookie never authenticates a proxy call.
    const resolution = await deps.auth.authenticate({ authorization });
    if (resolution === null || 'failure' in resolution || resolution.principal.via !== 'token') {
      failures.take(source);
      throw new CcError('UNAUTHENTICATED', 'the API token is not valid', { invalidToken: true });
    }
    return resolution.principal;
  }

  function record(call: CallState, res: ServerResponse): void {
    if (call.recorded) return;
    call.recorded = true;
    call.ms = performance.now() - call.startedAt;
    call.status = res.statusCode;
    if (!res.writableFinished && call.outcome === 'ok') {
      // Cut off mid-answer: the device or the client went away, or a limit was hit while streaming.
      call.outcome = 'failed';
      call.code ??= 'ABORTED';
    }
    metrics.requests.inc({ outcome: call.outcome });
    metrics.durationSeconds.observe({ outcome: call.outcome }, call.ms / 1000);
    audit.record(call);
    log.debug(
      {
        requestId: call.requestId,
        actor: call.actor,
        deviceId: call.deviceId,
        method: call.method,
        path: call.path,
        status: call.status,
        outcome: call.outcome,
        code: call.code,
        ms: Math.round(call.ms),
      },
      'proxy call',
    );
  }

  function refuse(res: ServerResponse, req: IncomingMessage, call: CallState, err: CcError): void {
    call.code = err.code;
    call.outcome = err.status >= 500 && err.code !== 'PROXY_DEVICE_BUSY' ? 'failed' : 'refused';
    // A body we did not read must not be taken for the next request on this connection.
    const unread = hasBody(req) && !req.readableEnded;
    sendError(res, err, { requestId: call.requestId, closeConnection: unread });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call: CallState = {
      at: Date.now(),
      startedAt: performance.now(),
      recorded: false,
      actor: 'anonymous',
      tokenId: null,
      source: req.socket.remoteAddress ?? null,
      deviceId: null,
      method: (req.method ?? '').slice(0, 16),
      path: null,
      status: 0,
      outcome: 'ok',
      code: null,
      bytes: 0,
      requestBytes: 0,
      ms: 0,
      requestId: randomUUID(),
    };
    res.once('close', () => record(call, res));
    try {
      await handle(req, res, call);
    } catch (err) {
      const error = asCcError(err);
      if (error.code === 'INTERNAL')
        log.error({ err, requestId: call.requestId }, 'API Proxy call failed');
      refuse(res, req, call, error);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, call: CallState): Promise<void> {
    const target = parseProxyTarget(req.url ?? '');
    call.deviceId = target.deviceId;
    call.path = target.path;
    hostAllowed(req.headers.host);
    const method = req.method ?? '';
    if (!isForwardedMethod(method)) {
      throw new CcError('METHOD_NOT_ALLOWED', `the API Proxy does not forward ${method}`, {
        allow: FORWARDED_METHODS.join(', '),
      });
    }
    const principal = await authenticate(req, call.source ?? '');
    call.actor = `${principal.username} (token)`;
    call.tokenId = principal.tokenId;
    const scope = principal.proxy;
    if (scope === null) {
      throw new CcError(
        'PROXY_SCOPE_REQUIRED',
        'this API token has no proxy scope; an admin creates one with "proxy": {devices, methods, paths}',
      );
    }
    const decision = limiter.take(principal.tokenId ?? principal.userId);
    if (!decision.ok) {
      throw new CcError(
        'RATE_LIMITED',
        `this token makes more than ${options.ratePerMinute} proxy calls a minute; retry in ${decision.retryAfterSeconds} s`,
        { retryAfterSeconds: decision.retryAfterSeconds },
      );
    }
    assertInScope(scope, { deviceId: target.deviceId, method, segments: target.segments });
    const bodyAllowed = method !== 'GET' && method !== 'HEAD';
    if (!bodyAllowed && hasBody(req)) {
      throw new CcError('BAD_REQUEST', `a ${method} call has no body`);
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && length > options.maxBodyBytes) {
      throw new CcError(
        'PAYLOAD_TOO_LARGE',
        `request bodies through the proxy are limited to ${options.maxBodyBytes} bytes`,
      );
    }
    const endpoint = await resolveTargetDevice(
      { registry: deps.registry, fleet: deps.fleet },
      target.deviceId,
      principal.sites,
    );
    const release = slots.acquire(target.deviceId);
    if (release === undefined) {
      throw new CcError(
        'PROXY_DEVICE_BUSY',
        `device ${target.deviceId} already has ${options.concurrencyPerDevice} proxied calls in flight; retry shortly`,
        { retryAfterSeconds: 1 },
      );
    }
    metrics.inFlight.inc();
    try {
      await forward(req, res, call, {
        endpoint,
        deviceId: target.deviceId,
        method,
        path: `${target.path}${target.query}`,
        length: bodyAllowed ? (length ?? (hasBody(req) ? undefined : 0)) : undefined,
      });
    } finally {
      metrics.inFlight.dec();
      release();
    }
  }

  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    call: CallState,
    target: {
      endpoint: DeviceEndpoint;
      deviceId: string;
      method: string;
      path: string;
      /** Body length when known; undefined for a chunked body or a method without one. */
      length: number | undefined;
    },
  ): Promise<void> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('the device did not answer in time', 'TimeoutError'));
    }, options.timeoutMs);
    const onClientGone = () => {
      if (!res.writableFinished) controller.abort(new Error('the client went away'));
    };
    res.once('close', onClientGone);
    const upload = { bytes: 0, tooLarge: false };
    const max = options.maxBodyBytes;
    const chunked = req.headers['transfer-encoding'] !== undefined;
    async function* body(): AsyncGenerator<Buffer> {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        upload.bytes += chunk.length;
        call.requestBytes = upload.bytes;
        if (upload.bytes > max) {
          upload.tooLarge = true;
          throw new CcError(
            'PAYLOAD_TOO_LARGE',
            `request bodies through the proxy are limited to ${max} bytes`,
          );
        }
        yield chunk;
      }
    }
    const { credential } = target.endpoint;
    const headers = deviceRequestHeaders(req.headers, {
      authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`,
      requestId: call.requestId,
      via: VIA,
      ...(target.length === undefined ? {} : { contentLength: target.length }),
    });
    let response: Dispatcher.ResponseData | undefined;
    try {
      response = await forwarder.request({
        endpoint: target.endpoint,
        method: target.method,
        path: target.path,
        headers,
        body: chunked || (target.length ?? 0) > 0 ? Readable.from(body()) : null,
        signal: controller.signal,
      });
      await answer(res, call, response, target.deviceId, target.method);
    } catch (err) {
      if (response !== undefined && !response.body.destroyed) {
        response.body.on('error', () => undefined);
        response.body.destroy();
      }
      if (upload.tooLarge) {
        throw new CcError(
          'PAYLOAD_TOO_LARGE',
          `request bodies through the proxy are limited to ${max} bytes`,
        );
      }
      const presented = presentedFingerprint(err);
      if (presented !== undefined && presented !== null) {
        // The same observation the poller makes: stop trusting the device until an admin approves.
        await deps.registry.reportMismatch(target.deviceId, presented).catch((e: unknown) => {
          log.error(
            { err: e, deviceId: target.deviceId },
            'could not record a certificate mismatch',
          );
        });
      }
      throw deviceFailure(err, target.deviceId, timedOut);
    } finally {
      clearTimeout(timer);
      res.off('close', onClientGone);
    }
  }

  async function answer(
    res: ServerResponse,
    call: CallState,
    response: Dispatcher.ResponseData,
    deviceId: string,
    method: string,
  ): Promise<void> {
    const status = response.statusCode;
    if (status >= 300 && status < 400 && status !== 304) {
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `device ${deviceId} answered with a redirect (${status}); the proxy does not follow redirects`,
      );
    }
    if (status === 401 || status === 403 || status === 407) {
      throw new CcError(
        'DEVICE_AUTH_FAILED',
        `device ${deviceId} refused the server's credential for it (HTTP ${status}); an admin must update it`,
      );
    }
    if (status < 200 || status > 599) {
      throw new CcError('DEVICE_BAD_RESPONSE', `device ${deviceId} answered with status ${status}`);
    }
    const max = options.maxResponseBytes;
    const tooLarge = () =>
      new CcError(
        'DEVICE_RESPONSE_TOO_LARGE',
        `device ${deviceId} sent an answer over the proxy's ${max}-byte limit`,
      );
    const announced =
      response.headers['content-length'] === undefined
        ? undefined
        : Number(response.headers['content-length']);
    if (announced !== undefined && (!Number.isSafeInteger(announced) || announced < 0)) {
      throw new CcError(
        'DEVICE_BAD_RESPONSE',
        `device ${deviceId} sent a malformed Content-Length`,
      );
    }
    const headers = {
      ...SECURITY_HEADERS,
      ...clientResponseHeaders(response.headers, { requestId: call.requestId, via: VIA }),
    };
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    if (noBody) {
      await response.body.dump({ limit: 0 }).catch(() => undefined);
      res.writeHead(status, {
        ...headers,
        ...(method === 'HEAD' && announced !== undefined
          ? { 'content-length': String(announced) }
          : {}),
      });
      res.end();
      return;
    }
    if (announced !== undefined && announced > max) throw tooLarge();
    if (announced !== undefined) {
      // Known length within the limit: stream it through, never holding it.
      res.writeHead(status, { ...headers, 'content-length': String(announced) });
      await pipeline(
        response.body,
        byteCounter(max, (n) => (call.bytes = n)),
        res,
      );
      return;
    }
    // Unknown length (chunked): collect up to the limit, so an oversized answer is still a clean 502.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
    const whole = Buffer.concat(chunks, size);
    call.bytes = size;
    res.writeHead(status, { ...headers, 'content-length': String(size) });
    res.end(whole);
  }

  function onConnect(req: IncomingMessage, socket: Socket): void {
    const err = new CcError(
      'PROXY_BAD_TARGET',
      'CONNECT is refused: the API Proxy is not a tunnel or an open proxy',
    );
    sendRawError(socket, err);
    recordRaw(req.socket.remoteAddress ?? null, 'CONNECT', err);
  }

  function recordRaw(source: string | null, method: string, err: CcError): void {
    const call: ProxyCall = {
      at: Date.now(),
      actor: 'anonymous',
      tokenId: null,
      source,
      deviceId: null,
      method,
      path: null,
      status: ERROR_STATUS[err.code],
      outcome: 'refused',
      code: err.code,
      bytes: 0,
      requestBytes: 0,
      ms: 0,
      requestId: randomUUID(),
    };
    metrics.requests.inc({ outcome: 'refused' });
    audit.record(call);
  }

  return {
    get url() {
      return url;
    },
    async start() {
      const s = createServer({
        ...options.tls,
        headersTimeout: HEADERS_TIMEOUT_MS,
        // Receiving a request (body included) may take as long as a whole call to a device.
        requestTimeout: Math.max(options.timeoutMs, HEADERS_TIMEOUT_MS) + HEADERS_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_MS,
        maxHeaderSize: 16 * 1024,
      });
      s.on('request', (req: IncomingMessage, res: ServerResponse) => {
        void onRequest(req, res);
      });
      s.on('connect', onConnect);
      s.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === 'ECONNRESET' || !socket.writable) {
          socket.destroy();
          return;
        }
        const error = new CcError('PROXY_BAD_TARGET', 'the request could not be parsed');
        sendRawError(socket, error);
        recordRaw(socket.remoteAddress ?? null, '', error);
      });
      s.on('tlsClientError', (err) => {
        log.debug({ err: err.message }, 'TLS handshake with an API Proxy client failed');
      });
      server = s;
      let port: number;
      if (options.range !== undefined) {
        port = await listenOnRange(s, {
          range: options.range,
          host: options.host,
          preferred: options.port,
          exclude: options.exclude ?? [],
          service: 'apiProxy',
        });
      } else {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen({ port: options.port, host: options.host }, () => {
            s.off('error', reject);
            resolve();
          });
        });
        const address = s.address();
        port = typeof address === 'object' && address !== null ? address.port : options.port;
      }
      url = `https://${formatHost(options.host)}:${port}`;
      log.info({ url }, 'API Proxy listening');
      return port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s !== undefined) {
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections();
        await closed;
      }
      await forwarder.close();
      await audit.stop();
    },
  };
}
