// Why a payload did not reach the cloud, as a stable kind the outbox can act on and a message that
// names the host, proxy or limit involved. Proxy credentials never appear in either.

export type SendErrorKind =
  /** The target (or the URL itself) is not on the endpoint allow-list: nothing was connected. */
  | 'not-allowed'
  /** A redirect the sender will not follow: 301/302/303, to http, off the allow-list, too many. */
  | 'redirect-refused'
  /** The proxy could not be reached, refused the tunnel, or its URL is unusable. */
  | 'proxy'
  /** The proxy asked for credentials (none given) or rejected the ones given. */
  | 'proxy-auth'
  /** TLS handshake failed: untrusted chain, wrong host name, expired certificate, old protocol. */
  | 'tls'
  /** The chain was valid but none of its keys matches a pinned SPKI hash. */
  | 'pin-mismatch'
  /** The overall deadline passed; the message names the phase that was waiting. */
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** Name resolution, connection refused or reset, outside the proxy and TLS phases. */
  | 'network'
  /** The answer was larger than the configured limit; it was not read to the end. */
  | 'response-too-large'
  /** The answer was not HTTP, or a 2xx answer whose body is not JSON, or a redirect without Location. */
  | 'bad-response'
  /** Not an https:// URL, or one that carries credentials. */
  | 'insecure-url';

export interface SendErrorDetails {
  /** Host of the target the failure concerns. */
  host?: string;
  /** HTTP status: of the proxy's CONNECT answer for proxy kinds, of the cloud's answer otherwise. */
  status?: number;
  /** The proxy involved, with its password replaced. */
  proxy?: string;
  cause?: unknown;
}

export class SendError extends Error {
  readonly kind: SendErrorKind;
  readonly host: string | undefined;
  readonly status: number | undefined;
  readonly proxy: string | undefined;

  constructor(kind: SendErrorKind, message: string, details: SendErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SendError';
    this.kind = kind;
    this.host = details.host;
    this.status = details.status;
    this.proxy = details.proxy;
  }
}

export function isSendError(err: unknown): err is SendError {
  return err instanceof SendError;
}

/**
 * A proxy URL fit for logs and messages: scheme, user name and host; the password becomes `***`.
 * The user name stays because "which account did the proxy reject" is what an admin asks first.
 */
export function redactProxyUrl(url: URL): string {
  const user =
    url.username === '' && url.password === ''
      ? ''
      : `${url.username}${url.password === '' ? '' : ':***'}@`;
  return `${url.protocol}//${user}${url.host}`;
}
