// Which proxy, if any, carries a connection to a target: the process environment (curl's
// variables), an explicit proxy from config that overrides it, or none. Only http:// proxies are
// supported, and an https:// proxy URL is refused with a message saying so: the tunnel already
// carries end-to-end TLS to the cloud; TLS to the proxy itself would protect only the proxy's
// credentials, at the cost of TLS inside TLS.

import { matchesNoProxy } from './no-proxy.js';
import { portOf } from './host-port.js';
import { SendError, redactProxyUrl } from './send-error.js';

export type ProxyChoice =
  | { kind: 'environment'; env?: NodeJS.ProcessEnv }
  | { kind: 'explicit'; url: string; noProxy?: string }
  | { kind: 'none' };

/** The first of the names set to a non-empty value; lower-case first, as curl reads them. */
function fromEnvironment(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/**
 * Parses a proxy setting. A value without a scheme (`proxy.corp:3128`) means http://, as in curl;
 * a missing port means 80. The message never repeats the value, which may hold a password.
 */
export function parseProxyUrl(value: string, source: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  if (!URL.canParse(text)) {
    throw new SendError('proxy', `${source} is not a valid proxy URL`);
  }
  const url = new URL(text);
  if (url.protocol === 'https:') {
    throw new SendError(
      'proxy',
      `${source} names an https:// proxy (${redactProxyUrl(url)}); only http:// proxies are ` +
        `supported — use the proxy's plain HTTP port: the tunnel to the cloud is TLS end to end`,
      { proxy: redactProxyUrl(url) },
    );
  }
  if (url.protocol !== 'http:') {
    throw new SendError(
      'proxy',
      `${source} uses the unsupported proxy scheme ${url.protocol.slice(0, -1)}; use an http:// proxy`,
      { proxy: redactProxyUrl(url) },
    );
  }
  if (url.hostname === '') throw new SendError('proxy', `${source} names no proxy host`);
  return url;
}

/**
 * The proxy a connection to `target` goes through, or null for a direct connection. Throws a
 * SendError of kind 'proxy' when the configured proxy URL is unusable, even for a target that
 * NO_PROXY exempts: a broken setting should surface rather than wait for the first proxied call.
 */
export function resolveProxy(target: URL, choice: ProxyChoice): URL | null {
  let proxy: URL;
  let noProxy: string;
  switch (choice.kind) {
    case 'none':
      return null;
    case 'explicit':
      proxy = parseProxyUrl(choice.url, 'the configured uplink proxy');
      noProxy = choice.noProxy ?? '';
      break;
    case 'environment': {
      const env = choice.env ?? process.env;
      // HTTPS_PROXY is the variable for https targets; HTTP_PROXY is the common fallback when a
      // site sets only that one.
      const setting =
        fromEnvironment(env, ['https_proxy', 'HTTPS_PROXY']) ??
        fromEnvironment(env, ['http_proxy', 'HTTP_PROXY']);
      if (setting === undefined) return null;
      proxy = parseProxyUrl(setting.value, `the ${setting.name} environment variable`);
      noProxy = fromEnvironment(env, ['no_proxy', 'NO_PROXY'])?.value ?? '';
      break;
    }
  }
  return matchesNoProxy(target.hostname, portOf(target), noProxy) ? null : proxy;
}

function decodeUserInfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // A `%` that starts no valid escape is kept as written rather than failing the whole setting.
    return part;
  }
}

/** The user name in a proxy URL, percent-decoded (for messages; never the password). */
export function proxyUserName(proxy: URL): string {
  return decodeUserInfo(proxy.username);
}

/** The Proxy-Authorization header value for a proxy URL with credentials; undefined without. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeUserInfo(proxy.username)}:${decodeUserInfo(proxy.password)}`;
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}
