import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFrameLimiter, MAX_REMAINING_LENGTH } from './mqtt-frame-limit.js';

/** Encodes one MQTT packet with the given body (MQTT 3.1.1 §2.2.3 remaining length). */
function frame(type: number, body: Uint8Array): Buffer {
  const length: number[] = [];
  let x = body.length;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    length.push(byte);
  } while (x > 0);
  return Buffer.concat([Buffer.from([type << 4, ...length]), body]);
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function verdictOf(limit: number, chunks: Buffer[]): string {
  const limiter = createFrameLimiter(limit);
  for (const chunk of chunks) {
    const verdict = limiter.push(chunk);
    if (!verdict.ok) return verdict.reason;
  }
  return 'ok';
}

const bodies = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 });

describe('MQTT frame limit', () => {
  it('accepts packets within the limit however the stream is chunked', () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.nat()), (packetBodies, cuts) => {
        const stream = Buffer.concat(packetBodies.map((b) => frame(3, b)));
        expect(verdictOf(400, split(stream, cuts))).toBe('ok');
      }),
    );
  });

  it('gives the same verdict for a joined stream and any split of it', () => {
    fc.assert(
      fc.property(
        bodies,
        fc.array(fc.nat()),
        fc.integer({ min: 2, max: 320 }),
        (b, cuts, limit) => {
          const stream = Buffer.concat(b.map((body) => frame(3, body)));
          expect(verdictOf(limit, split(stream, cuts))).toBe(verdictOf(limit, [stream]));
        },
      ),
    );
  });

  it('refuses a packet one byte over the limit, counting the fixed header', () => {
    const packet = frame(3, new Uint8Array(98)); // 1 + 1 + 98 = 100 bytes
    expect(verdictOf(100, [packet])).toBe('ok');
    expect(verdictOf(99, [packet])).toBe('too-large');
  });

  it('refuses an oversized packet from its header alone, before the body arrives', () => {
    const header = frame(3, new Uint8Array(1024 * 1024)).subarray(0, 5);
    expect(verdictOf(256 * 1024, [header])).toBe('too-large');
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(
      verdictOf(MAX_REMAINING_LENGTH, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]),
    ).toBe('malformed-length');
  });

  it('stays failed after a violation', () => {
    const limiter = createFrameLimiter(10);
    expect(limiter.push(frame(3, new Uint8Array(50))).ok).toBe(false);
    expect(limiter.push(frame(12, new Uint8Array(0))).ok).toBe(false);
  });

  it('handles the largest legal length in four bytes', () => {
    expect(verdictOf(MAX_REMAINING_LENGTH + 5, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])])).toBe(
      'ok',
    );
  });
});
