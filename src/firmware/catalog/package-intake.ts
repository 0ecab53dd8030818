// Receiving a package into the catalog directory: the bytes are streamed to a temporary file
// (mode 0600) while they are counted and hashed, and receiving stops as soon as they pass the
// limit. Memory stays bounded by the stream's own buffers whatever the package's size. The source
// stream is never destroyed — an HTTP handler must still be able to answer on its connection.

import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CcError } from '../../domain/index.js';
import { FirmwareError } from '../firmware-errors.js';

/** Temporary files of packages being received start with this; leftovers are removed at start. */
export const INCOMING_PREFIX = '.incoming-';

export interface Intake {
  /** The temporary file holding the bytes received. */
  path: string;
  bytes: number;
  /** SHA-256 (hex) of the whole package file: its catalog id. */
  sha256: string;
}

export function tooLargeError(limit: number, what: string): FirmwareError {
  return new FirmwareError(
    'FIRMWARE_TOO_LARGE',
    `${what} is larger than the limit of ${limit} bytes (firmware.maxPackageBytes)`,
    {
      checks: [
        {
          name: 'package-format',
          ok: false,
          detail: `${what} is larger than the limit of ${limit} bytes; it was not read further`,
        },
      ],
    },
  );
}

/** The package did not arrive in full: a client that went away, a transfer that broke. */
function interrupted(why: string): CcError {
  return new CcError('BAD_REQUEST', `the package arrived incomplete (${why}); nothing was kept`);
}

/**
 * Streams `source` into a new temporary file in `dir`. Rejects with FIRMWARE_TOO_LARGE once more
 * than `maxBytes` arrived (the temporary file is removed and the source is left paused, the rest
 * unread), with BAD_REQUEST when the source fails or ends early, and with the disk's error.
 */
export async function receivePackage(
  source: Readable,
  dir: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Intake> {
  const path = join(dir, `${INCOMING_PREFIX}${randomUUID()}.part`);
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const hash = createHash('sha256');
  let bytes = 0;

  const received = new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      source.removeListener('data', onData);
      source.removeListener('end', onEnd);
      source.removeListener('error', onSourceError);
      source.removeListener('close', onClose);
      file.removeListener('drain', onDrain);
      file.removeListener('error', onFail);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      cleanup();
      // The rest is left unread: the caller ends the transfer (the API closes the connection, a
      // sync its download) rather than pulling bytes nobody will use.
      source.pause();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (bytes > maxBytes) {
        fail(tooLargeError(maxBytes, 'the package'));
        return;
      }
      hash.update(buffer);
      if (!file.write(buffer)) source.pause();
    };
    const onDrain = (): void => {
      source.resume();
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onFail = (err: Error): void => fail(err);
    const onSourceError = (err: Error): void => fail(interrupted(err.message));
    // A stream destroyed without an error ends without 'end': the package is incomplete.
    const onClose = (): void => {
      if (!source.readableEnded) fail(interrupted('the stream closed before its end'));
    };
    const onAbort = (): void => fail(signal?.reason ?? new Error('cancelled'));
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onSourceError);
    source.once('close', onClose);
    file.on('drain', onDrain);
    file.once('error', onFail);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });

  try {
    await received;
    file.end();
    await finished(file);
    return { path, bytes, sha256: hash.digest('hex') };
  } catch (err) {
    // A write still in flight fails once the stream is destroyed; that failure is this one.
    file.on('error', () => undefined);
    if (!file.closed) {
      const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
      file.destroy();
      await closed;
    }
    await rm(path, { force: true });
    throw err;
  }
}
