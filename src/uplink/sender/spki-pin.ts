// SPKI pins, as HPKP's `pin-sha256`: the base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo.
// Pinning the key rather than the certificate survives renewals that keep the key, and a pin may
// name any key of the verified chain (leaf, intermediate or root), so a site can pin its CA.

import { X509Certificate, createHash } from 'node:crypto';
import type { PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import { normalizeHost } from './host-port.js';

/** The pin of a certificate (PEM text or parsed). */
export function spkiPin(certificate: string | X509Certificate): string {
  const x509 = typeof certificate === 'string' ? new X509Certificate(certificate) : certificate;
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Accepts `sha256/<base64>` (OkHttp's notation) as well as the bare base64 value. */
export function normalizePin(pin: string): string {
  const trimmed = pin.trim();
  return trimmed.startsWith('sha256/') ? trimmed.slice('sha256/'.length) : trimmed;
}

/** The pins of every certificate in the chain Node verified, leaf first. */
export function chainPins(peer: PeerCertificate | DetailedPeerCertificate): string[] {
  const pins: string[] = [];
  const seen = new Set<PeerCertificate>();
  let cert: PeerCertificate | undefined = peer;
  while (cert !== undefined && !seen.has(cert) && cert.raw.length > 0) {
    seen.add(cert);
    pins.push(spkiPin(new X509Certificate(cert.raw)));
    // A self-signed root is its own issuer; the `seen` set ends the walk there.
    cert =
      'issuerCertificate' in cert ? (cert as DetailedPeerCertificate).issuerCertificate : undefined;
  }
  return pins;
}

/** The pins configured for a host (keys compared case-insensitively, IPv6 without brackets). */
export function pinsForHost(
  pins: Readonly<Record<string, readonly string[]>> | undefined,
  host: string,
): string[] | undefined {
  if (pins === undefined) return undefined;
  for (const [key, values] of Object.entries(pins)) {
    if (normalizeHost(key) === host && values.length > 0) return values.map(normalizePin);
  }
  return undefined;
}
