// Host and port notation shared by the allow-list and NO_PROXY: `host`, `host:port`, `[v6]`,
// `[v6]:port`, and a bare IPv6 literal (which cannot carry a port without brackets).

/** Lower-case, without IPv6 brackets or the trailing dot of a fully qualified name. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : null;
}

/** The host and (if written) port of an entry; null when the port part is malformed. */
export function splitHostPort(entry: string): { host: string; port: number | undefined } | null {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return null;
    const host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest === '') return { host, port: undefined };
    const port = rest.startsWith(':') ? parsePort(rest.slice(1)) : null;
    return port === null ? null : { host, port };
  }
  const colon = entry.indexOf(':');
  if (colon < 0 || entry.includes(':', colon + 1)) return { host: entry, port: undefined };
  const port = parsePort(entry.slice(colon + 1));
  return port === null ? null : { host: entry.slice(0, colon), port };
}

/** The port a URL connects to: its explicit port, or the scheme's default. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** `host:port` as written in a CONNECT request line and in messages (IPv6 in brackets). */
export function authorityOf(url: URL): string {
  return `${url.hostname}:${portOf(url)}`;
}
