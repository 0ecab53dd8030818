// The sealing codec of the cloud uplink (DESIGN §4.4, docs/protocols/cloud-uplink.md): keys derived
// from the site secret, encrypt-then-MAC (AES-256-CBC + HMAC-SHA256) of the JSON report, and strict
// parsing of the envelope that carries it. Pure crypto, no I/O: the outbox, the sender and the
// reference cloud receiver share it, so both ends always agree on the bytes.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export interface Envelope {
  v: 1;
  siteId: string;
  seq: number;
  kid: string;
  /** base64 of the 16-byte CBC IV. */
  iv: string;
  /** base64 of the AES-256-CBC ciphertext (PKCS#7 padding) of the UTF-8 JSON report. */
  ct: string;
  /** base64 of HMAC-SHA256(macKey, iv || ct). */
  mac: string;
}

export interface UplinkKeys {
  encKey: Buffer;
  macKey: Buffer;
}

export interface SealMeta {
  siteId: string;
  seq: number;
  kid: string;
}

export type EnvelopeErrorReason =
  /** Not an envelope: wrong shape, type, length, base64 syntax or version. */
  | 'malformed'
  /** The ciphertext (or the report to seal) is larger than MAX_CIPHERTEXT_BYTES. */
  | 'too-large'
  /** A site secret shorter than 32 bytes, or keys that are not 32 bytes each. */
  | 'bad-key'
  /** The MAC does not verify: tampered, truncated, or sealed with another key. */
  | 'bad-mac'
  /** Authentic ciphertext whose PKCS#7 padding is wrong: the sender sealed it wrongly. */
  | 'bad-padding'
  /** Authentic plaintext that is not UTF-8 JSON, or a report that cannot be written as JSON. */
  | 'bad-json';

export class EnvelopeError extends Error {
  readonly reason: EnvelopeErrorReason;

  constructor(reason: EnvelopeErrorReason, message: string) {
    super(message);
    this.name = 'EnvelopeError';
    this.reason = reason;
  }
}

export function isEnvelopeError(err: unknown): err is EnvelopeError {
  return err instanceof EnvelopeError;
}

export const ENVELOPE_VERSION = 1;
export const KEY_BYTES = 32;
export const MIN_SITE_SECRET_BYTES = 32;
export const IV_BYTES = 16;
export const MAC_BYTES = 32;
const BLOCK_BYTES = 16;
/**
 * Reports are small status summaries; 512 KiB of ciphertext keeps a whole envelope (base64 and
 * JSON overhead included) under the receiver's 1 MiB body limit.
 */
export const MAX_CIPHERTEXT_BYTES = 512 * 1024;
/** PKCS#7 always adds at least one byte, so this is the largest report that seals. */
export const MAX_REPORT_BYTES = MAX_CIPHERTEXT_BYTES - 1;

export const ENC_INFO = 'cc-uplink-enc-v1';
export const MAC_INFO = 'cc-uplink-mac-v1';

/** Ids travel in URLs, file names and logs: a safe, bounded alphabet. */
export const SITE_ID_PATTERN = /^[A-Za-z0-9][\w.:-]{0,127}$/;
export const KID_PATTERN = /^[A-Za-z0-9][\w.:-]{0,63}$/;

const ENVELOPE_KEYS = ['ct', 'iv', 'kid', 'mac', 'seq', 'siteId', 'v'];
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

export function deriveUplinkKeys(siteSecret: Buffer): UplinkKeys {
  if (siteSecret.length < MIN_SITE_SECRET_BYTES) {
    throw new EnvelopeError(
      'bad-key',
      `the site secret must be at least ${MIN_SITE_SECRET_BYTES} bytes (got ${siteSecret.length})`,
    );
  }
  // Two independent keys from one secret: a key is never used for both encryption and MAC.
  const salt = Buffer.alloc(0);
  return {
    encKey: Buffer.from(hkdfSync('sha256', siteSecret, salt, ENC_INFO, KEY_BYTES)),
    macKey: Buffer.from(hkdfSync('sha256', siteSecret, salt, MAC_INFO, KEY_BYTES)),
  };
}

function checkKeys(keys: UplinkKeys): void {
  if (keys.encKey.length !== KEY_BYTES || keys.macKey.length !== KEY_BYTES) {
    throw new EnvelopeError('bad-key', `uplink keys must be ${KEY_BYTES} bytes each`);
  }
}

function checkMeta(meta: SealMeta): void {
  if (!SITE_ID_PATTERN.test(meta.siteId)) {
    throw new EnvelopeError(
      'malformed',
      'siteId must be 1–128 letters, digits, ".", "_", ":", "-"',
    );
  }
  if (!KID_PATTERN.test(meta.kid)) {
    throw new EnvelopeError('malformed', 'kid must be 1–64 letters, digits, ".", "_", ":", "-"');
  }
  if (!Number.isSafeInteger(meta.seq) || meta.seq < 1) {
    throw new EnvelopeError('malformed', 'seq must be a positive safe integer');
  }
}

function computeMac(macKey: Buffer, iv: Buffer, ct: Buffer): Buffer {
  return createHmac('sha256', macKey).update(iv).update(ct).digest();
}

// JSON.stringify returns undefined for undefined, functions and symbols; its type says string.
const stringify: (value: unknown) => string | undefined = JSON.stringify;

function toJson(report: unknown): string {
  let json: string | undefined;
  try {
    json = stringify(report);
  } catch (err) {
    // Circular structures and BigInt values.
    throw new EnvelopeError('bad-json', `the report cannot be written as JSON: ${String(err)}`);
  }
  if (json === undefined) {
    throw new EnvelopeError('bad-json', 'the report cannot be written as JSON (it is undefined)');
  }
  return json;
}

export function sealReport(
  report: unknown,
  meta: SealMeta,
  keys: UplinkKeys,
  iv: Buffer = randomBytes(IV_BYTES),
): Envelope {
  checkKeys(keys);
  checkMeta(meta);
  if (iv.length !== IV_BYTES) {
    throw new EnvelopeError('malformed', `the IV must be ${IV_BYTES} bytes`);
  }
  const plaintext = Buffer.from(toJson(report), 'utf8');
  if (plaintext.length > MAX_REPORT_BYTES) {
    throw new EnvelopeError(
      'too-large',
      `the report is ${plaintext.length} bytes of JSON; at most ${MAX_REPORT_BYTES} seal`,
    );
  }
  const cipher = createCipheriv('aes-256-cbc', keys.encKey, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    v: ENVELOPE_VERSION,
    siteId: meta.siteId,
    seq: meta.seq,
    kid: meta.kid,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    mac: computeMac(keys.macKey, iv, ct).toString('base64'),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Canonical padded base64 only, so one byte string has exactly one spelling on the wire. */
function decodeBase64(field: string, value: unknown, maxBytes: number): Buffer {
  if (typeof value !== 'string') {
    throw new EnvelopeError('malformed', `${field} must be a base64 string`);
  }
  if (value.length > base64Length(maxBytes)) {
    throw new EnvelopeError(
      field === 'ct' ? 'too-large' : 'malformed',
      `${field} is longer than ${maxBytes} bytes`,
    );
  }
  const decoded = Buffer.from(value, 'base64');
  if (!BASE64_ALPHABET.test(value) || decoded.toString('base64') !== value) {
    throw new EnvelopeError('malformed', `${field} is not canonical base64`);
  }
  return decoded;
}

function decodeFixed(field: string, value: unknown, bytes: number): Buffer {
  const decoded = decodeBase64(field, value, bytes);
  if (decoded.length !== bytes) {
    throw new EnvelopeError('malformed', `${field} must be ${bytes} bytes`);
  }
  return decoded;
}

/** Validates an untrusted value (a parsed HTTP body, an outbox record) as an envelope. */
export function parseEnvelope(value: unknown): Envelope {
  if (!isRecord(value)) throw new EnvelopeError('malformed', 'an envelope is a JSON object');
  const keys = Object.keys(value).sort();
  if (keys.length !== ENVELOPE_KEYS.length || keys.some((k, i) => k !== ENVELOPE_KEYS[i])) {
    throw new EnvelopeError(
      'malformed',
      `an envelope has exactly the keys ${ENVELOPE_KEYS.join(', ')}`,
    );
  }
  const { v, siteId, seq, kid, iv, ct, mac } = value;
  if (v !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      'malformed',
      `unsupported envelope version (expected v: ${ENVELOPE_VERSION})`,
    );
  }
  if (typeof siteId !== 'string' || typeof kid !== 'string' || typeof seq !== 'number') {
    throw new EnvelopeError('malformed', 'siteId and kid must be strings, seq a number');
  }
  checkMeta({ siteId, seq, kid });
  decodeFixed('iv', iv, IV_BYTES);
  decodeFixed('mac', mac, MAC_BYTES);
  const ciphertext = decodeBase64('ct', ct, MAX_CIPHERTEXT_BYTES);
  if (ciphertext.length === 0 || ciphertext.length % BLOCK_BYTES !== 0) {
    throw new EnvelopeError('malformed', `ct must be a non-empty multiple of ${BLOCK_BYTES} bytes`);
  }
  return {
    v: ENVELOPE_VERSION,
    siteId,
    seq,
    kid,
    iv: iv as string,
    ct: ct as string,
    mac: mac as string,
  };
}

/**
 * Checks the MAC in constant time and returns the decoded IV and ciphertext. Throws 'bad-mac'. The
 * MAC covers iv || ct only (DESIGN §4.4): siteId, seq and kid are not authenticated by it.
 */
export function verifyEnvelopeMac(
  envelope: Envelope,
  keys: UplinkKeys,
): { iv: Buffer; ct: Buffer } {
  checkKeys(keys);
  const iv = Buffer.from(envelope.iv, 'base64');
  const ct = Buffer.from(envelope.ct, 'base64');
  const mac = Buffer.from(envelope.mac, 'base64');
  const expected = computeMac(keys.macKey, iv, ct);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new EnvelopeError('bad-mac', 'the envelope MAC does not verify');
  }
  return { iv, ct };
}

/** Verifies, then decrypts and parses the report. Give it a parsed envelope (parseEnvelope). */
export function openEnvelope(envelope: Envelope, keys: UplinkKeys): unknown {
  // Encrypt-then-MAC: nothing is decrypted before the MAC verifies, so padding and JSON errors
  // below only ever concern authentic ciphertext and cannot serve as a padding oracle.
  const { iv, ct } = verifyEnvelopeMac(envelope, keys);
  if (iv.length !== IV_BYTES || ct.length === 0 || ct.length % BLOCK_BYTES !== 0) {
    throw new EnvelopeError('malformed', 'the envelope was not checked with parseEnvelope');
  }
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', keys.encKey, iv);
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new EnvelopeError('bad-padding', 'the decrypted report has invalid PKCS#7 padding');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext);
  } catch {
    throw new EnvelopeError('bad-json', 'the decrypted report is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EnvelopeError('bad-json', 'the decrypted report is not JSON');
  }
}
