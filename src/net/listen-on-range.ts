// Binds a server to the first port of a range that it can really listen on, trying the allocated
// (preferred) port first: closes the gap between probing a port and binding it.

import type { Server } from 'node:net';
import type { PortRange } from '../config/index.js';
import { rangeExhausted } from './port-allocator.js';

export interface ListenOnRangeOptions {
  range: PortRange;
  host: string;
  /** Tried first, e.g. the port allocatePorts chose (clients remember it). */
  preferred?: number;
  /** Ports given to other services. */
  exclude?: number[];
  /** Names the service in the PORT_RANGE_EXHAUSTED error. */
  service?: string;
}

/** Listens once; resolves false when the port is taken, rejects on any other error. */
function tryListen(server: Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/**
 * Resolves with the bound port. A port lost to another process is skipped, never an error;
 * throws PORT_RANGE_EXHAUSTED when no port of the range can be bound.
 */
export async function listenOnRange(
  server: Server,
  options: ListenOnRangeOptions,
): Promise<number> {
  const exclude = new Set(options.exclude ?? []);
  const order: number[] = [];
  const { from, to } = options.range;
  if (options.preferred !== undefined && options.preferred >= from && options.preferred <= to) {
    order.push(options.preferred);
  }
  for (let port = from; port <= to; port++) if (port !== options.preferred) order.push(port);
  for (const port of order) {
    if (exclude.has(port)) continue;
    if (await tryListen(server, port, options.host)) return port;
  }
  throw await rangeExhausted(options.service ?? 'server', options.range, options.host, exclude);
}
