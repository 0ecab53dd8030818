// The storage banner on every page of a signed-in session: red while the server's data directory
// is full (changes are refused), amber while it runs low, gone once it recovers. It reads the
// state from GET /api/v1/info every 10 s; the server's message names the directory and the fix.

import { useEffect, useState } from 'preact/hooks';
import type { ServerInfo, ServerStorage } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from './icons';

export const STORAGE_POLL_MS = 10_000;

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** What to do, when the server did not say (an older server, or a caller it does not know yet). */
function fallbackText(storage: ServerStorage): string {
  const free = storage.freeBytes === null ? 'little space' : megabytes(storage.freeBytes);
  const where = storage.dir ?? 'the data directory';
  return `${free} free on ${where} (the server keeps ${megabytes(storage.minFreeBytes)} free). Fix: free space on that disk (old backups, logs, other files) or enlarge it.`;
}

export function StorageBanner({ pollMs = STORAGE_POLL_MS }: { pollMs?: number }) {
  const { api } = useApp();
  const [storage, setStorage] = useState<ServerStorage | null>(null);

  useEffect(() => {
    let active = true;
    const read = (): void => {
      api.get<ServerInfo>('/api/v1/info').then(
        (info) => {
          if (active) setStorage(info.storage ?? null);
        },
        // Unreachable: the last known state stays; the connection indicator shows the outage.
        () => undefined,
      );
    };
    read();
    const timer = setInterval(read, pollMs);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, [api, pollMs]);

  if (storage === null || storage.state === 'ok') return null;
  const full = storage.state === 'full';
  const text = storage.message ?? fallbackText(storage);
  return (
    <div
      class={`storage-banner storage-banner-${storage.state}`}
      role={full ? 'alert' : 'status'}
      data-storage={storage.state}
    >
      <NamedIcon name="error" />
      <p>
        <strong>
          {full
            ? 'Storage full: changes are not being saved.'
            : 'Storage low: the server is running out of disk space.'}
        </strong>{' '}
        {full
          ? 'Devices keep their data and send it again once there is room; edits, uploads and new settings are refused. '
          : null}
        <span class="storage-banner-detail">{text}</span>
      </p>
    </div>
  );
}
