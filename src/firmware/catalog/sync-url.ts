// The vendor repository the catalog syncs from (firmware.syncUrl): an https:// or ftp:// directory
// URL. FTP URLs may carry the account (`ftp://user:password@host/path/`); the password is masked in
// everything shown and logged, and packages record their origin without any credentials.

import { CcError } from '../../domain/index.js';
import { isAllowed } from '../../uplink/sender/index.js';

export interface SyncTarget {
  protocol: 'https' | 'ftp';
  /** The URL as configured (with credentials), the directory path ending in `/`. */
  url: URL;
  /** For messages and logs: the password replaced by `***`. */
  shown: string;
  /** The directory URL without credentials, ending in `/`. */
  base: string;
  host: string;
  port: number;
}

const DEFAULT_PORTS = { https: 443, ftp: 21 } as const;

function invalid(message: string): CcError {
  return new CcError(
    'CONFIG_INVALID',
    `firmware.syncUrl: ${message}; fix: set it to https://host/path/ or ftp://[user:password@]host[:port]/path/`,
    { key: 'firmware.syncUrl' },
  );
}

/** `ftp://user:***@host/path/`: the password masked, the user name kept (which account?). */
export function maskUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  const user = `${url.username}${url.password === '' ? '' : ':***'}@`;
  return copy.href.replace(/^([a-z]+:\/\/)/, `$1${user}`);
}

/** Parses and checks firmware.syncUrl; throws CONFIG_INVALID naming the problem. */
export function parseSyncUrl(text: string): SyncTarget {
  if (!URL.canParse(text)) throw invalid('not a valid URL');
  const url = new URL(text);
  const protocol = url.protocol === 'https:' ? 'https' : url.protocol === 'ftp:' ? 'ftp' : null;
  if (protocol === null) {
    throw invalid(`the ${url.protocol.replace(/:$/, '')} scheme is not supported`);
  }
  if (protocol === 'https' && (url.username !== '' || url.password !== '')) {
    throw invalid('an https:// repository URL may not carry credentials');
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalid(`${maskUrl(url)} has a query or fragment; give the repository directory only`);
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  return {
    protocol,
    url,
    shown: maskUrl(url),
    base: bare.href,
    host: url.hostname,
    port: url.port === '' ? DEFAULT_PORTS[protocol] : Number(url.port),
  };
}

/** Throws a CcError naming the allow-list unless the target's host and port are on it. */
export function assertSyncAllowed(target: SyncTarget, allow: readonly string[]): void {
  // The allow-list speaks host[:port] with 443 as the default port; an https URL with the
  // target's explicit port lets one check serve both schemes.
  const probe = new URL(`https://${target.url.host.replace(/:\d+$/, '')}:${target.port}/`);
  if (isAllowed(probe, allow)) return;
  throw new CcError(
    'BAD_REQUEST',
    `${target.host}:${target.port} is not on firmware.allowedHosts; nothing was connected ` +
      `(allowed: ${allow.join(', ') || 'none'}; add "${target.host}${target.port === 443 ? '' : `:${target.port}`}" to sync from it)`,
  );
}

/** The URL of a file in the repository directory, without credentials. */
export function fileUrl(target: SyncTarget, file: string): string {
  return new URL(encodeURIComponent(file), target.base).href;
}
