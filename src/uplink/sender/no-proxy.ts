// NO_PROXY matching as curl and Go do it: entries separated by commas or
// spaces; `*` bypasses every host; `example.com`, `.example.com` and `*.example.com` all match the
// domain and its subdomains; an optional `:port` narrows an entry; IP literals and CIDR blocks match
// IP hosts only (names are never resolved to decide); case and a trailing dot never matter.

import { BlockList, isIP } from 'node:net';
import { normalizeHost, splitHostPort } from './host-port.js';

type NoProxyEntry =
  | { kind: 'all' }
  | { kind: 'domain'; name: string; port: number | undefined }
  | { kind: 'address'; block: BlockList; port: number | undefined };

function parseAddressEntry(host: string): BlockList | null {
  const block = new BlockList();
  const slash = host.indexOf('/');
  const address = slash < 0 ? host : host.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) {
    block.addAddress(address, type);
    return block;
  }
  const bitsText = host.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (bits < 0 || bits > (family === 4 ? 32 : 128)) return null;
  block.addSubnet(address, bits, type);
  return block;
}

function parseEntry(raw: string): NoProxyEntry | null {
  const entry = raw.toLowerCase();
  if (entry === '*') return { kind: 'all' };
  const split = splitHostPort(entry);
  if (split === null) return null;
  const { host, port } = split;
  if (host.includes('/') || isIP(host) !== 0) {
    const block = parseAddressEntry(host);
    return block === null ? null : { kind: 'address', block, port };
  }
  let name = host;
  if (name.startsWith('*.')) name = name.slice(2);
  else if (name.startsWith('.')) name = name.slice(1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '' || name.includes('*')) return null;
  return { kind: 'domain', name, port };
}

/** The usable entries of a NO_PROXY value; malformed ones are skipped, as curl does. */
function parseNoProxy(noProxy: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    const entry = parseEntry(raw);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}

/** Entries of a NO_PROXY value that match nothing because they are malformed (for config checks). */
export function invalidNoProxyEntries(noProxy: string): string[] {
  return noProxy.split(/[\s,]+/).filter((raw) => raw !== '' && parseEntry(raw) === null);
}

/** True when a connection to `host`:`port` must bypass the proxy. */
export function matchesNoProxy(host: string, port: number, noProxy: string): boolean {
  const target = normalizeHost(host);
  const family = isIP(target);
  for (const entry of parseNoProxy(noProxy)) {
    switch (entry.kind) {
      case 'all':
        return true;
      case 'domain':
        if (
          family === 0 &&
          (entry.port === undefined || entry.port === port) &&
          (target === entry.name || target.endsWith(`.${entry.name}`))
        ) {
          return true;
        }
        break;
      case 'address':
        if (
          family !== 0 &&
          (entry.port === undefined || entry.port === port) &&
          entry.block.check(target, family === 4 ? 'ipv4' : 'ipv6')
        ) {
          return true;
        }
        break;
    }
  }
  return false;
}
