// A vendor repository over FTP (the product's requirements name an FTP endpoint on port 21): the
// directory listing names the packages (`*.tar` regular files), each fetched with RETR in passive
// mode on a control connection of its own. Data connections go only to the control connection's
// host, whatever address the server's PASV answer names (no FTP bounce), and a download's stream
// ends only once the server confirmed the whole transfer (226), so a cut transfer is an error,
// never a shorter package. Plain FTP: the packages are signed, so the transport does not vouch for
// them; the account's password, if any, travels in clear as FTP does.

import { PassThrough, Writable } from 'node:stream';
import { Client, FileType } from 'basic-ftp';
import { isPackageFileName, type RemotePackage } from './repository-index.js';
import type { PackageDownload, RepositorySource } from './repository-source.js';
import type { SyncTarget } from './sync-url.js';

export interface FtpRepositoryOptions {
  /** Idle limit of the control and data connections, and the whole listing's limit. */
  timeoutMs: number;
}

/** A listing larger than this is refused (a repository directory lists a few files). */
const MAX_LISTING_BYTES = 1024 * 1024;

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function ftpRepository(target: SyncTarget, options: FtpRepositoryOptions): RepositorySource {
  const directory = decode(target.url.pathname);
  const where = `${target.host}:${target.port}`;

  async function connect(signal: AbortSignal): Promise<Client> {
    const client = new Client(options.timeoutMs, {
      allowSeparateTransferHost: false,
      maxListingBytes: MAX_LISTING_BYTES,
    });
    const onAbort = (): void => client.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.access({
        host: target.host.replace(/^\[(.*)\]$/, '$1'),
        port: target.port,
        ...(target.url.username !== ''
          ? { user: decode(target.url.username), password: decode(target.url.password) }
          : {}),
        secure: false,
      });
      return client;
    } catch (err) {
      client.close();
      throw new Error(
        signal.aborted
          ? `connecting to the FTP server ${where} was cancelled`
          : `FTP server ${where}: ${reasonOf(err)}`,
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    async list(signal) {
      const client = await connect(signal);
      const onAbort = (): void => client.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const entries = await client.list(directory);
        return entries
          .filter((e) => e.type === FileType.File && isPackageFileName(e.name))
          .map((e) => ({ file: e.name, sha256: null, size: e.size > 0 ? e.size : null }))
          .sort((a, b) => a.file.localeCompare(b.file));
      } catch (err) {
        throw new Error(
          signal.aborted
            ? `listing ${directory} on ${where} was cancelled`
            : `listing ${directory} on ${where}: ${reasonOf(err)}`,
        );
      } finally {
        signal.removeEventListener('abort', onAbort);
        client.close();
      }
    },

    async fetch(pkg: RemotePackage, signal): Promise<PackageDownload> {
      const client = await connect(signal);
      const out = new PassThrough();
      // Errors reach whoever reads `out`; this listener only keeps an unread stream from throwing.
      out.on('error', () => undefined);
      // basic-ftp ends its destination when the data connection ends, before the server's final
      // answer; `out` ends only after that answer says the transfer completed.
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (out.write(chunk)) callback();
          else out.once('drain', () => callback());
        },
        final(callback) {
          callback();
        },
      });
      let failure: string | null = null;
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        signal.removeEventListener('abort', onAbort);
        client.close();
      };
      const onAbort = (): void => {
        failure ??= `the download of ${pkg.file} was cancelled or ran out of time`;
        close();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      client
        .downloadTo(sink, `${directory}${pkg.file}`)
        .then(() => {
          out.end();
        })
        .catch((err: unknown) => {
          failure ??= `FTP download of ${pkg.file} from ${where} failed: ${reasonOf(err)}`;
          out.destroy(new Error(failure));
        })
        .finally(close);
      return {
        stream: out,
        length: pkg.size,
        explain: (err) => failure ?? reasonOf(err),
        close,
      };
    },
  };
}
