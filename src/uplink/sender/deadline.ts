// One deadline for a whole send (every redirect hop, and in each hop the connect, proxy CONNECT,
// TLS handshake and response), joined with the caller's AbortSignal. It remembers the phase in
// progress so a timeout says what was still being waited for.

import { SendError } from './send-error.js';

export class Deadline {
  readonly signal: AbortSignal;
  /** What the send is waiting for now, e.g. "TLS handshake with cloud.example:443". */
  phase = 'start of the send';
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private readonly onCallerAbort = (): void => this.controller.abort();

  constructor(
    private readonly timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    if (caller?.aborted === true) this.controller.abort();
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** The error to report once `signal` has fired. */
  error(host: string): SendError {
    if (this.timedOut) {
      return new SendError(
        'timeout',
        `sending to ${host} did not finish within ${this.timeoutMs} ms (still waiting for the ${this.phase})`,
        { host },
      );
    }
    return new SendError('aborted', `sending to ${host} was cancelled during the ${this.phase}`, {
      host,
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}
