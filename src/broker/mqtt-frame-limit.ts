// Reads only the MQTT fixed header of each packet (type byte + remaining-length varint) as bytes
// stream past, so a connection can be closed before an oversized or malformed packet is buffered.

export type FrameVerdict =
  | { ok: true }
  | { ok: false; reason: 'too-large'; packetBytes: number }
  | { ok: false; reason: 'malformed-length' };

/** Largest value a 4-byte remaining-length varint can carry (MQTT 3.1.1 §2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

export interface FrameLimiter {
  /** Feeds the next chunk; once a verdict is not ok the limiter stays failed. */
  push(chunk: Uint8Array): FrameVerdict;
}

/**
 * `maxPacketBytes` bounds the whole packet: fixed header byte + length bytes + remaining length.
 * The check fires as soon as the length is known, before the body arrives.
 */
export function createFrameLimiter(maxPacketBytes: number): FrameLimiter {
  // header: waiting for a type byte; length: inside the varint; body: skipping `remaining` bytes.
  let phase: 'header' | 'length' | 'body' = 'header';
  let remaining = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let failed: FrameVerdict | undefined;

  function endOfLength(): FrameVerdict | undefined {
    const packetBytes = 1 + lengthBytes + remaining;
    if (packetBytes > maxPacketBytes) return { ok: false, reason: 'too-large', packetBytes };
    phase = remaining === 0 ? 'header' : 'body';
    return undefined;
  }

  return {
    push(chunk) {
      if (failed) return failed;
      let i = 0;
      while (i < chunk.length) {
        switch (phase) {
          case 'header':
            phase = 'length';
            remaining = 0;
            multiplier = 1;
            lengthBytes = 0;
            i += 1;
            break;
          case 'length': {
            const byte = chunk[i] ?? 0;
            i += 1;
            lengthBytes += 1;
            remaining += (byte & 0x7f) * multiplier;
            multiplier *= 128;
            if ((byte & 0x80) !== 0) {
              if (lengthBytes === 4) {
                failed = { ok: false, reason: 'malformed-length' };
                return failed;
              }
              break;
            }
            const verdict = endOfLength();
            if (verdict) {
              failed = verdict;
              return failed;
            }
            break;
          }
          case 'body': {
            const take = Math.min(remaining, chunk.length - i);
            remaining -= take;
            i += take;
            if (remaining === 0) phase = 'header';
            break;
          }
        }
      }
      return { ok: true };
    },
  };
}
