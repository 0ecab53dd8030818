import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDeviceCertificate, loadOrCreateDeviceCertificate } from './device-certificate.js';

describe('device certificates', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-sim-cert-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are self-signed EC P-256 for the device id and its address', async () => {
    const material = await generateDeviceCertificate('printer-07', '127.0.0.17');
    const x509 = new X509Certificate(material.cert);
    expect(x509.subject).toBe('CN=printer-07');
    expect(x509.issuer).toBe('CN=printer-07');
    expect(x509.subjectAltName).toBe('IP Address:127.0.0.17');
    expect(x509.checkIP('127.0.0.17')).toBe('127.0.0.17');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(material.key))).toBe(true);
    expect(material.fingerprint256).toBe(x509.fingerprint256);
    expect(material.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const other = await generateDeviceCertificate('printer-07', '127.0.0.17');
    expect(other.fingerprint256).not.toBe(material.fingerprint256);
  });

  it('are kept in the state directory (key 0600) and reused', async () => {
    const first = await loadOrCreateDeviceCertificate({
      deviceId: 'printer-01',
      address: '127.0.0.11',
      stateDir: join(dir, 'state'),
    });
    expect((await stat(join(dir, 'state', 'printer-01.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'state', 'printer-01.crt'), 'utf8')).toBe(first.cert);
    const again = await loadOrCreateDeviceCertificate({
      deviceId: 'printer-01',
      address: '127.0.0.99',
      stateDir: join(dir, 'state'),
    });
    expect(again).toEqual(first);
  });

  it('replace a stored pair that is unusable', async () => {
    const stored = await loadOrCreateDeviceCertificate({
      deviceId: 'p',
      address: '127.0.0.11',
      stateDir: dir,
    });
    await writeFile(join(dir, 'p.key'), 'garbage');
    const fresh = await loadOrCreateDeviceCertificate({
      deviceId: 'p',
      address: '127.0.0.11',
      stateDir: dir,
    });
    expect(fresh.fingerprint256).not.toBe(stored.fingerprint256);
    expect(await readFile(join(dir, 'p.key'), 'utf8')).toBe(fresh.key);
  });

  it('refuse a device id that would leave the state directory', async () => {
    for (const deviceId of ['../escape', 'a/b', '.hidden', '']) {
      await expect(
        loadOrCreateDeviceCertificate({ deviceId, address: '127.0.0.11', stateDir: dir }),
      ).rejects.toThrow(/cannot name a certificate file/);
    }
  });
});
