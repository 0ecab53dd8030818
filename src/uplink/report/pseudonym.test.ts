import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReport } from './build-report.js';
import { createPseudonymizer, PSEUDONYM_PATTERN } from './pseudonym.js';
import { CONSENT_CATEGORIES } from './report-fields.js';
import { periodicInput, realisticPrinter, TEST_KEY } from './report-test-fleet.js';

const category = fc.constantFrom(...CONSENT_CATEGORIES);

describe('pseudonyms', () => {
  it('are p: and base64url of the first 16 bytes of HMAC-SHA256(key, category NUL value)', () => {
    const mac = createHmac('sha256', TEST_KEY).update('labels\u0000hall2-printer-007').digest();
    expect(createPseudonymizer(TEST_KEY)('labels', 'hall2-printer-007')).toBe(
      `p:${mac.subarray(0, 16).toString('base64url')}`,
    );
  });

  it('are stable for equal values under one key, also across pseudonymizers', () => {
    fc.assert(
      fc.property(category, fc.string(), (c, value) => {
        const a = createPseudonymizer(TEST_KEY);
        const b = createPseudonymizer(Buffer.from(TEST_KEY));
        expect(a(c, value)).toBe(a(c, value));
        expect(a(c, value)).toBe(b(c, value));
        expect(a(c, value)).toMatch(PSEUDONYM_PATTERN);
      }),
    );
  });

  it('differ for different values, in different categories and across keys', () => {
    const p = createPseudonymizer(TEST_KEY);
    const other = createPseudonymizer(randomBytes(32));
    fc.assert(
      fc.property(category, category, fc.string(), fc.string(), (c, d, x, y) => {
        if (x !== y) expect(p(c, x)).not.toBe(p(c, y));
        if (c !== d) expect(p(c, x)).not.toBe(p(d, x));
        expect(other(c, x)).not.toBe(p(c, x));
      }),
    );
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => createPseudonymizer(randomBytes(31))).toThrow(/at least 32 bytes/);
  });

  it('stay the same from report to report under one key, and change with the key', () => {
    const devices = [1, 2, 3].map(realisticPrinter);
    const ids = (key: Buffer, at: string): string[] =>
      buildReport(
        { ...periodicInput(devices), generatedAt: new Date(at) },
        { consent: new Set(), pseudonymKey: key },
      ).devices.map((d) => d.id);
    const first = ids(TEST_KEY, '2025-03-14T10:05:00Z');
    expect(new Set(first).size).toBe(3);
    expect(ids(TEST_KEY, '2025-03-14T10:10:00Z')).toEqual(first);
    const rotated = ids(randomBytes(32), '2025-03-14T10:10:00Z');
    for (const id of rotated) expect(first).not.toContain(id);
  });

  it('never put the key in a report, in any common encoding', () => {
    const key = randomBytes(32);
    const devices = [1, 2, 3].map(realisticPrinter);
    const json = JSON.stringify(
      buildReport(periodicInput(devices), { consent: new Set(), pseudonymKey: key }),
    );
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(json).not.toContain(key.toString(encoding));
      expect(json).not.toContain(key.subarray(0, 8).toString(encoding));
    }
    expect(json).not.toContain(JSON.stringify(key.toJSON().data));
  });
});
