// Turns the `uplink` configuration into the sender's policy (allow-list, pins, CA, proxy) and
// checks it at start-up, so a typo in a proxy URL or an endpoint off the allow-list stops the
// server with the key and the fix instead of failing every five minutes.

import { CcError } from '../domain/index.js';
import {
  invalidAllowPatterns,
  invalidNoProxyEntries,
  isAllowed,
  parseProxyUrl,
  redactProxyUrl,
  resolveProxy,
  type ProxyChoice,
  type SendPolicy,
} from './sender/index.js';

export interface UplinkNetworkSettings {
  endpoint: string;
  allowedHosts: readonly string[];
  spkiPins: readonly string[];
  /** PEM text of an extra trusted CA (already read from uplink.caFile). */
  ca: string | null;
  proxy: string;
  noProxy: string | null;
  timeoutMs: number;
}

function invalid(
  key: string,
  message: string,
  fix: string,
  code: 'CONFIG_INVALID' | 'VALIDATION_FAILED' = 'CONFIG_INVALID',
): CcError {
  return new CcError(code, `${key} ${message}; fix: ${fix}`, { key });
}

/** `environment`, `none`, or an explicit proxy URL with its own NO_PROXY list. */
export function proxyChoiceOf(
  settings: Pick<UplinkNetworkSettings, 'proxy' | 'noProxy'>,
  env: NodeJS.ProcessEnv = process.env,
): ProxyChoice {
  const value = settings.proxy.trim();
  if (value === 'environment') return { kind: 'environment', env };
  if (value === 'none') return { kind: 'none' };
  return { kind: 'explicit', url: value, noProxy: settings.noProxy ?? '' };
}

/**
 * The cloud base URL, checked: https, no credentials, on the allow-list. A configured endpoint
 * fails as CONFIG_INVALID, one given in a request as VALIDATION_FAILED.
 */
export function checkEndpoint(
  endpoint: string,
  allowedHosts: readonly string[],
  key: string,
  code: 'CONFIG_INVALID' | 'VALIDATION_FAILED' = 'CONFIG_INVALID',
): URL {
  if (!URL.canParse(endpoint)) {
    throw invalid(key, 'is not a URL', 'give the https:// URL of the vendor cloud', code);
  }
  const url = new URL(endpoint);
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    throw invalid(
      key,
      'must be an https:// URL without credentials',
      'use https://host/path',
      code,
    );
  }
  if (!isAllowed(url, allowedHosts)) {
    throw invalid(
      key,
      `names ${url.host}, which is not on uplink.allowedHosts`,
      `add "${url.hostname}" to uplink.allowedHosts if this host is the vendor cloud`,
      code,
    );
  }
  return url;
}

/** The sender's policy for the configured endpoint; throws CONFIG_INVALID naming the key. */
export function sendPolicyOf(
  settings: UplinkNetworkSettings,
  env: NodeJS.ProcessEnv = process.env,
): SendPolicy {
  const badHosts = invalidAllowPatterns(settings.allowedHosts);
  if (badHosts.length > 0) {
    throw invalid(
      'uplink.allowedHosts',
      `holds ${badHosts.join(', ')}`,
      'write host, host:port or *.domain',
    );
  }
  const endpoint = checkEndpoint(settings.endpoint, settings.allowedHosts, 'uplink.endpoint');
  const proxy = proxyChoiceOf(settings, env);
  if (proxy.kind === 'explicit') {
    try {
      parseProxyUrl(proxy.url, 'uplink.proxy');
    } catch (err) {
      throw invalid(
        'uplink.proxy',
        err instanceof Error ? `is unusable: ${err.message}` : 'is unusable',
        'write "environment", "none" or http://[user:password@]host:port',
      );
    }
    const badNoProxy = invalidNoProxyEntries(proxy.noProxy ?? '');
    if (badNoProxy.length > 0) {
      throw invalid('uplink.noProxy', `holds ${badNoProxy.join(', ')}`, 'use NO_PROXY syntax');
    }
  }
  return {
    allow: settings.allowedHosts,
    ...(settings.spkiPins.length > 0
      ? { pins: { [endpoint.hostname.toLowerCase()]: settings.spkiPins } }
      : {}),
    ...(settings.ca !== null ? { ca: settings.ca } : {}),
    proxy,
    timeoutMs: settings.timeoutMs,
  };
}

/** How the uplink reaches a URL, for status pages: direct, or which proxy (password hidden). */
export function routeTo(
  url: string,
  proxy: ProxyChoice,
): { via: 'direct' | 'proxy'; proxy: string | null } {
  try {
    const chosen = resolveProxy(new URL(url), proxy);
    return chosen === null
      ? { via: 'direct', proxy: null }
      : { via: 'proxy', proxy: redactProxyUrl(chosen) };
  } catch (err) {
    return { via: 'proxy', proxy: err instanceof Error ? err.message : 'unusable proxy setting' };
  }
}
