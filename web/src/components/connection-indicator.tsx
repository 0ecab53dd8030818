// The live stream's state, always visible in the header: live, connecting, reconnecting in n s.

import { useEffect, useState } from 'preact/hooks';
import type { ConnectionStatus } from '../live/stream-connection';

function text(status: ConnectionStatus, now: number): string {
  switch (status.state) {
    case 'live':
      return 'Live';
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting': {
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      return seconds > 0 ? `Connection lost · retrying in ${seconds} s` : 'Reconnecting…';
    }
    case 'closed':
      return 'Not connected';
  }
}

export function ConnectionIndicator({
  status,
  onRetry,
}: {
  status: ConnectionStatus;
  onRetry?: () => void;
}) {
  // Re-render every second while counting down; the time itself is read at each render.
  const [, setTick] = useState(0);
  useEffect(() => {
    if (status.state !== 'reconnecting') return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [status]);
  const now = Date.now();
  return (
    <div class={`connection connection-${status.state}`} data-connection={status.state}>
      <span class="connection-dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        {text(status, now)}
      </span>
      {status.state === 'reconnecting' && onRetry ? (
        <button type="button" class="link-button" onClick={onRetry}>
          Retry now
        </button>
      ) : null}
    </div>
  );
}
