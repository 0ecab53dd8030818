import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveUplinkKeys,
  EnvelopeError,
  MAX_CIPHERTEXT_BYTES,
  MAX_REPORT_BYTES,
  openEnvelope,
  parseEnvelope,
  sealReport,
  type Envelope,
  type EnvelopeErrorReason,
  type UplinkKeys,
} from './seal.js';

const META = { siteId: 'site-1', seq: 1, kid: 'k1' };

function keys(): UplinkKeys {
  return deriveUplinkKeys(randomBytes(32));
}

function reasonOf(run: () => unknown): EnvelopeErrorReason | 'no error' {
  try {
    run();
  } catch (err) {
    if (err instanceof EnvelopeError) return err.reason;
    throw err;
  }
  return 'no error';
}

/** The envelope after a JSON round trip, as a receiver sees it. */
function overTheWire(envelope: Envelope): Envelope {
  return parseEnvelope(JSON.parse(JSON.stringify(envelope)));
}

function flipBit(base64: string, byte: number): string {
  const buf = Buffer.from(base64, 'base64');
  buf[byte] = (buf[byte] ?? 0) ^ 0x01;
  return buf.toString('base64');
}

/** Seals raw plaintext blocks (no padding added), with a valid MAC: what a buggy sender would send. */
function sealRawBlocks(plaintext: Buffer, k: UplinkKeys): Envelope {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', k.encKey, iv).setAutoPadding(false);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', k.macKey).update(iv).update(ct).digest();
  return {
    v: 1,
    ...META,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    mac: mac.toString('base64'),
  };
}

describe('deriveUplinkKeys', () => {
  it('derives two different 32-byte keys, the same for the same secret', () => {
    const secret = randomBytes(32);
    const a = deriveUplinkKeys(secret);
    expect(a.encKey).toHaveLength(32);
    expect(a.macKey).toHaveLength(32);
    expect(a.encKey.equals(a.macKey)).toBe(false);
    expect(deriveUplinkKeys(Buffer.from(secret)).encKey.equals(a.encKey)).toBe(true);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(reasonOf(() => deriveUplinkKeys(randomBytes(31)))).toBe('bad-key');
    expect(reasonOf(() => deriveUplinkKeys(Buffer.alloc(0)))).toBe('bad-key');
  });
});

describe('sealReport and openEnvelope', () => {
  it('round-trips a report through the wire format', () => {
    const k = keys();
    const report = { kind: 'status', devices: [{ id: 'printer-01', state: 'printing' }], n: 'é ✓' };
    const envelope = sealReport(report, { siteId: 'site-9', seq: 42, kid: 'k7' }, k);
    expect(envelope).toMatchObject({ v: 1, siteId: 'site-9', seq: 42, kid: 'k7' });
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(16);
    expect(Buffer.from(envelope.mac, 'base64')).toHaveLength(32);
    expect(openEnvelope(overTheWire(envelope), k)).toEqual(report);
  });

  it('uses a fresh IV for every seal, so equal reports never look equal', () => {
    const k = keys();
    const a = sealReport({ same: true }, META, k);
    const b = sealReport({ same: true }, META, k);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('refuses to open with another site’s keys', () => {
    const envelope = sealReport({ a: 1 }, META, keys());
    expect(reasonOf(() => openEnvelope(envelope, keys()))).toBe('bad-mac');
  });

  it('refuses an envelope whose MAC key is right but encryption key is not', () => {
    const k = keys();
    const envelope = sealReport({ a: 1 }, META, k);
    const other = { encKey: randomBytes(32), macKey: k.macKey };
    // Authentic ciphertext decrypted with the wrong key: padding (or JSON) fails, never silently.
    expect(['bad-padding', 'bad-json']).toContain(reasonOf(() => openEnvelope(envelope, other)));
  });

  it.each([
    ['iv', 0],
    ['iv', 15],
    ['ct', 0],
    ['ct', 17],
    ['mac', 0],
    ['mac', 31],
  ] as const)('refuses a flipped bit in %s byte %i', (field, byte) => {
    const k = keys();
    const envelope = sealReport({ kind: 'status', pad: 'x'.repeat(40) }, META, k);
    const tampered = overTheWire({ ...envelope, [field]: flipBit(envelope[field], byte) });
    expect(reasonOf(() => openEnvelope(tampered, k))).toBe('bad-mac');
  });

  it('refuses a truncated ciphertext', () => {
    const k = keys();
    const envelope = sealReport({ kind: 'status', pad: 'x'.repeat(40) }, META, k);
    const ct = Buffer.from(envelope.ct, 'base64');
    const oneBlockLess = overTheWire({ ...envelope, ct: ct.subarray(0, 32).toString('base64') });
    expect(reasonOf(() => openEnvelope(oneBlockLess, k))).toBe('bad-mac');
    const partialBlock = { ...envelope, ct: ct.subarray(0, 40).toString('base64') };
    expect(reasonOf(() => parseEnvelope(partialBlock))).toBe('malformed');
  });

  it('reports bad padding only for an authentic ciphertext', () => {
    const k = keys();
    const zeroPad = sealRawBlocks(Buffer.alloc(32, 0x41), k);
    expect(reasonOf(() => openEnvelope(overTheWire(zeroPad), k))).toBe('bad-padding');
    const lastByteZero = Buffer.alloc(16, 0x41);
    lastByteZero[15] = 0;
    expect(reasonOf(() => openEnvelope(sealRawBlocks(lastByteZero, k), k))).toBe('bad-padding');
    const tooLong = Buffer.alloc(16, 0x11);
    expect(reasonOf(() => openEnvelope(sealRawBlocks(tooLong, k), k))).toBe('bad-padding');
  });

  it('reports an authentic plaintext that is not UTF-8 JSON', () => {
    const k = keys();
    const notJson = Buffer.concat([Buffer.from('not json'), Buffer.alloc(8, 8)]);
    expect(reasonOf(() => openEnvelope(sealRawBlocks(notJson, k), k))).toBe('bad-json');
    const badUtf8 = Buffer.concat([Buffer.from('"\xff\xfe"', 'latin1'), Buffer.alloc(12, 12)]);
    expect(reasonOf(() => openEnvelope(sealRawBlocks(badUtf8, k), k))).toBe('bad-json');
  });

  it.each([
    ['a zero seq', { ...META, seq: 0 }],
    ['a fractional seq', { ...META, seq: 1.5 }],
    ['an unsafe seq', { ...META, seq: 2 ** 53 }],
    ['an empty site id', { ...META, siteId: '' }],
    ['a site id with a slash', { ...META, siteId: 'a/b' }],
    ['a kid of 65 characters', { ...META, kid: 'k'.repeat(65) }],
  ])('refuses to seal with %s', (_name, meta) => {
    expect(reasonOf(() => sealReport({}, meta, keys()))).toBe('malformed');
  });

  it('refuses a report that is not JSON or too large', () => {
    const k = keys();
    expect(reasonOf(() => sealReport(undefined, META, k))).toBe('bad-json');
    expect(reasonOf(() => sealReport({ n: 1n }, META, k))).toBe('bad-json');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(reasonOf(() => sealReport(circular, META, k))).toBe('bad-json');
    // A JSON string is its characters plus two quotes.
    const big = 'x'.repeat(MAX_REPORT_BYTES - 2);
    const largest = sealReport(big, META, k);
    expect(Buffer.from(largest.ct, 'base64')).toHaveLength(MAX_CIPHERTEXT_BYTES);
    expect(openEnvelope(overTheWire(largest), k)).toBe(big);
    expect(reasonOf(() => sealReport(`${big}x`, META, k))).toBe('too-large');
  });

  it('refuses keys and IVs of the wrong length', () => {
    const k = keys();
    expect(reasonOf(() => sealReport({}, META, { ...k, macKey: randomBytes(16) }))).toBe('bad-key');
    expect(reasonOf(() => sealReport({}, META, k, randomBytes(12)))).toBe('malformed');
  });

  it('round-trips any JSON value (property)', () => {
    const k = keys();
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (v, seq) => {
          const envelope = sealReport(v, { siteId: 's', seq, kid: 'k' }, k);
          expect(openEnvelope(overTheWire(envelope), k)).toEqual(JSON.parse(JSON.stringify(v)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('parseEnvelope', () => {
  const valid = sealReport({ a: 1 }, META, keys());
  const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');

  it('accepts what sealReport produces', () => {
    expect(overTheWire(valid)).toEqual(valid);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [valid]],
    ['a string', JSON.stringify(valid)],
    ['a missing key', { ...valid, mac: undefined }],
    ['an extra key', { ...valid, extra: 1 }],
    ['a __proto__ key', JSON.parse(JSON.stringify({ ...valid }).replace('{', '{"__proto__":{},'))],
    ['version 2', { ...valid, v: 2 }],
    ['version "1"', { ...valid, v: '1' }],
    ['seq 0', { ...valid, seq: 0 }],
    ['seq -1', { ...valid, seq: -1 }],
    ['seq 1.5', { ...valid, seq: 1.5 }],
    ['seq "1"', { ...valid, seq: '1' }],
    ['seq beyond 2^53', { ...valid, seq: 2 ** 53 }],
    ['a numeric site id', { ...valid, siteId: 7 }],
    ['a site id of 129 characters', { ...valid, siteId: 's'.repeat(129) }],
    ['a site id with a newline', { ...valid, siteId: 'a\nb' }],
    ['an empty kid', { ...valid, kid: '' }],
    ['an iv of 15 bytes', { ...valid, iv: b64(15) }],
    ['an iv of 17 bytes', { ...valid, iv: b64(17) }],
    ['an unpadded iv', { ...valid, iv: valid.iv.replace(/=+$/, '') }],
    ['a base64url iv', { ...valid, iv: '-_' + valid.iv.slice(2) }],
    ['an iv with spaces', { ...valid, iv: ` ${valid.iv.slice(1)}` }],
    ['a non-canonical iv (trailing bits)', { ...valid, iv: 'AAAAAAAAAAAAAAAAAAAAAB==' }],
    ['a numeric iv', { ...valid, iv: 16 }],
    ['a mac of 31 bytes', { ...valid, mac: b64(31) }],
    ['a mac of 33 bytes', { ...valid, mac: b64(33) }],
    ['an empty ct', { ...valid, ct: '' }],
    ['a ct of 15 bytes', { ...valid, ct: b64(15) }],
    ['a ct of 33 bytes', { ...valid, ct: b64(33) }],
    ['a ct with invalid characters', { ...valid, ct: '!!!!' + valid.ct.slice(4) }],
  ])('refuses %s as malformed', (_name, value) => {
    expect(reasonOf(() => parseEnvelope(value))).toBe('malformed');
  });

  it('refuses a ciphertext over the size limit without decoding it', () => {
    expect(reasonOf(() => parseEnvelope({ ...valid, ct: 'A'.repeat(800_000) }))).toBe('too-large');
  });

  it('throws only EnvelopeError for any input (property)', () => {
    const field = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.base64String());
    const envelopeLike = fc.record(
      {
        v: fc.oneof(fc.constant(1), field),
        siteId: field,
        seq: field,
        kid: field,
        iv: field,
        ct: field,
        mac: field,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), envelopeLike), (value) => {
        const reason = reasonOf(() => parseEnvelope(value));
        expect(['malformed', 'too-large']).toContain(reason);
      }),
    );
  });
});

// Vectors computed with the openssl CLI (3.0): `openssl kdf … HKDF`, `openssl enc -aes-256-cbc`,
// `openssl mac … HMAC` over iv || ct. They pin the wire format independently of this module.
const KAT = {
  /** Bytes 0x00…0x1f (RFC 5869-style test input, not a secret). */
  secretHex: Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'),
  encKeyHex: '8c9af55e601042ba744fddedae421ceaeafaa852531f3314176b6c1d4852414c',
  macKeyHex: 'ae8f6cdc7961a6fdf6850360fef98b3e1a356d6a043b616dfdd1c66b25f85ddb',
  ivHex: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  report: { kind: 'status', at: '2026-01-01T00:00:00.000Z', devices: 3, note: 'é ✓' },
  envelope: {
    v: 1,
    siteId: 'site-kat',
    seq: 42,
    kid: 'k1',
    iv: 'oKGio6SlpqeoqaqrrK2urw==',
    ct: 'EPF1gELRQx9ez+/42+mu9uclIMqTT3Vas0UgE0MwQyGubmzvvoQoOppPx4l/NKz5eHxz5/wcxel0nQgL4tU2s365os8FabGrA7S6la2ZnQ4=',
    mac: 'nqfa7gEZesShKy/U7WMKZLCPkAPUVpcL7pOVkRZ21A4=',
  },
} as const;

describe('known answers', () => {
  it('matches vectors computed with openssl', () => {
    const k = deriveUplinkKeys(Buffer.from(KAT.secretHex, 'hex'));
    expect(k.encKey.toString('hex')).toBe(KAT.encKeyHex);
    expect(k.macKey.toString('hex')).toBe(KAT.macKeyHex);
    const meta = { siteId: 'site-kat', seq: 42, kid: 'k1' };
    expect(sealReport(KAT.report, meta, k, Buffer.from(KAT.ivHex, 'hex'))).toEqual(KAT.envelope);
    expect(openEnvelope(parseEnvelope(KAT.envelope), k)).toEqual(KAT.report);
  });

  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  const hasOpenssl = openssl.status === 0;
  const title = hasOpenssl
    ? `agrees with the openssl CLI on fresh random inputs (${openssl.stdout.trim()})`
    : 'agrees with the openssl CLI on fresh random inputs (skipped: no openssl on PATH)';

  it.skipIf(!hasOpenssl)(title, () => {
    const run = (args: string[], input?: Buffer): Buffer => {
      const res = spawnSync('openssl', args, { input: input ?? Buffer.alloc(0) });
      if (res.status !== 0)
        throw new Error(`openssl ${args[0] ?? ''} failed: ${String(res.stderr)}`);
      return res.stdout;
    };
    const hkdf = (secret: Buffer, info: string): string =>
      run([
        'kdf',
        '-keylen',
        '32',
        '-kdfopt',
        'digest:SHA256',
        '-kdfopt',
        `hexkey:${secret.toString('hex')}`,
        '-kdfopt',
        `info:${info}`,
        'HKDF',
      ])
        .toString('utf8')
        .replace(/[:\s]/g, '')
        .toLowerCase();
    const secret = randomBytes(48);
    const iv = randomBytes(16);
    const report = { kind: 'status', random: randomBytes(37).toString('hex'), text: 'grüße' };
    const k = deriveUplinkKeys(secret);
    expect(k.encKey.toString('hex')).toBe(hkdf(secret, 'cc-uplink-enc-v1'));
    expect(k.macKey.toString('hex')).toBe(hkdf(secret, 'cc-uplink-mac-v1'));

    const envelope = sealReport(report, { siteId: 'site-x', seq: 7, kid: 'k1' }, k, iv);
    const cbc = ['-aes-256-cbc', '-K', k.encKey.toString('hex'), '-iv', iv.toString('hex')];
    const ct = run(['enc', ...cbc], Buffer.from(JSON.stringify(report), 'utf8'));
    expect(envelope.ct).toBe(ct.toString('base64'));
    const mac = run(
      [
        'mac',
        '-digest',
        'SHA256',
        '-macopt',
        `hexkey:${k.macKey.toString('hex')}`,
        '-binary',
        'HMAC',
      ],
      Buffer.concat([iv, ct]),
    );
    expect(envelope.mac).toBe(mac.toString('base64'));
    const decrypted = run(['enc', '-d', ...cbc], Buffer.from(envelope.ct, 'base64'));
    expect(JSON.parse(decrypted.toString('utf8'))).toEqual(report);
  });
});
