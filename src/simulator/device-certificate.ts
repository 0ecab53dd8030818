// A simulated device's own self-signed TLS certificate (EC P-256, CN = device id, SAN IP = its
// address), generated per device and, with a state directory, kept on disk so a pinned fingerprint
// survives simulator restarts — as a real device keeps its certificate across reboots.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface DeviceCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
  /** SHA-256 of the DER certificate, upper-case hex with colons (X509Certificate.fingerprint256). */
  fingerprint256: string;
}

/** Device certificates live long: replacing one means an admin has to re-approve the device. */
const VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;

export async function generateDeviceCertificate(
  deviceId: string,
  address: string,
  now = Date.now(),
): Promise<DeviceCertificate> {
  const pems = await generate([{ name: 'commonName', value: deviceId }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: address }] },
    ],
  });
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}

const SAFE_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

function certificatePaths(stateDir: string, deviceId: string): { cert: string; key: string } {
  // The id becomes a file name: refuse anything that could leave the state directory.
  if (!SAFE_FILE_NAME.test(deviceId)) {
    throw new Error(`device id "${deviceId.slice(0, 64)}" cannot name a certificate file`);
  }
  return { cert: join(stateDir, `${deviceId}.crt`), key: join(stateDir, `${deviceId}.key`) };
}

/** The stored pair when it parses, matches and has not expired; undefined otherwise. */
async function readStored(
  stateDir: string,
  deviceId: string,
  now: number,
): Promise<DeviceCertificate | undefined> {
  const paths = certificatePaths(stateDir, deviceId);
  const pems = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]).catch(
    () => undefined,
  );
  if (!pems) return undefined;
  const [cert, key] = pems;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (Date.parse(x509.validTo) <= now) return undefined;
    return { cert, key, fingerprint256: x509.fingerprint256 };
  } catch {
    // Unreadable or foreign material: the caller generates a fresh pair in its place.
    return undefined;
  }
}

/** Writes key then certificate, each atomically, so a crash never leaves a certificate without its key. */
export async function storeDeviceCertificate(
  stateDir: string,
  deviceId: string,
  material: DeviceCertificate,
): Promise<void> {
  const paths = certificatePaths(stateDir, deviceId);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(`${paths.key}.tmp`, material.key, { mode: 0o600 });
  await rename(`${paths.key}.tmp`, paths.key);
  await writeFile(`${paths.cert}.tmp`, material.cert, { mode: 0o644 });
  await rename(`${paths.cert}.tmp`, paths.cert);
}

/**
 * The device's certificate: the one kept in `stateDir` when it is usable (whatever address it
 * names — the fingerprint is what clients pin), else a new one, stored there when `stateDir` is set.
 */
export async function loadOrCreateDeviceCertificate(options: {
  deviceId: string;
  address: string;
  stateDir?: string | undefined;
  now?: number;
}): Promise<DeviceCertificate> {
  const now = options.now ?? Date.now();
  const { stateDir, deviceId } = options;
  if (stateDir !== undefined) {
    const stored = await readStored(stateDir, deviceId, now);
    if (stored) return stored;
  }
  const fresh = await generateDeviceCertificate(deviceId, options.address, now);
  if (stateDir !== undefined) await storeDeviceCertificate(stateDir, deviceId, fresh);
  return fresh;
}
