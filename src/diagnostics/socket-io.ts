// Small socket primitives for the checks: connect with a deadline, read until a delimiter with a
// deadline. Each destroys its socket on timeout or abort so no handle outlives a check.

import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class CheckTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${String(ms)} ms`);
    this.name = 'CheckTimeout';
  }
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Runs `start` until it settles or `ms` pass; on timeout calls `cancel` and rejects. */
export function withTimeout<T>(
  what: string,
  ms: number,
  start: () => Promise<T>,
  cancel?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel?.();
      reject(new CheckTimeout(what, ms));
    }, ms);
    start().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function connectTcp(host: string, port: number, ms: number): Promise<Socket> {
  const socket = connect({ host, port });
  return withTimeout(
    `TCP connect to ${host}:${String(port)}`,
    ms,
    () =>
      new Promise<Socket>((resolve, reject) => {
        socket.once('connect', () => {
          socket.removeAllListeners('error');
          socket.on('error', () => undefined);
          resolve(socket);
        });
        socket.once('error', (err) => {
          socket.destroy();
          reject(err);
        });
      }),
    () => socket.destroy(),
  );
}

/** Reads from `socket` until `complete(text)` is true or the peer closes; returns the text read. */
export function readUntil(
  socket: Socket,
  what: string,
  ms: number,
  complete: (text: string) => boolean,
  maxBytes = 16 * 1024,
): Promise<string> {
  let text = '';
  return withTimeout(
    what,
    ms,
    () =>
      new Promise<string>((resolve, reject) => {
        const cleanup = (): void => {
          socket.off('data', onData);
          socket.off('end', onEnd);
          socket.off('close', onEnd);
          socket.off('error', onError);
        };
        const onData = (chunk: Buffer): void => {
          text += chunk.toString('latin1');
          if (complete(text) || text.length >= maxBytes) {
            cleanup();
            resolve(text);
          }
        };
        const onEnd = (): void => {
          cleanup();
          if (text === '') reject(new Error('the peer closed the connection without answering'));
          else resolve(text);
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(err);
        };
        socket.on('data', onData);
        socket.once('end', onEnd);
        socket.once('close', onEnd);
        socket.once('error', onError);
      }),
    () => socket.destroy(),
  );
}

/** Reads exactly `count` bytes (or fewer when the peer closes early, then rejects). */
export function readUntilBytes(
  socket: Socket,
  what: string,
  ms: number,
  count: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  return withTimeout(
    what,
    ms,
    () =>
      new Promise<Buffer>((resolve, reject) => {
        const cleanup = (): void => {
          socket.off('data', onData);
          socket.off('close', onClose);
          socket.off('error', onError);
        };
        const onData = (chunk: Buffer): void => {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= count) {
            cleanup();
            resolve(Buffer.concat(chunks).subarray(0, count));
          }
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error(`the peer closed the connection after ${String(length)} bytes`));
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(err);
        };
        socket.on('data', onData);
        socket.once('close', onClose);
        socket.once('error', onError);
      }),
    () => socket.destroy(),
  );
}

/**
 * TLS over `socket` (TLS 1.2 or later, SNI for names only, RFC 6066 §3), settled by the handshake
 * or `ms`. With `verify: false` the certificate is left for the caller to judge, so it can say why
 * it is bad rather than see a reset. Destroys the TLS socket when the handshake fails.
 */
export async function tlsHandshake(
  socket: Socket,
  host: string,
  ms: number,
  options: { ca?: string; verify: boolean },
): Promise<TLSSocket> {
  const tls = tlsConnect({
    socket,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    minVersion: 'TLSv1.2',
    rejectUnauthorized: options.verify,
  });
  try {
    await withTimeout(
      `TLS handshake with ${host}`,
      ms,
      () =>
        new Promise<void>((resolve, reject) => {
          tls.once('secureConnect', () => {
            tls.removeAllListeners('error');
            tls.on('error', () => undefined);
            resolve();
          });
          tls.once('error', reject);
          tls.once('close', () => {
            reject(new Error('the connection closed during the TLS handshake'));
          });
        }),
      () => tls.destroy(),
    );
  } catch (err) {
    tls.destroy();
    throw err;
  }
  return tls;
}
