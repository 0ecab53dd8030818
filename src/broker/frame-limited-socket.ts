// Wraps a client socket in a Duplex that aedes reads from, closing the socket as soon as the MQTT
// frame limit is broken — before aedes has buffered the offending packet.

import { Duplex } from 'node:stream';
import { createFrameLimiter, type FrameVerdict } from './mqtt-frame-limit.js';

type Violation = Exclude<FrameVerdict, { ok: true }>;

export class FrameLimitError extends Error {
  readonly verdict: Violation;
  constructor(verdict: Violation) {
    super(
      verdict.reason === 'too-large'
        ? `MQTT packet of ${verdict.packetBytes} bytes exceeds the limit`
        : 'malformed MQTT remaining length',
    );
    this.name = 'FrameLimitError';
    this.verdict = verdict;
  }
}

/** A socket as far as this wrapper needs one (net.Socket and tls.TLSSocket both fit). */
type ByteSocket = Duplex;

export function limitFrames(
  socket: ByteSocket,
  maxPacketBytes: number,
  onViolation: (verdict: Violation) => void,
): Duplex {
  const limiter = createFrameLimiter(maxPacketBytes);

  const conn = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (socket.destroyed) {
        callback(new Error('connection closed'));
        return;
      }
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });

  socket.on('data', (chunk: Buffer) => {
    const verdict = limiter.push(chunk);
    if (!verdict.ok) {
      socket.pause();
      onViolation(verdict);
      conn.destroy(new FrameLimitError(verdict));
      return;
    }
    if (!conn.push(chunk)) socket.pause();
  });
  socket.once('end', () => conn.push(null));
  socket.once('close', () => {
    if (!conn.destroyed) conn.destroy();
  });
  socket.on('error', (err: Error) => {
    if (!conn.destroyed) conn.destroy(err);
  });
  return conn;
}
