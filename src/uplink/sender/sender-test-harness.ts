// Test fixture for the sender: a throwaway CA with server certificates (good, wrong host name,
// expired), HTTPS servers on 127.0.0.1 that record every connection and request, and servers that
// accept and then stay silent.

import { once } from 'node:events';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';

const DAY_MS = 86_400_000;

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: KeyPair;
  /** Valid for `localhost` and 127.0.0.1, signed by the CA. */
  localhost: KeyPair;
  /** Valid only for `other.example`. */
  otherHost: KeyPair;
  /** For `localhost`, but expired yesterday. */
  expired: KeyPair;
}

async function leaf(
  ca: KeyPair,
  names: { dns: string[]; ips: string[] },
  validity: { from: Date; to: Date },
): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: names.dns[0] ?? 'test' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: validity.from,
    notAfterDate: validity.to,
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.dns.map((value) => ({ type: 2 as const, value })),
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export async function createTestPki(): Promise<TestPki> {
  const now = Date.now();
  const caPems = await generate([{ name: 'commonName', value: 'Command Center sender test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 30 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const ca = { cert: caPems.cert, key: caPems.private };
  const current = { from: new Date(now - DAY_MS), to: new Date(now + 30 * DAY_MS) };
  const [localhost, otherHost, expired] = await Promise.all([
    leaf(ca, { dns: ['localhost'], ips: ['127.0.0.1'] }, current),
    leaf(ca, { dns: ['other.example'], ips: [] }, current),
    leaf(
      ca,
      { dns: ['localhost'], ips: ['127.0.0.1'] },
      { from: new Date(now - 10 * DAY_MS), to: new Date(now - DAY_MS) },
    ),
  ]);
  return { ca, localhost, otherHost, expired };
}

export interface RecordedConnection {
  /** SNI the client sent (false when none). */
  servername: string | false;
  remotePort: number;
  requests: number;
  closed: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type TestHandler = (req: RecordedRequest, res: ServerResponse) => void;

export interface TestServer {
  port: number;
  /** `https://localhost:<port><path>` */
  url(path?: string): string;
  connections: RecordedConnection[];
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const answerOk: TestHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ accepted: true }));
};

/** An HTTPS server on 127.0.0.1 that records connections and requests, then calls `handler`. */
export async function startTestServer(
  material: KeyPair,
  handler: TestHandler = answerOk,
): Promise<TestServer> {
  const connections: RecordedConnection[] = [];
  const requests: RecordedRequest[] = [];
  const records = new WeakMap<Socket, RecordedConnection>();
  const server: Server = createHttpsServer({ cert: material.cert, key: material.key });
  server.on('secureConnection', (socket: TLSSocket) => {
    const record: RecordedConnection = {
      servername: socket.servername ?? false,
      remotePort: socket.remotePort ?? 0,
      requests: 0,
      closed: false,
    };
    connections.push(record);
    records.set(socket, record);
    socket.once('close', () => (record.closed = true));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const record = records.get(req.socket);
    if (record) record.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path = '/v1/reports') => `https://localhost:${port}${path}`,
    connections,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface SilentServer {
  port: number;
  accepted: number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never sends a byte (no TLS handshake, no answer). */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const state = { accepted: 0 };
  const server = createTcpServer((socket) => {
    state.accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get accepted() {
      return state.accepted;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
