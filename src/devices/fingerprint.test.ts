import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeFingerprint } from './fingerprint.js';

const CANON = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

describe('normalizeFingerprint', () => {
  it('accepts the forms people paste', () => {
    expect(normalizeFingerprint(CANON)).toBe(CANON);
    expect(normalizeFingerprint(CANON.toLowerCase())).toBe(CANON);
    expect(normalizeFingerprint(CANON.replace(/:/g, ''))).toBe(CANON);
    expect(normalizeFingerprint(` sha256 Fingerprint=${CANON}`.replace(' Fingerprint', ''))).toBe(
      CANON,
    );
    expect(normalizeFingerprint(CANON.replace(/:/g, ' '))).toBe(CANON);
  });

  it('refuses anything that is not 32 bytes of hex', () => {
    for (const bad of ['', 'AA:BB', CANON + ':00', CANON.replace('0', 'G'), 'x'.repeat(64)]) {
      expect(() => normalizeFingerprint(bad)).toThrow(/64 hex digits/);
    }
  });

  it('is idempotent on every 32-byte value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const once = normalizeFingerprint(Buffer.from(bytes).toString('hex'));
        expect(normalizeFingerprint(once)).toBe(once);
        expect(once).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      }),
    );
  });
});
