// The HTTPS listener of one simulated device's Web Services: binds the device's own address and
// port (falling back to an ephemeral port when that is impossible), serves its self-signed
// certificate, checks the admin credential, bounds request bodies (64 KiB, except a firmware package,
// which is streamed to the device's updater) and writes JSON answers. It can vanish (stop drops every
// open connection) and come back on the same address, port and certificate.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tlsServerOptions } from '../net/index.js';
import type { Logger } from '../observability/index.js';
import {
  generateDeviceCertificate,
  loadOrCreateDeviceCertificate,
  storeDeviceCertificate,
  type DeviceCertificate,
} from './device-certificate.js';
import {
  isFirmwareUploadPath,
  routeWsRequest,
  wsError,
  type WsDeviceBackend,
  type WsResponse,
} from './web-services-routes.js';
import { routeFirmwareUpload } from './web-services-upload.js';

export const MAX_BODY_BYTES = 64 * 1024;
const KEEP_ALIVE_MS = 30_000;
/** Longest a request may take, headers to last byte — except a package upload (below). */
const REQUEST_TIMEOUT_MS = 30_000;
/** A package upload may take as long as it keeps moving; this long without a byte ends it. */
const UPLOAD_IDLE_MS = 30_000;

export interface WebServicesServerOptions {
  deviceId: string;
  /** The address and port to bind (port 0: ephemeral). */
  address: string;
  port: number;
  /** Where to listen, on an ephemeral port, when `address:port` cannot be bound (EACCES, EADDRNOTAVAIL). */
  fallbackAddress: string;
  username: string;
  password: string;
  /** Keeps the key and certificate across restarts when set. */
  stateDir?: string | undefined;
  backend: WsDeviceBackend;
  logger: Logger;
  /** Told when the fallback was used (the simulator warns once for the whole fleet). */
  onFallback?: (info: { deviceId: string; wanted: string; code: string; bound: string }) => void;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

const FALLBACK_CODES = new Set(['EACCES', 'EADDRNOTAVAIL']);

export class WebServicesServer {
  private readonly options: WebServicesServerOptions;
  private readonly log: Logger;
  private readonly expectedUser: Buffer;
  private readonly expectedPassword: Buffer;
  private certificate: DeviceCertificate | undefined;
  private bound: { address: string; port: number } | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private lifecycle: Promise<void> = Promise.resolve();

  constructor(options: WebServicesServerOptions) {
    this.options = options;
    this.log = options.logger;
    this.expectedUser = digest(options.username);
    this.expectedPassword = digest(options.password);
  }

  /** `https://address:port` once bound (kept while stopped: the device's address does not change). */
  get url(): string | undefined {
    return this.bound ? `https://${this.bound.address}:${this.bound.port}` : undefined;
  }

  get fingerprint256(): string | undefined {
    return this.certificate?.fingerprint256;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens; the first time it also picks the address and loads or makes the certificate. */
  start(): Promise<void> {
    return this.serialized(() => this.listenNow());
  }

  /** Stops listening and drops every open connection, keep-alive ones included. */
  stop(): Promise<void> {
    return this.serialized(() => this.closeNow());
  }

  /** A new key and certificate, served from a restarted listener on the same address and port. */
  rotateCertificate(): Promise<void> {
    return this.serialized(async () => {
      const wasListening = this.listening;
      await this.closeNow();
      const address = this.bound?.address ?? this.options.address;
      const fresh = await generateDeviceCertificate(this.options.deviceId, address);
      if (this.options.stateDir !== undefined) {
        await storeDeviceCertificate(this.options.stateDir, this.options.deviceId, fresh);
      }
      this.certificate = fresh;
      if (wasListening) await this.listenNow();
    });
  }

  // start, stop and rotate run one at a time, so overlapping calls never bind twice.
  private serialized(operation: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(operation);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private async listenNow(): Promise<void> {
    if (this.server) return;
    const server = createServer({ minVersion: 'TLSv1.2', headersTimeout: 10_000 });
    // HTTP keep-alive: a poller reuses its connection; stop() still drops them all.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    // Node's requestTimeout would cut a large package upload; requests are timed in onRequest.
    server.requestTimeout = 0;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('tlsClientError', (err) => {
      this.log.debug({ err: err.message }, 'TLS handshake with a Web Services client failed');
    });
    if (this.certificate) server.setSecureContext(tlsServerOptions(this.certificate));
    if (this.bound) {
      await listen(server, this.bound.port, this.bound.address);
    } else {
      this.bound = await this.bindFirst(server);
    }
    try {
      // The certificate names the address actually bound, so it is made after the first bind.
      this.certificate ??= await loadOrCreateDeviceCertificate({
        deviceId: this.options.deviceId,
        address: this.bound.address,
        stateDir: this.options.stateDir,
      });
      server.setSecureContext(tlsServerOptions(this.certificate));
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    this.server = server;
  }

  private async bindFirst(server: Server): Promise<{ address: string; port: number }> {
    const { address, port, fallbackAddress } = this.options;
    try {
      await listen(server, port, address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!FALLBACK_CODES.has(code)) {
        throw new Error(
          `device ${this.options.deviceId} cannot serve Web Services on ${address}:${port}: ${(err as Error).message}`,
        );
      }
      await listen(server, 0, fallbackAddress).catch((second: unknown) => {
        throw new Error(
          `device ${this.options.deviceId} cannot serve Web Services on ${address}:${port} (${code}) nor on ${fallbackAddress}: ${(second as Error).message}`,
        );
      });
      const bound = `${fallbackAddress}:${(server.address() as AddressInfo).port}`;
      this.options.onFallback?.({
        deviceId: this.options.deviceId,
        wanted: `${address}:${port}`,
        code,
        bound,
      });
    }
    const info = server.address() as AddressInfo;
    return { address: info.address, port: info.port };
  }

  private async closeNow(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive and half-open connections too: to a client the device is simply gone.
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private authorized(header: string | undefined): boolean {
    const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return false;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Compare digests in constant time; both checks always run.
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), this.expectedUser);
    const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), this.expectedPassword);
    return userOk && passwordOk;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (isFirmwareUploadPath((req.url ?? '/').split('?', 1)[0] ?? '/')) {
      this.upload(req, res);
      return;
    }
    const socket = req.socket;
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
    res.once('close', () => clearTimeout(timer));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      this.send(res, tooLarge(), true);
      return;
    }
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES && !refused) {
        refused = true;
        this.send(res, tooLarge(), true);
      }
    });
    req.on('end', () => {
      if (!refused) this.answer(req, res);
    });
    req.on('error', (err) => {
      this.log.debug({ err: err.message }, 'Web Services request aborted');
    });
  }

  private upload(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    req.setTimeout(UPLOAD_IDLE_MS, () => socket.destroy());
    res.once('close', () => socket.setTimeout(0));
    req.on('error', (err) => {
      this.log.debug({ err: err.message }, 'firmware upload aborted');
    });
    routeFirmwareUpload(this.options.backend, {
      method: req.method ?? 'GET',
      authorized: this.authorized(req.headers.authorization),
      contentType: req.headers['content-type'],
      contentLength: req.headers['content-length'],
      body: req,
    })
      .catch((err: unknown) => {
        this.log.error({ err }, 'firmware upload failed');
        return wsError(500, 'INTERNAL', 'internal error');
      })
      .then((response) => {
        // Anything but an accepted package may leave body unread: close rather than drain it.
        this.send(res, response, response.status !== 202);
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'cannot answer a firmware upload');
      });
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    let response: WsResponse;
    try {
      const url = new URL(req.url ?? '/', 'https://device');
      response = routeWsRequest(this.options.backend, {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        authorized: this.authorized(req.headers.authorization),
      });
    } catch (err) {
      // Never a stack trace to a client: log it, answer a plain 500.
      this.log.error({ err }, 'Web Services route failed');
      response = wsError(500, 'INTERNAL', 'internal error');
    }
    this.send(res, response, false);
  }

  private send(res: ServerResponse, response: WsResponse, close: boolean): void {
    if (res.headersSent) return;
    const body = JSON.stringify(response.body);
    res.writeHead(response.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      ...(close ? { Connection: 'close' } : {}),
      ...response.headers,
    });
    res.end(body);
  }
}

function tooLarge(): WsResponse {
  return wsError(413, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
}
