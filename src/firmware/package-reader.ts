// Reads a firmware package once, as a stream, with bounded memory: the small manifest and signature
// file are kept (within their limits), the image is only hashed and counted on its way through.
// What is wrong with the archive's layout is reported, not thrown; only I/O errors throw.

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, SIGNATURE_FILE } from './manifest.js';
import { MAX_SIGNATURE_FILE_BYTES } from './manifest-signatures.js';
import {
  readTar,
  TarFormatError,
  type TarEntry,
  type TarEntrySink,
  type TarErrorKind,
} from './tar-format.js';

export interface PackageImage {
  name: string;
  size: number;
  sha256: string;
}

export interface PackageContents {
  /** Why the archive is not a well-formed package, or null when it is. */
  formatError: { kind: TarErrorKind; message: string } | null;
  /** Entry names in archive order, as far as they were read. */
  entries: string[];
  manifestBytes: Buffer | null;
  signatureBytes: Buffer | null;
  /** The image as read to its end, or null when it was missing or not read completely. */
  image: PackageImage | null;
  /** Bytes read from the source. */
  bytes: number;
}

export interface InspectOptions {
  maxBytes: number;
  /** Bytes read so far, and the total when the source is a file. */
  onProgress?: (bytes: number, total: number | null) => void;
  /** Receives the image's bytes in order (e.g. to copy them), with backpressure. */
  onImageData?: (chunk: Buffer) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Collects a small entry, refusing it beyond `limit` bytes (checked on the declared size first). */
function bufferSink(entry: TarEntry, limit: number, keep: (bytes: Buffer) => void): TarEntrySink {
  if (entry.size > limit) {
    throw new TarFormatError('format', `${entry.name} is ${entry.size} bytes; at most ${limit}`);
  }
  const parts: Buffer[] = [];
  return {
    data: (chunk) => {
      parts.push(Buffer.from(chunk));
    },
    end: () => keep(Buffer.concat(parts)),
  };
}

/**
 * Reads the package at `source` (a file path, or a stream that is consumed and left paused — not
 * destroyed — when reading stops early). Refuses a file larger than `maxBytes` before reading it.
 */
export async function inspectPackage(
  source: string | Readable,
  options: InspectOptions,
): Promise<PackageContents> {
  const contents: PackageContents = {
    formatError: null,
    entries: [],
    manifestBytes: null,
    signatureBytes: null,
    image: null,
    bytes: 0,
  };
  let total: number | null = null;
  let iterable: AsyncIterable<unknown>;
  let close = async (): Promise<void> => {};
  if (typeof source === 'string') {
    const handle = await open(source, 'r');
    close = () => handle.close();
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${source} is not a regular file`);
      total = stat.size;
      if (stat.size > options.maxBytes) {
        await close();
        contents.formatError = {
          kind: 'too-large',
          message: `the package is ${stat.size} bytes, larger than the limit of ${options.maxBytes} bytes`,
        };
        return contents;
      }
    } catch (err) {
      await close();
      throw err;
    }
    const stream = handle.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 });
    iterable = stream;
    const closeHandle = close;
    close = async () => {
      stream.destroy();
      await closeHandle();
    };
  } else {
    // Leave a caller's stream to the caller: an HTTP handler may still want to answer on it.
    iterable = source.iterator({ destroyOnReturn: false });
  }

  let imageSeen = false;
  try {
    contents.bytes = await readTar(iterable, {
      maxBytes: options.maxBytes,
      signal: options.signal,
      onBytes: (bytes) => {
        contents.bytes = bytes;
        options.onProgress?.(bytes, total);
      },
      onEntry: (entry) => {
        contents.entries.push(entry.name);
        if (entry.name === MANIFEST_FILE) {
          return bufferSink(entry, MAX_MANIFEST_BYTES, (b) => (contents.manifestBytes = b));
        }
        if (entry.name === SIGNATURE_FILE) {
          return bufferSink(entry, MAX_SIGNATURE_FILE_BYTES, (b) => (contents.signatureBytes = b));
        }
        if (imageSeen) {
          throw new TarFormatError(
            'format',
            `extra entry ${JSON.stringify(entry.name)}: a package holds manifest.json, ` +
              'manifest.sig and one image',
          );
        }
        imageSeen = true;
        const hash = createHash('sha256');
        let size = 0;
        return {
          data: async (chunk) => {
            hash.update(chunk);
            size += chunk.length;
            await options.onImageData?.(chunk);
          },
          end: () => {
            contents.image = { name: entry.name, size, sha256: hash.digest('hex') };
          },
        };
      },
    });
  } catch (err) {
    if (!(err instanceof TarFormatError)) throw err;
    contents.formatError = { kind: err.kind, message: err.message };
  } finally {
    await close();
  }
  return contents;
}
