// TLS connections to one device that trust exactly its pinned certificate: the connector compares
// the presented certificate's SHA-256 fingerprint with the pinned one before a byte of a request —
// credential included — is written. Shared by the Web Services client and the API Proxy.

import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';

export const PIN_MISMATCH = 'CC_PIN_MISMATCH';

export class PinMismatchError extends Error {
  readonly code = PIN_MISMATCH;
  constructor(readonly presented: string | null) {
    super('the device presented a certificate other than the pinned one');
  }
}

/** The fingerprint a device presented when `err` is a pin mismatch; undefined otherwise. */
export function pinMismatchOf(err: unknown): { presented: string | null } | undefined {
  return err instanceof PinMismatchError ? { presented: err.presented } : undefined;
}

/** Host for TLS SNI: none for IP literals (RFC 6066 forbids them). */
export function serverName(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) === 0 ? bare : undefined;
}

export interface PinnedConnectorOptions {
  /** `https://host:port` of the device. */
  baseUrl: string;
  /** The pinned certificate: SHA-256, upper-case hex pairs joined by colons. */
  fingerprint256: string;
  /** Connect and TLS handshake, ms. */
  timeoutMs: number;
}

/** An undici connector that refuses any certificate but the pinned one (PinMismatchError). */
export function createPinnedConnector(options: PinnedConnectorOptions): buildConnector.connector {
  const sni = serverName(new URL(options.baseUrl).hostname);
  const base = buildConnector({
    rejectUnauthorized: false,
    timeout: options.timeoutMs,
    keepAlive: true,
    minVersion: 'TLSv1.2',
    // A resumed session carries no peer certificate to compare; every connection shows it.
    maxCachedSessions: 0,
    ...(sni === undefined ? {} : { servername: sni }),
  });
  const expected = options.fingerprint256;
  return (opts, callback) => {
    base(opts, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      const tls = socket as TLSSocket;
      const presented = tls.getPeerX509Certificate()?.fingerprint256 ?? null;
      if (presented !== expected) {
        tls.destroy();
        callback(new PinMismatchError(presented), null);
        return;
      }
      callback(null, socket);
    });
  };
}
