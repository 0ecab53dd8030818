// The uplink's endpoint allow-list: the only hosts a payload may be sent to, checked before any
// name lookup or proxy CONNECT. Patterns: `host` (port 443), `host:port`, `*.example.com` (any
// subdomain, not example.com itself, port 443), `*.example.com:port`, IP literals (`[v6]:port`).
// A bare host means 443 rather than any port: the cloud listens on 443, and an admin who allows
// another port should have to write it down.

import { isIP } from 'node:net';
import { normalizeHost, portOf, splitHostPort } from './host-port.js';

interface AllowPattern {
  host: string;
  /** Subdomains of `host` only. */
  subdomains: boolean;
  port: number;
}

const DNS_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

function parsePattern(text: string): AllowPattern | null {
  const split = splitHostPort(text.trim().toLowerCase());
  if (split === null) return null;
  let host = split.host;
  const subdomains = host.startsWith('*.');
  if (subdomains) host = host.slice(2);
  host = normalizeHost(host);
  const port = split.port ?? 443;
  const family = isIP(host);
  if (family === 6) {
    // Compare addresses in the WHATWG URL's canonical form, the one target URLs carry.
    if (!URL.canParse(`https://[${host}]/`)) return null;
    host = normalizeHost(new URL(`https://[${host}]/`).hostname);
  }
  if (family !== 0) return subdomains ? null : { host, subdomains, port };
  return DNS_NAME.test(host) ? { host, subdomains, port } : null;
}

/** Allow-list entries that are not host patterns (they allow nothing; for config checks). */
export function invalidAllowPatterns(allow: readonly string[]): string[] {
  return allow.filter((pattern) => parsePattern(pattern) === null);
}

/** True when the allow-list admits the URL's host and port. */
export function isAllowed(target: URL, allow: readonly string[]): boolean {
  const host = normalizeHost(target.hostname);
  const port = portOf(target);
  const isName = isIP(host) === 0;
  return allow.some((text) => {
    const pattern = parsePattern(text);
    if (pattern === null || pattern.port !== port) return false;
    if (!pattern.subdomains) return host === pattern.host;
    return isName && host.endsWith(`.${pattern.host}`);
  });
}
