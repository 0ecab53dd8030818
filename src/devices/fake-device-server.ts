// A misbehaving device for tests: a real HTTPS server on loopback whose every answer a test
// scripts — malformed JSON, wrong types, 500s, redirects, 50 MB bodies, a socket that accepts and
// never answers. The well-behaved device is the simulator; this one exists to be hostile.

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export type FakeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeDeviceServer {
  baseUrl: string;
  fingerprint256: string;
  /** Requests seen, as `METHOD path`, with the Authorization header if any. */
  requests: { line: string; authorization: string | undefined }[];
  /** Replaces the handler of one path (`/ws/v1/status`) or of every path ('*'). */
  on(path: string, handler: FakeHandler): void;
  /** Drops every scripted handler and the request log. */
  reset(): void;
  close(): Promise<void>;
}

export async function fakeCertificate(
  commonName: string,
): Promise<{ cert: string; key: string; fingerprint256: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
  });
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function startFakeDevice(
  options: { host?: string; identity?: Record<string, unknown> } = {},
): Promise<FakeDeviceServer> {
  const host = options.host ?? '127.0.0.1';
  const tls = await fakeCertificate('fake-device');
  const identity = options.identity ?? {
    id: 'fake-01',
    kind: 'printer',
    model: 'Fusion P5',
    serial: 'SN-FAKE',
    name: 'Fake',
    firmwareVersion: '1.0.0',
    apiVersion: 1,
  };
  const handlers = new Map<string, FakeHandler>();
  const requests: FakeDeviceServer['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push({ line: `${req.method} ${req.url}`, authorization: req.headers.authorization });
    const handler = handlers.get(path) ?? handlers.get('*');
    if (handler !== undefined) {
      handler(req, res);
      return;
    }
    if (path === '/ws/v1/identity') {
      json(res, 200, identity);
      return;
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    baseUrl: `https://${host}:${port}`,
    fingerprint256: tls.fingerprint256,
    requests,
    on(path, handler) {
      handlers.set(path, handler);
    },
    reset() {
      handlers.clear();
      requests.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
