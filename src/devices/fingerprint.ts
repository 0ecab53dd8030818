// Certificate fingerprints as people type them (any case, with or without colons or spaces) and
// as the server stores and compares them: SHA-256, upper-case hex pairs joined by colons — the
// form `openssl x509 -fingerprint -sha256` and Node's X509Certificate.fingerprint256 print.

import { CcError } from '../domain/index.js';

export function normalizeFingerprint(input: string): string {
  const hex = input
    .trim()
    .replace(/^sha256[:=]?/i, '')
    .replace(/[\s:]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new CcError(
      'VALIDATION_FAILED',
      'a certificate fingerprint is a SHA-256 digest: 64 hex digits, colons optional',
    );
  }
  return hex.match(/../g)?.join(':') ?? hex;
}
