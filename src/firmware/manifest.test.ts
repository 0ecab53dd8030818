import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  duplicateTopLevelKey,
  isRfc3339Utc,
  parseManifest,
  serializeManifest,
  validateManifest,
  type FirmwareManifest,
} from './manifest.js';

const VALID: FirmwareManifest = {
  name: 'fusion-fw',
  models: ['Fusion P5', 'Process Station PS2+'],
  version: '4.3.0-rc.1',
  size: 1234,
  sha256: 'ab'.repeat(32),
  image: 'firmware.bin',
  releasedAt: '2026-05-01T00:00:00Z',
  expiresAt: '2027-05-01T00:00:00.5Z',
};

function reason(value: unknown): string {
  const result = validateManifest(value);
  return result.ok ? 'ok' : result.reason;
}

describe('validateManifest', () => {
  it('accepts a valid manifest, with and without allowDowngrade', () => {
    expect(reason(VALID)).toBe('ok');
    expect(validateManifest({ ...VALID, allowDowngrade: true })).toEqual({
      ok: true,
      manifest: { ...VALID, allowDowngrade: true },
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['an array', [VALID], /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['an extra field', { ...VALID, url: 'http://x' }, /unexpected field "url"/],
    [
      'a __proto__ field',
      JSON.parse(`{"__proto__":1,${JSON.stringify(VALID).slice(1)}`),
      /unexpected field "__proto__"/,
    ],
    ['no sha256', { ...VALID, sha256: undefined }, /missing field "sha256"|sha256/],
    ['a name with a space', { ...VALID, name: 'fusion fw' }, /"name"/],
    ['a name with a slash', { ...VALID, name: '../fw' }, /"name"/],
    ['a name of 65 characters', { ...VALID, name: 'n'.repeat(65) }, /"name"/],
    ['no models', { ...VALID, models: [] }, /"models"/],
    ['models as a string', { ...VALID, models: 'Fusion P5' }, /"models"/],
    ['65 models', { ...VALID, models: Array.from({ length: 65 }, (_, i) => `M${i}`) }, /"models"/],
    ['a numeric model', { ...VALID, models: [5] }, /hold strings/],
    ['an empty model', { ...VALID, models: [''] }, /1 to 64/],
    ['a model with a comma', { ...VALID, models: ['A,B'] }, /without commas/],
    ['a model with a newline', { ...VALID, models: ['A\nB'] }, /printable ASCII/],
    ['a model with a trailing space', { ...VALID, models: ['A '] }, /space/],
    ['a model listed twice', { ...VALID, models: ['A', 'A'] }, /twice/],
    ['a version with a v', { ...VALID, version: 'v4.3.0' }, /"version"/],
    ['a numeric version', { ...VALID, version: 4 }, /"version"/],
    ['size 0', { ...VALID, size: 0 }, /"size"/],
    ['a fractional size', { ...VALID, size: 1.5 }, /"size"/],
    ['a size as text', { ...VALID, size: '1234' }, /"size"/],
    ['a size over 8 GiB', { ...VALID, size: 2 ** 33 }, /"size"/],
    ['an uppercase sha256', { ...VALID, sha256: 'AB'.repeat(32) }, /"sha256"/],
    ['a short sha256', { ...VALID, sha256: 'ab'.repeat(31) }, /"sha256"/],
    ['an image path', { ...VALID, image: 'fw/firmware.bin' }, /"image"/],
    ['an image named manifest.sig', { ...VALID, image: 'manifest.sig' }, /"image"/],
    ['a dotted image name', { ...VALID, image: '..' }, /"image"/],
    ['a local time', { ...VALID, releasedAt: '2026-05-01T00:00:00+02:00' }, /"releasedAt"/],
    ['a date only', { ...VALID, expiresAt: '2027-05-01' }, /"expiresAt"/],
    ['an impossible date', { ...VALID, expiresAt: '2027-02-30T00:00:00Z' }, /"expiresAt"/],
    ['an expiry before the release', { ...VALID, expiresAt: '2026-04-01T00:00:00Z' }, /later than/],
    ['allowDowngrade as text', { ...VALID, allowDowngrade: 'yes' }, /"allowDowngrade"/],
  ])('refuses %s', (_name, value, expected) => {
    expect(reason(value)).toMatch(expected);
  });
});

describe('parseManifest', () => {
  const bytes = serializeManifest(VALID);

  it('reads the canonical bytes back', () => {
    expect(parseManifest(bytes)).toEqual({ ok: true, manifest: VALID });
    expect(bytes.toString()).toMatch(/^\{\n {2}"name": "fusion-fw",\n/);
    expect(bytes.toString().endsWith('}\n')).toBe(true);
  });

  it.each<[string, Buffer, RegExp]>([
    [
      'a byte order mark',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]),
      /byte order mark/,
    ],
    [
      'invalid UTF-8',
      Buffer.concat([bytes.subarray(0, 20), Buffer.from([0xff]), bytes.subarray(20)]),
      /not valid UTF-8/,
    ],
    ['not JSON', Buffer.from('name=fw'), /not JSON/],
    [
      'a duplicate key',
      Buffer.from(
        bytes.toString().replace('"name": "fusion-fw",', '"name": "a", "name": "fusion-fw",'),
      ),
      /"name" appears twice/,
    ],
    [
      'a duplicate key spelled with an escape',
      Buffer.from(
        bytes.toString().replace('"name": "fusion-fw",', '"n\\u0061me": "a", "name": "fusion-fw",'),
      ),
      /"name" appears twice/,
    ],
    ['more than 16 KiB', Buffer.concat([bytes, Buffer.alloc(17_000, 0x20)]), /at most 16384/],
  ])('refuses %s', (_name, input, expected) => {
    const result = parseManifest(input);
    expect(result.ok ? 'ok' : result.reason).toMatch(expected);
  });

  it('tells keys from values when looking for duplicates', () => {
    expect(duplicateTopLevelKey('{"a":"b","c":["a","a"],"d":"a"}')).toBeNull();
    expect(duplicateTopLevelKey('{"a":{"x":1},"b":{"x":2}}')).toBeNull();
    expect(duplicateTopLevelKey('{"a\\"":1,"a\\"" : 2}')).toBe('a"');
  });

  it('round-trips any valid manifest (property)', () => {
    const manifest = fc.record({
      name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
      models: fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Za-z0-9 +]{0,10}[a-z0-9+]$/), {
        minLength: 1,
        maxLength: 5,
      }),
      version: fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map((t) => t.join('.')),
      size: fc.integer({ min: 1, max: 2 ** 33 - 1 }),
      sha256: fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((a) => Buffer.from(a).toString('hex')),
      image: fc
        .stringMatching(/^[a-z][a-z0-9._-]{0,30}$/)
        .filter((n) => !n.startsWith('manifest.')),
      releasedAt: fc.constant('2026-01-01T00:00:00Z'),
      expiresAt: fc
        .date({
          min: new Date('2026-01-02T00:00:00Z'),
          max: new Date('2099-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString()),
      allowDowngrade: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(
      fc.property(manifest, (m) => {
        const { allowDowngrade, ...rest } = m;
        const clean: FirmwareManifest =
          allowDowngrade === undefined ? rest : { ...rest, allowDowngrade };
        expect(parseManifest(serializeManifest(clean))).toEqual({ ok: true, manifest: clean });
      }),
    );
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          fc.json().map((j) => Buffer.from(j)),
        ),
        (input) => {
          expect(typeof parseManifest(input).ok).toBe('boolean');
        },
      ),
    );
  });
});

describe('isRfc3339Utc', () => {
  it.each([
    ['2026-01-31T23:59:59Z', true],
    ['2024-02-29T00:00:00.123456789Z', true],
    ['2025-02-29T00:00:00Z', false],
    ['2026-01-31T24:00:00Z', false],
    ['2026-01-31t23:59:59z', false],
    ['2026-01-31 23:59:59Z', false],
    ['2026-01-31T23:59:59', false],
  ])('%s → %s', (text, expected) => {
    expect(isRfc3339Utc(text)).toBe(expected);
  });
});
