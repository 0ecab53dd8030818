// TLS server settings: TLS 1.2+ only; for TLS 1.2, forward-secret AEAD suites only (ECDHE with
// AES-GCM or ChaCha20-Poly1305), following Mozilla's "intermediate" profile without its DHE suites.

import type { TlsOptions } from 'node:tls';

export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

export const TLS13_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

/** Options for tls.createServer / https.createServer (a subset of TlsOptions, precisely typed). */
export interface TlsServerOptions {
  cert: string;
  key: string;
  minVersion: 'TLSv1.2';
  ciphers: string;
  honorCipherOrder: true;
  ecdhCurve: string;
}

export function tlsServerOptions(material: { cert: string; key: string }): TlsServerOptions {
  const options: TlsServerOptions = {
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
  };
  return options satisfies TlsOptions;
}
