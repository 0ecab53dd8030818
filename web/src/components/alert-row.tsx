// One alert from history, compact: severity and code, message, raised / cleared / acknowledged.

import type { Alert } from '../api/types';
import { SEVERITY_LABEL } from '../format/labels';
import { formatDateTime } from '../format/time-format';

export function AlertRow({ alert: a }: { alert: Alert }) {
  return (
    <li class={`alert-item severity-${a.severity}`}>
      <div class="alert-top">
        <strong>
          {SEVERITY_LABEL[a.severity]} · {a.code}
        </strong>
        <span class="muted small">{a.clearedAt ? 'cleared' : 'open'}</span>
      </div>
      <p>{a.message}</p>
      <p class="muted small">
        Raised {formatDateTime(a.raisedAt)}
        {a.clearedAt ? ` · cleared ${formatDateTime(a.clearedAt)}` : ''}
        {a.acknowledgedBy ? ` · acknowledged by ${a.acknowledgedBy}` : ''}
      </p>
    </li>
  );
}
