// The server's TLS certificate: the admin's own (checked at start-up), or a self-signed one generated
// into the data directory on first start, reused, and renewed 30 days before it expires.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';

const VALIDITY_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

export interface TlsMaterial {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** SHA-256 fingerprint of the leaf, colon-separated hex as openssl prints it. */
  fingerprint256: string;
  source: 'generated' | 'existing' | 'configured';
  /** True when this call generated a new certificate (clients must trust the new one). */
  generated: boolean;
  validTo: string;
  paths: { cert: string; key: string };
}

export interface EnsureTlsOptions {
  dataDir: string;
  certFile?: string | null;
  keyFile?: string | null;
  /** Host names for the generated certificate's SANs (localhost and local addresses are added). */
  hostNames: string[];
  logger?: Logger;
  /** Clock, for tests of renewal. */
  now?: () => number;
}

/** The usable DNS names among the configured host names (addresses and junk left out). */
function dnsNames(hostNames: string[]): string[] {
  return hostNames
    .filter((name) => !isIP(name) && /^[A-Za-z0-9.-]{1,253}$/.test(name))
    .map((name) => name.toLowerCase());
}

/** Every name and address clients may use to reach this machine. */
export function subjectAltNames(hostNames: string[]): { dns: string[]; ips: string[] } {
  const dns = new Set<string>(['localhost']);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const name of dnsNames(hostNames)) dns.add(name);
  for (const name of hostNames) if (isIP(name)) ips.add(name);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (!info.address.includes('%')) ips.add(info.address);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}

async function generateSelfSigned(
  hostNames: string[],
  now: number,
): Promise<{ cert: string; key: string }> {
  const { dns, ips } = subjectAltNames(hostNames);
  const commonName = dns.find((d) => d !== 'localhost') ?? 'localhost';
  const pems = await generate(
    [
      { name: 'commonName', value: commonName },
      { name: 'organizationName', value: 'Command Center' },
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 60_000),
      notAfterDate: new Date(now + VALIDITY_DAYS * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...dns.map((value) => ({ type: 2 as const, value })),
            ...ips.map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/** Configured host names the certificate does not cover (interface addresses may change freely). */
function missingHostNames(x509: X509Certificate, hostNames: string[]): string[] {
  return dnsNames(hostNames).filter(
    (name) => x509.checkHost(name, { wildcards: false }) === undefined,
  );
}

function parseMaterial(
  certPem: string,
  keyPem: string,
  names: { cert: string; key: string },
): { x509: X509Certificate; key: KeyObject } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    throw new CcError('TLS_INVALID', `${names.cert} is not a PEM certificate`, {
      file: names.cert,
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new CcError('TLS_INVALID', `${names.key} is not a PEM private key (or it is encrypted)`, {
      file: names.key,
    });
  }
  if (!x509.checkPrivateKey(key)) {
    throw new CcError(
      'TLS_INVALID',
      `${names.key} does not match the certificate in ${names.cert}`,
      { file: names.key },
    );
  }
  return { x509, key };
}

async function readPem(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > 1024 * 1024) throw new Error('too large');
    return text;
  } catch {
    throw new CcError(
      'TLS_INVALID',
      `cannot read ${file} (missing, unreadable or larger than 1 MiB)`,
      { file },
    );
  }
}

function material(
  certPem: string,
  keyPem: string,
  x509: X509Certificate,
  source: TlsMaterial['source'],
  paths: TlsMaterial['paths'],
): TlsMaterial {
  return {
    cert: certPem,
    key: keyPem,
    fingerprint256: x509.fingerprint256,
    source,
    generated: source === 'generated',
    validTo: new Date(x509.validTo).toISOString(),
    paths,
  };
}

export async function ensureTlsCertificate(options: EnsureTlsOptions): Promise<TlsMaterial> {
  const now = (options.now ?? Date.now)();
  if (options.certFile && options.keyFile) {
    const paths = { cert: options.certFile, key: options.keyFile };
    const [certPem, keyPem] = await Promise.all([readPem(paths.cert), readPem(paths.key)]);
    const { x509 } = parseMaterial(certPem, keyPem, paths);
    if (Date.parse(x509.validTo) <= now) {
      throw new CcError('TLS_INVALID', `${paths.cert} expired on ${x509.validTo}; renew it`, {
        file: paths.cert,
      });
    }
    if (Date.parse(x509.validFrom) > now) {
      throw new CcError('TLS_INVALID', `${paths.cert} is not valid before ${x509.validFrom}`, {
        file: paths.cert,
      });
    }
    return material(certPem, keyPem, x509, 'configured', paths);
  }

  const dir = join(options.dataDir, 'tls');
  const paths = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await Promise.all([
    readFile(paths.cert, 'utf8'),
    readFile(paths.key, 'utf8'),
  ]).catch(() => null);
  if (existing) {
    try {
      const { x509 } = parseMaterial(existing[0], existing[1], paths);
      const missing = missingHostNames(x509, options.hostNames);
      if (Date.parse(x509.validTo) - now <= RENEW_BEFORE_DAYS * DAY_MS) {
        options.logger?.info(
          { validTo: x509.validTo },
          'generated certificate expires soon; generating a new one',
        );
      } else if (missing.length > 0) {
        // The public host name changed: a certificate without it would fail host name checks.
        options.logger?.info(
          { missing },
          'generated certificate lacks a host name; generating a new one',
        );
      } else {
        return material(existing[0], existing[1], x509, 'existing', paths);
      }
    } catch (err) {
      options.logger?.warn({ err }, 'generated certificate is unusable; generating a new one');
    }
  }
  const fresh = await generateSelfSigned(options.hostNames, now);
  // Key first, each written atomically, so a crash never leaves a certificate without its key.
  await writeFile(`${paths.key}.tmp`, fresh.key, { mode: 0o600 });
  await rename(`${paths.key}.tmp`, paths.key);
  await writeFile(`${paths.cert}.tmp`, fresh.cert, { mode: 0o644 });
  await rename(`${paths.cert}.tmp`, paths.cert);
  const { x509 } = parseMaterial(fresh.cert, fresh.key, paths);
  options.logger?.info(
    { fingerprint256: x509.fingerprint256, file: paths.cert },
    'generated a self-signed certificate',
  );
  return material(fresh.cert, fresh.key, x509, 'generated', paths);
}
