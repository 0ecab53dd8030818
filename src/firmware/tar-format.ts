// A strict reader and writer for the one archive shape a firmware package uses: a POSIX ustar tar
// of a few regular files with plain names. Written here rather than taken from a tar library on
// purpose: the subset is tiny (512-byte headers, octal sizes, two zero blocks at the end), and a
// package must refuse much of what a general-purpose reader accepts — links, directories, paths,
// pax and GNU extensions, data after the end — so a library would need as much code to restrict
// it as this takes to write. STACK.md lists no tar library checked on this machine either.
// The reader streams: entry bodies go to a sink chunk by chunk and are never buffered here.

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE_BYTES = 2 * BLOCK;
/** The largest size an 11-digit octal field holds (8 GiB - 1); larger needs extensions we refuse. */
export const MAX_ENTRY_BYTES = 0o77777777777;
/** Plain file names only: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 100. */
export const SAFE_ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export type TarErrorKind = 'format' | 'truncated' | 'too-large';

export class TarFormatError extends Error {
  readonly kind: TarErrorKind;

  constructor(kind: TarErrorKind, message: string) {
    super(message);
    this.name = 'TarFormatError';
    this.kind = kind;
  }
}

export interface TarEntry {
  name: string;
  size: number;
}

/** Receives one entry's body; chunks are views into the input, valid only during the call. */
export interface TarEntrySink {
  data(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

export interface TarReadOptions {
  /** The archive may not be longer; checked on every chunk and on every entry's declared size. */
  maxBytes: number;
  /** Called for each header once it is validated; throw a TarFormatError to refuse the entry. */
  onEntry(entry: TarEntry): TarEntrySink | Promise<TarEntrySink>;
  /** Total bytes read so far, after each chunk. */
  onBytes?: (total: number) => void;
  signal?: AbortSignal;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  x: 'a pax extended header',
  g: 'a pax global header',
  L: 'a GNU long-name header',
  K: 'a GNU long-link header',
  S: 'a GNU sparse file',
};

function field(block: Buffer, start: number, length: number): Buffer {
  return block.subarray(start, start + length);
}

/** The bytes of a NUL-terminated text field, as Latin-1 so that every byte stays visible. */
function textField(block: Buffer, start: number, length: number): string {
  const bytes = field(block, start, length);
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? length : nul).toString('latin1');
}

function octalField(block: Buffer, start: number, length: number, what: string): number {
  const bytes = field(block, start, length);
  if ((bytes[0] ?? 0) & 0x80) {
    throw new TarFormatError(
      'format',
      `${what} uses the GNU base-256 encoding; only octal is read`,
    );
  }
  const text = bytes
    .toString('latin1')
    .replace(/^ +/, '')
    .replace(/[ \0]+$/, '');
  if (!/^[0-7]{1,12}$/.test(text)) {
    throw new TarFormatError('format', `${what} is not an octal number: ${JSON.stringify(text)}`);
  }
  return Number.parseInt(text, 8);
}

function isZero(bytes: Buffer, start = 0, end = bytes.length): boolean {
  for (let i = start; i < end; i += 1) if (bytes[i] !== 0) return false;
  return true;
}

function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum;
}

function shown(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

/** Why `name` is not a plain file name, in words, or null when it is one. */
export function unsafeNameReason(name: string): string | null {
  if (name === '') return 'an entry with an empty name';
  if (name.startsWith('/')) return `entry ${shown(name)} has an absolute path`;
  const parts = name.split(/[/\\]/);
  if (parts.includes('..')) return `entry ${shown(name)} has a ".." component (path traversal)`;
  if (parts.length > 1) return `entry ${shown(name)} is a path; only plain file names are allowed`;
  if (!SAFE_ENTRY_NAME.test(name)) {
    return `entry ${shown(name)} is not a plain file name (letters, digits, ".", "_", "-"; at most 100)`;
  }
  return null;
}

function parseHeader(block: Buffer): TarEntry {
  const magic = field(block, 257, 8).toString('latin1');
  // POSIX ustar ("ustar\0" "00") or GNU tar's default format ("ustar  \0"); the v7 format has none.
  if (magic !== 'ustar\u000000' && magic !== 'ustar  \u0000') {
    throw new TarFormatError(
      'format',
      'a header is not a ustar header (not a tar archive, or old v7 tar)',
    );
  }
  const stored = octalField(block, 148, 8, 'the header checksum');
  if (stored !== checksumOf(block)) {
    throw new TarFormatError('format', 'a header checksum does not match (corrupted archive)');
  }
  const prefix = textField(block, 345, 155);
  const base = textField(block, 0, 100);
  const name = prefix === '' ? base : `${prefix}/${base}`;
  const type = String.fromCharCode(block[156] as number);
  if (type !== '0' && type !== '\0') {
    const what = TYPE_NAMES[type] ?? `an entry of unknown type ${JSON.stringify(type)}`;
    const link = textField(block, 157, 100);
    const target = (type === '1' || type === '2') && link !== '' ? ` to ${shown(link)}` : '';
    throw new TarFormatError(
      'format',
      `entry ${shown(name)} is ${what}${target}; a package holds only regular files`,
    );
  }
  const unsafe = unsafeNameReason(name);
  if (unsafe !== null) throw new TarFormatError('format', unsafe);
  const size = octalField(block, 124, 12, `the size of entry ${shown(name)}`);
  if (size > MAX_ENTRY_BYTES) {
    throw new TarFormatError('format', `entry ${shown(name)} declares ${size} bytes, over 8 GiB`);
  }
  return { name, size };
}

function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  throw new TypeError('a tar source must yield bytes');
}

type State = 'header' | 'body' | 'padding' | 'end' | 'trailer';

/**
 * Reads a tar archive strictly, handing each regular file's body to the sink `onEntry` returns.
 * Throws TarFormatError for anything that is not a well-formed archive of plain regular files,
 * and stops reading at once (the caller's iterator is closed). Returns the archive's length.
 */
export async function readTar(
  source: AsyncIterable<unknown>,
  options: TarReadOptions,
): Promise<number> {
  const block = Buffer.alloc(BLOCK);
  let fill = 0;
  let state: State = 'header';
  let entry: TarEntry | null = null;
  let sink: TarEntrySink | null = null;
  let remaining = 0;
  let padding = 0;
  let total = 0;
  const seen = new Set<string>();

  for await (const raw of source) {
    options.signal?.throwIfAborted();
    const chunk = toBuffer(raw);
    total += chunk.length;
    if (total > options.maxBytes) {
      throw new TarFormatError(
        'too-large',
        `the package is larger than the limit of ${options.maxBytes} bytes`,
      );
    }
    options.onBytes?.(total);
    let at = 0;
    while (at < chunk.length) {
      if (state === 'header' || state === 'end') {
        const n = Math.min(BLOCK - fill, chunk.length - at);
        chunk.copy(block, fill, at, at + n);
        fill += n;
        at += n;
        if (fill < BLOCK) continue;
        fill = 0;
        const offset = total - (chunk.length - at) - BLOCK;
        if (isZero(block)) {
          state = state === 'header' ? 'end' : 'trailer';
          continue;
        }
        if (state === 'end') {
          throw new TarFormatError('format', `a lone zero block at byte ${offset - BLOCK}`);
        }
        entry = parseHeader(block);
        if (seen.has(entry.name)) {
          throw new TarFormatError('format', `entry ${shown(entry.name)} appears twice`);
        }
        seen.add(entry.name);
        padding = paddingOf(entry.size);
        const needed = offset + BLOCK + entry.size + padding + END_OF_ARCHIVE_BYTES;
        if (needed > options.maxBytes) {
          throw new TarFormatError(
            'too-large',
            `entry ${shown(entry.name)} declares ${entry.size} bytes: the package would be larger ` +
              `than the limit of ${options.maxBytes} bytes`,
          );
        }
        sink = await options.onEntry(entry);
        remaining = entry.size;
        if (remaining === 0) {
          await sink.end();
          state = padding > 0 ? 'padding' : 'header';
        } else {
          state = 'body';
        }
      } else if (state === 'body') {
        const n = Math.min(remaining, chunk.length - at);
        await (sink as TarEntrySink).data(chunk.subarray(at, at + n));
        remaining -= n;
        at += n;
        if (remaining === 0) {
          await (sink as TarEntrySink).end();
          state = padding > 0 ? 'padding' : 'header';
        }
      } else if (state === 'padding') {
        const n = Math.min(padding, chunk.length - at);
        if (!isZero(chunk, at, at + n)) {
          throw new TarFormatError(
            'format',
            `non-zero bytes in the padding after entry ${shown(entry?.name ?? '')}`,
          );
        }
        padding -= n;
        at += n;
        if (padding === 0) state = 'header';
      } else {
        if (!isZero(chunk, at)) {
          throw new TarFormatError('format', 'data after the end-of-archive marker');
        }
        at = chunk.length;
      }
    }
  }

  switch (state) {
    case 'trailer':
      if (total % BLOCK !== 0) {
        throw new TarFormatError(
          'truncated',
          `the archive's length (${total}) is not a multiple of 512`,
        );
      }
      return total;
    case 'body':
    case 'padding': {
      const size = entry?.size ?? 0;
      const got = state === 'body' ? size - remaining : size;
      throw new TarFormatError(
        'truncated',
        `truncated: the archive ends inside entry ${shown(entry?.name ?? '')} ` +
          `(${got} of ${size} bytes${state === 'padding' ? ', padding missing' : ''})`,
      );
    }
    case 'end':
      throw new TarFormatError(
        'truncated',
        'truncated: the archive ends after one of its two zero end blocks',
      );
    case 'header':
      if (total === 0) throw new TarFormatError('truncated', 'the package is empty');
      throw new TarFormatError(
        'truncated',
        fill > 0
          ? 'truncated: the archive ends inside a header block'
          : 'truncated: the archive ends without its end-of-archive marker',
      );
  }
}

function writeOctal(block: Buffer, start: number, length: number, value: number): void {
  // `length - 1` digits, zero-padded, then a NUL: what GNU tar and libarchive write.
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, start, length, 'latin1');
}

/** A ustar header for a regular file `name` (a plain name) of `size` bytes. */
export function ustarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  const unsafe = unsafeNameReason(name);
  if (unsafe !== null) throw new RangeError(unsafe);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ENTRY_BYTES) {
    throw new RangeError(`entry ${shown(name)}: size ${size} cannot be written in a ustar header`);
  }
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'latin1');
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, Math.max(0, Math.min(MAX_ENTRY_BYTES, Math.floor(mtimeSeconds))));
  block.write('0', 156, 1, 'latin1');
  block.write('ustar\u000000', 257, 8, 'latin1');
  // The checksum field: six octal digits, NUL, space.
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** The zero bytes that round an entry of `size` bytes up to whole blocks. */
export function ustarPadding(size: number): Buffer {
  return Buffer.alloc(paddingOf(size));
}

/** A whole archive in memory, for small entries (manifests, tests). */
export function ustarArchive(
  entries: ReadonlyArray<{ name: string; data: Buffer }>,
  mtimeSeconds = 0,
): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of entries) {
    parts.push(ustarHeader(name, data.length, mtimeSeconds), data, ustarPadding(data.length));
  }
  parts.push(Buffer.alloc(END_OF_ARCHIVE_BYTES));
  return Buffer.concat(parts);
}
