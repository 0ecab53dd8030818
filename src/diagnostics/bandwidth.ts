// The bandwidth estimate: downloads up to a bounded number of bytes from a configured URL (through
// the proxy when one applies, as the uplink would) and compares the rate with "DSL or better".

import type { Socket } from 'node:net';
import { checkProxyConnect } from './checks.js';
import { failure } from './explain.js';
import type { Reading } from './local-checks.js';
import { connectTcp, errorCode, tlsHandshake } from './socket-io.js';

export interface BandwidthOptions {
  url: URL;
  /** The slowest acceptable download rate ("DSL or better"), in kbit/s. */
  minKbps: number;
  /** Stop after this many body bytes. */
  maxBytes: number;
  /** The whole measurement's bound; what arrived by then is measured. */
  ms: number;
  /** The proxy to go through, or null for a direct connection. */
  proxy: URL | null;
  ca?: string;
}

const HEAD_LIMIT = 16 * 1024;

async function open(options: BandwidthOptions): Promise<Socket> {
  const { url, proxy, ms } = options;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let socket: Socket;
  if (proxy !== null && url.protocol === 'https:') {
    const tunnel = await checkProxyConnect(proxy, host, port, ms);
    if (tunnel.socket === undefined) throw new Error(tunnel.verdict.detail);
    socket = tunnel.socket;
  } else if (proxy !== null) {
    socket = await connectTcp(proxy.hostname.replace(/^\[|\]$/g, ''), Number(proxy.port || 80), ms);
  } else {
    socket = await connectTcp(host, port, ms);
  }
  if (url.protocol !== 'https:') return socket;
  return tlsHandshake(socket, host, ms, {
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    verify: true,
  });
}

interface Download {
  status: number;
  bytes: number;
  /** From sending the request to the last byte read: includes one round trip, so a lower bound. */
  seconds: number;
}

function download(socket: Socket, options: BandwidthOptions, deadline: number): Promise<Download> {
  const { url, proxy } = options;
  const target = proxy !== null && url.protocol === 'http:' ? url.href : url.pathname + url.search;
  socket.write(
    `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: command-center-doctor\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`,
  );
  return new Promise<Download>((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    let bytes = 0;
    const sentAt = performance.now();
    let lastAt = sentAt;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      if (status === 0) {
        reject(new Error('no HTTP answer'));
        return;
      }
      resolve({ status, bytes, seconds: Math.max(0.001, (lastAt - sentAt) / 1000) });
    };
    const timer = setTimeout(finish, Math.max(1, deadline - Date.now()));
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (status === 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > HEAD_LIMIT) finish();
          return;
        }
        status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0);
        if (status === 0) {
          finish();
          return;
        }
        bytes = head.length - end - 4;
      } else {
        bytes += chunk.length;
      }
      lastAt = now;
      if (bytes >= options.maxBytes) finish();
    });
    socket.once('close', finish);
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      if (status === 0) reject(err);
      else resolve({ status, bytes, seconds: Math.max(0.001, (lastAt - sentAt) / 1000) });
    });
  });
}

export async function checkBandwidth(options: BandwidthOptions): Promise<Reading> {
  const deadline = Date.now() + options.ms;
  const via = options.proxy !== null ? `via proxy ${options.proxy.host}` : 'directly';
  const where = `${options.url.host}${options.url.pathname}`;
  let socket: Socket;
  try {
    socket = await open(options);
  } catch (err) {
    return failure(
      `cannot reach the bandwidth endpoint ${where} ${via}: ${err instanceof Error ? err.message : String(err)} ${errorCode(err) ?? ''}`.trim(),
      'the bandwidth endpoint is unreachable (see the endpoint checks for the same path)',
      'fix the connection first, or point doctor.bandwidthUrl at a reachable large file',
    );
  }
  let result: Download;
  try {
    result = await download(socket, options, deadline);
  } catch (err) {
    socket.destroy();
    return failure(
      `the bandwidth endpoint ${where} sent no HTTP answer: ${err instanceof Error ? err.message : String(err)}`,
      'the connection was opened but nothing came back',
      'check for a filtering proxy or firewall; or point doctor.bandwidthUrl elsewhere',
    );
  }
  if (result.status < 200 || result.status > 299)
    return failure(
      `the bandwidth endpoint ${where} answered HTTP ${String(result.status)}`,
      'the URL does not serve a file (moved, removed, or refused by a proxy)',
      'point doctor.bandwidthUrl at a reachable large file',
    );
  const kbps = Math.round((result.bytes * 8) / result.seconds / 1000);
  const mbps = (kbps / 1000).toFixed(1);
  const detail = `${mbps} Mbit/s down ${via} (${String(Math.round(result.bytes / 1024))} KiB in ${String(Math.round(result.seconds * 1000))} ms); the requirement is DSL or better (${(options.minKbps / 1000).toFixed(1)} Mbit/s)`;
  if (kbps < options.minKbps)
    return {
      status: 'warn',
      detail,
      cause:
        'the connection is slower than the "DSL or better" requirement, or the network is busy right now',
      fix: 'run again off-peak; if it stays slow, ask for a faster line or lower the load on it (uploads of large files, backups)',
      value: kbps,
      unit: 'kbit/s',
    };
  return { status: 'ok', detail, value: kbps, unit: 'kbit/s' };
}
