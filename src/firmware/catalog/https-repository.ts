// A vendor repository over HTTPS: `<syncUrl>/index.json` lists the packages, each a file beside
// it. Connections go through the uplink sender's code: allow-list before any connection, the
// site's proxy, TLS 1.2+ with the chain and host name verified, an optional extra CA.

import { isSendError, openDownload, type DownloadPolicy } from '../../uplink/sender/index.js';
import type { ProxyChoice } from '../../uplink/sender/index.js';
import { MAX_INDEX_BYTES, parseRepositoryIndex, type RemotePackage } from './repository-index.js';
import type { PackageDownload, RepositorySource } from './repository-source.js';
import { fileUrl, type SyncTarget } from './sync-url.js';

export interface HttpsRepositoryOptions {
  allow: readonly string[];
  ca: string | null;
  proxy: ProxyChoice;
  /** Per request: the index, or one package download. */
  timeoutMs: number;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function httpsRepository(
  target: SyncTarget,
  options: HttpsRepositoryOptions,
): RepositorySource {
  const policy: DownloadPolicy = {
    allow: options.allow,
    allowName: 'firmware.allowedHosts',
    ca: options.ca ?? undefined,
    proxy: options.proxy,
    timeoutMs: options.timeoutMs,
  };

  return {
    async list(signal) {
      const url = fileUrl(target, 'index.json');
      const download = await openDownload(url, policy, signal);
      try {
        if (download.contentLength !== null && download.contentLength > MAX_INDEX_BYTES) {
          throw new Error(`index.json is larger than ${MAX_INDEX_BYTES} bytes`);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        try {
          for await (const chunk of download.body as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > MAX_INDEX_BYTES) {
              throw new Error(`index.json is larger than ${MAX_INDEX_BYTES} bytes`);
            }
            chunks.push(chunk);
          }
        } catch (err) {
          throw new Error(download.failure()?.message ?? `reading index.json: ${reasonOf(err)}`);
        }
        const parsed = parseRepositoryIndex(Buffer.concat(chunks, size));
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.packages;
      } finally {
        download.close();
      }
    },

    async fetch(pkg: RemotePackage, signal): Promise<PackageDownload> {
      const download = await openDownload(fileUrl(target, pkg.file), policy, signal);
      return {
        stream: download.body,
        length: download.contentLength,
        explain: (err) =>
          download.failure()?.message ?? (isSendError(err) ? err.message : reasonOf(err)),
        close: () => download.close(),
      };
    },
  };
}
