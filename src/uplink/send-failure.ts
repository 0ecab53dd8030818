// One sentence for why a delivery failed, for the status page and the logs: the sender's own
// message (which names the host, proxy or limit and never a proxy password) or the error's text.

import { isSendError } from './sender/index.js';

export function describeSendFailure(err: unknown): string {
  if (isSendError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** A stable kind for metrics and the status page. */
export function failureKind(err: unknown): string {
  return isSendError(err) ? err.kind : 'internal';
}
