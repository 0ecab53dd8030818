import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { connect, type ConnectionOptions } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcError } from '../domain/index.js';
import { ensureTlsCertificate, tlsServerOptions, type TlsMaterial } from './index.js';

function handshake(
  port: number,
  options: ConnectionOptions,
): Promise<{ ok: boolean; protocol: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...options },
      () => {
        const protocol = socket.getProtocol();
        socket.end();
        resolve({ ok: true, protocol });
      },
    );
    socket.once('error', () => resolve({ ok: false, protocol: null }));
  });
}

describe('TLS certificate', () => {
  let dir: string;
  let material: TlsMaterial;
  let served: TlsMaterial;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-tls-'));
    material = await ensureTlsCertificate({ dataDir: dir, hostNames: ['cc.plant.example'] });
    served = material;
    server = createServer(tlsServerOptions(material), (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a certificate with SANs for the host name, localhost and loopback', () => {
    expect(material.source).toBe('generated');
    expect(material.generated).toBe(true);
    const x509 = new X509Certificate(material.cert);
    expect(x509.subjectAltName).toContain('DNS:cc.plant.example');
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.ca).toBe(false);
    expect(material.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('keeps the private key readable by its owner only', async () => {
    expect((await stat(material.paths.key)).mode & 0o077).toBe(0);
  });

  it('reuses the generated certificate on the next start', async () => {
    const again = await ensureTlsCertificate({ dataDir: dir, hostNames: ['cc.plant.example'] });
    expect(again.source).toBe('existing');
    expect(again.generated).toBe(false);
    expect(again.fingerprint256).toBe(material.fingerprint256);
  });

  it('renews a generated certificate that expires within 30 days', async () => {
    const later = Date.now() + 810 * 86_400_000;
    const renewed = await ensureTlsCertificate({ dataDir: dir, hostNames: [], now: () => later });
    expect(renewed.source).toBe('generated');
    expect(renewed.fingerprint256).not.toBe(material.fingerprint256);
    material = await ensureTlsCertificate({ dataDir: dir, hostNames: ['cc.plant.example'] });
  });

  it('generates a new certificate when the public host name changes', async () => {
    const moved = await ensureTlsCertificate({ dataDir: dir, hostNames: ['cc2.plant.example'] });
    expect(moved.generated).toBe(true);
    expect(new X509Certificate(moved.cert).subjectAltName).toContain('DNS:cc2.plant.example');
    material = await ensureTlsCertificate({ dataDir: dir, hostNames: ['cc.plant.example'] });
    expect(material.generated).toBe(true);
  });

  it('is refused by openssl s_client offering only TLS 1.1, and accepted with TLS 1.2', async () => {
    const sClient = async (version: string): Promise<number | null> => {
      const child = spawn(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${port}`, version, '-cipher', 'DEFAULT@SECLEVEL=0'],
        { stdio: ['ignore', 'ignore', 'ignore'] },
      );
      const [code] = (await once(child, 'close')) as [number | null];
      return code;
    };
    expect(await sClient('-tls1_1')).not.toBe(0);
    expect(await sClient('-tls1_2')).toBe(0);
  });

  it('verifies, host name included, for a client that trusts the downloaded certificate', async () => {
    const trusted = await handshake(port, {
      rejectUnauthorized: true,
      ca: served.cert,
      servername: 'localhost',
    });
    expect(trusted.ok).toBe(true);
    const wrongName = await handshake(port, {
      rejectUnauthorized: true,
      ca: served.cert,
      servername: 'evil.example',
    });
    expect(wrongName.ok).toBe(false);
    const untrusted = await handshake(port, { rejectUnauthorized: true, servername: 'localhost' });
    expect(untrusted.ok).toBe(false);
  });

  it('accepts TLS 1.2 and 1.3 and refuses TLS 1.1 and 1.0', async () => {
    expect(await handshake(port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).toEqual({
      ok: true,
      protocol: 'TLSv1.3',
    });
    expect(await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toEqual({
      ok: true,
      protocol: 'TLSv1.2',
    });
    expect(
      (
        await handshake(port, {
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        })
      ).ok,
    ).toBe(false);
    expect(
      (
        await handshake(port, {
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        })
      ).ok,
    ).toBe(false);
  });

  it('refuses CBC-only and non-forward-secret TLS 1.2 clients', async () => {
    expect(
      (
        await handshake(port, {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA',
        })
      ).ok,
    ).toBe(false);
    expect(
      (await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' })).ok,
    ).toBe(false);
  });

  describe("the admin's own certificate", () => {
    let own: { cert: string; key: string };
    let other: { cert: string; key: string };
    beforeAll(async () => {
      const a = await generate([{ name: 'commonName', value: 'own' }], {
        keyType: 'ec',
        algorithm: 'sha256',
      });
      const b = await generate([{ name: 'commonName', value: 'other' }], {
        keyType: 'ec',
        algorithm: 'sha256',
      });
      own = { cert: a.cert, key: a.private };
      other = { cert: b.cert, key: b.private };
    });

    const write = async (name: string, text: string): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    };

    it('is used when it matches its key', async () => {
      const m = await ensureTlsCertificate({
        dataDir: dir,
        certFile: await write('own.crt', own.cert),
        keyFile: await write('own.key', own.key),
        hostNames: [],
      });
      expect(m.source).toBe('configured');
    });

    it.each([
      [
        'a key that does not match',
        (): [string, string] => [own.cert, other.key],
        /does not match/,
      ],
      [
        'garbage instead of a certificate',
        (): [string, string] => ['hello', own.key],
        /not a PEM certificate/,
      ],
      [
        'garbage instead of a key',
        (): [string, string] => [
          own.cert,
          '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        ],
        /not a PEM private key/,
      ],
    ])('is refused with TLS_INVALID for %s', async (_name, pick, message) => {
      const [cert, key] = pick();
      const error = await ensureTlsCertificate({
        dataDir: dir,
        certFile: await write('c.crt', cert),
        keyFile: await write('c.key', key),
        hostNames: [],
      }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(CcError);
      expect((error as CcError).code).toBe('TLS_INVALID');
      expect((error as CcError).message).toMatch(message);
    });

    it('is refused when missing or expired', async () => {
      const missing = await ensureTlsCertificate({
        dataDir: dir,
        certFile: join(dir, 'nope.crt'),
        keyFile: join(dir, 'nope.key'),
        hostNames: [],
      }).catch((err: unknown) => err);
      expect((missing as CcError).message).toMatch(/cannot read/);
      const old = await generate([{ name: 'commonName', value: 'old' }], {
        keyType: 'ec',
        algorithm: 'sha256',
        notBeforeDate: new Date('2020-01-01'),
        notAfterDate: new Date('2021-01-01'),
      });
      const expired = await ensureTlsCertificate({
        dataDir: dir,
        certFile: await write('old.crt', old.cert),
        keyFile: await write('old.key', old.private),
        hostNames: [],
      }).catch((err: unknown) => err);
      expect((expired as CcError).message).toMatch(/expired/);
    });
  });
});
