// Turns a failed check's error into the likely cause and the fix an operator can act on.

import { CheckTimeout, errorCode } from './socket-io.js';

export interface Verdict {
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  cause?: string;
  fix?: string;
}

export function failure(detail: string, cause: string, fix: string): Verdict {
  return { status: 'fail', detail, cause, fix };
}

export function explainDns(host: string, err: unknown): Verdict {
  if (err instanceof CheckTimeout)
    return failure(
      `DNS lookup failed: ${err.message}`,
      'the DNS server is unreachable or does not answer',
      `check the resolver in /etc/resolv.conf and allow DNS (port 53) to it; or add ${host} to the hosts file`,
    );
  const code = errorCode(err) ?? 'error';
  return failure(
    `DNS lookup failed (${code})`,
    `the DNS server is unreachable or the name ${host} is blocked or does not exist`,
    `allow ${host} on the site's DNS server (or firewall DNS filter) and check the spelling`,
  );
}

export function explainTcp(target: string, err: unknown): Verdict {
  if (err instanceof CheckTimeout)
    return failure(
      `TCP connect failed: ${err.message}`,
      'a firewall drops the connection silently, or there is no route to the host',
      `allow outgoing TCP to ${target} on the site firewall`,
    );
  const code = errorCode(err);
  if (code === 'ECONNREFUSED')
    return failure(
      'TCP connect refused (ECONNREFUSED)',
      'nothing listens on that port, or a firewall rejects the connection',
      `allow outgoing TCP to ${target}; if the endpoint is local, start the service`,
    );
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return failure(
      `TCP connect failed (${code})`,
      'there is no network route to the host',
      'check the default gateway and routing of this machine',
    );
  return failure(
    `TCP connect failed (${code ?? String(err)})`,
    'the connection could not be opened',
    `allow outgoing TCP to ${target} on the site firewall`,
  );
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

export function explainTlsAuthorization(host: string, code: string): Verdict {
  if (code === 'CERT_HAS_EXPIRED')
    return failure(
      'TLS certificate has expired (CERT_HAS_EXPIRED)',
      "the server's certificate is past its expiry date, or this machine's clock is wrong",
      'check the system clock (timedatectl / NTP); if it is right, the server must renew its certificate',
    );
  if (code === 'CERT_NOT_YET_VALID')
    return failure(
      'TLS certificate is not yet valid (CERT_NOT_YET_VALID)',
      "this machine's clock is behind",
      'set the system clock right (enable NTP)',
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return failure(
      `TLS certificate does not match the host name ${host} (ERR_TLS_CERT_ALTNAME_INVALID)`,
      'wrong host name: the connection reached a different server, often an intercepting proxy or captive portal',
      `make sure ${host} resolves to the real service and exempt it from TLS interception`,
    );
  if (UNTRUSTED.has(code))
    return failure(
      `TLS certificate chain is not trusted (${code})`,
      'untrusted chain: a TLS-inspecting proxy or firewall replaces the certificate, or the server sends an incomplete chain',
      `exempt ${host} from TLS inspection, or trust the inspecting CA (uplink.caFile; --ca <file> for the command)`,
    );
  return failure(
    `TLS certificate rejected (${code})`,
    'the certificate chain failed verification',
    `exempt ${host} from TLS inspection, or trust the issuing CA (uplink.caFile; --ca <file> for the command)`,
  );
}

/** OpenSSL's codes for "the peer speaks only a protocol version we refuse". */
const OLD_PROTOCOL = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
]);

export function explainTlsError(err: unknown): Verdict {
  if (err instanceof CheckTimeout)
    return failure(
      `TLS handshake failed: ${err.message}`,
      'the port accepts connections but never answers the TLS handshake: a firewall, a non-TLS service, or a filtering proxy holds it',
      'check that the port serves TLS and that no middlebox holds the connection; allow it on the firewall',
    );
  const code = errorCode(err);
  if (code !== undefined && OLD_PROTOCOL.has(code))
    return failure(
      `TLS handshake failed: no common protocol version (${code})`,
      'the server (or a middlebox in front of it) offers only an outdated protocol (TLS 1.1 or older), which this product refuses',
      'the server or middlebox must offer TLS 1.2 or later; if a TLS-inspecting proxy sits in between, update it or exempt this host',
    );
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG')
    return failure(
      `TLS handshake failed: the answer is not TLS (${code})`,
      'the port serves another protocol (plain HTTP, for instance), or a proxy answers in clear text',
      'check the port number and that the service there speaks HTTPS',
    );
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return failure(
      `TLS handshake failed: connection reset (${code})`,
      'a firewall or filter resets TLS connections to this host (often SNI-based filtering)',
      'allow the host name on the firewall / web filter',
    );
  return failure(
    `TLS handshake failed (${code ?? (err instanceof Error ? err.message : String(err))})`,
    'the server and this machine could not agree on TLS, or something in between interferes',
    'check that the port serves TLS 1.2 or later and that no middlebox rewrites the connection',
  );
}
