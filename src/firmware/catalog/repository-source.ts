// What the sync needs from a vendor repository, whatever its protocol: the package files it lists
// and a stream of one of them. One implementation per protocol (https-repository.ts,
// ftp-repository.ts); each download has a connection of its own, closed with it.

import type { Readable } from 'node:stream';
import type { RemotePackage } from './repository-index.js';

export interface PackageDownload {
  /** The package's bytes; ends only once the transfer completed in full, errors otherwise. */
  stream: Readable;
  /** The length the server announced, when it did. */
  length: number | null;
  /** Why the transfer stopped, for a stream error (a timeout, a server's refusal …). */
  explain(err: unknown): string;
  /** Ends the transfer and its connection; safe to call more than once. */
  close(): void;
}

export interface RepositorySource {
  list(signal: AbortSignal): Promise<RemotePackage[]>;
  fetch(pkg: RemotePackage, signal: AbortSignal): Promise<PackageDownload>;
}
