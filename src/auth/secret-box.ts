// Secrets the server must keep and later use (device Web Services credentials, cloud secrets) are
// sealed at rest with AES-256-GCM under a key file in the data directory (0600), never stored or
// logged in clear. The context (e.g. `device-credential:<id>`) is bound as associated data, so a
// sealed value copied onto another record does not open.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CcError } from '../domain/index.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const VERSION = 'v1';

export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws INTERNAL when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) {
    throw new CcError('INTERNAL', `the secret key must be ${KEY_BYTES} bytes`);
  }
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv, tag, data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) {
        throw new CcError('INTERNAL', 'a sealed secret has an unknown format');
      }
      const [, iv, tag, data] = parts.map((p) => Buffer.from(p, 'base64url'));
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv as Buffer);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag as Buffer);
        return Buffer.concat([decipher.update(data as Buffer), decipher.final()]).toString('utf8');
      } catch {
        throw new CcError(
          'INTERNAL',
          'a sealed secret does not open with this data directory’s key (was secret.key replaced?)',
        );
      }
    },
  };
}

/** Reads the key file, creating it (0600) on first use. */
export async function loadSecretKey(file: string): Promise<Buffer> {
  try {
    const key = await readFile(file);
    if (key.length !== KEY_BYTES) {
      throw new CcError('CONFIG_INVALID', `${file} is not a ${KEY_BYTES}-byte secret key`);
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // 'wx': never overwrite a key another process wrote meanwhile.
  try {
    await writeFile(file, key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadSecretKey(file);
    throw err;
  }
  await chmod(file, 0o600);
  return key;
}
