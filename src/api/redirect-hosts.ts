// Which host names the plain-HTTP port may redirect to: those the HTTPS certificate is valid for
// (a redirect to any other name would fail TLS anyway), so a forged Host header cannot turn the
// redirect into an open redirect.

import { X509Certificate } from 'node:crypto';

export interface HostMatcher {
  /** The normalized host name (no port) when the Host header is well-formed and allowed. */
  allowedHost(hostHeader: string | undefined): string | undefined;
}

const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Lower-cased host name of a well-formed Host header, without port; undefined if malformed. */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader.length > 260 || !HOST_HEADER.test(hostHeader)) {
    return undefined;
  }
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

function normalizeName(name: string): string | undefined {
  if (name.startsWith('*.')) return `*.${name.slice(2).toLowerCase()}`;
  const bracketed = name.includes(':') ? `[${name}]` : name;
  return hostnameOf(bracketed);
}

/** Names from the certificate's subject alternative names, or its common name without SANs. */
export function certificateHostNames(certPem: string): string[] {
  const cert = new X509Certificate(certPem);
  const names: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
    if (m?.[2]) names.push(m[2]);
  }
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    if (cn) names.push(cn);
  }
  return names.flatMap((n) => normalizeName(n) ?? []);
}

export function createHostMatcher(names: readonly string[]): HostMatcher {
  const exact = new Set<string>();
  const wildcards: string[] = [];
  for (const name of names) {
    const normalized = normalizeName(name);
    if (normalized === undefined) continue;
    if (normalized.startsWith('*.')) wildcards.push(normalized.slice(1));
    else exact.add(normalized);
  }
  return {
    allowedHost(hostHeader) {
      const host = hostnameOf(hostHeader);
      if (host === undefined) return undefined;
      if (exact.has(host)) return host;
      // A wildcard covers exactly one label (RFC 6125 §6.4.3).
      const dot = host.indexOf('.');
      if (dot > 0 && wildcards.includes(host.slice(dot))) return host;
      return undefined;
    },
  };
}
