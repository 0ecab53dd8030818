// Short confirmations and errors after an action ("Pause sent: accepted"), announced to screen
// readers and dismissed after a few seconds.

import type { NoticeKind } from '../app-context';

export interface Notice {
  id: number;
  text: string;
  kind: NoticeKind;
}

export function Notices({
  notices,
  onDismiss,
}: {
  notices: Notice[];
  onDismiss: (id: number) => void;
}) {
  return (
    <div class="notices" aria-live="polite" role="status">
      {notices.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`}>
          <span>{n.text}</span>
          <button
            type="button"
            class="link-button"
            onClick={() => onDismiss(n.id)}
            aria-label="Dismiss"
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
