// Turns the `firmware` configuration into the catalog's settings, checked at start-up: key files
// readable and Ed25519 public keys, a reachable threshold, a usable sync URL, CA file and proxy, so
// that a mistake stops the server naming the key and the fix instead of failing every sync.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CcError } from '../../domain/index.js';
import {
  invalidAllowPatterns,
  parseProxyUrl,
  type ProxyChoice,
} from '../../uplink/sender/index.js';
import { loadCatalogTrust } from './catalog-trust.js';
import type { CatalogSettings } from './catalog-types.js';
import { parseSyncUrl } from './sync-url.js';

/** The `firmware` section of the configuration (config-schema.ts documents each key). */
export interface CatalogConfig {
  trustedKeys: readonly string[];
  retiredKeys: readonly string[];
  threshold: number;
  maxPackageBytes: number;
  syncUrl: string | null;
  syncIntervalMinutes: number;
  allowedHosts: readonly string[];
  caFile: string | null;
  proxy: string;
  downloadTimeoutSeconds: number;
  syncTimeoutSeconds: number;
}

function invalid(key: string, message: string, fix: string): CcError {
  return new CcError('CONFIG_INVALID', `${key}: ${message}; fix: ${fix}`, { key });
}

async function readCa(file: string | null): Promise<string | null> {
  if (file === null) return null;
  try {
    const pem = await readFile(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (err) {
    throw invalid(
      'firmware.caFile',
      `${file} cannot be used (${err instanceof Error ? err.message : String(err)})`,
      'point it at a readable PEM certificate',
    );
  }
}

function proxyOf(value: string, env: NodeJS.ProcessEnv): ProxyChoice {
  const text = value.trim();
  if (text === 'environment') return { kind: 'environment', env };
  if (text === 'none') return { kind: 'none' };
  try {
    parseProxyUrl(text, 'firmware.proxy');
  } catch (err) {
    throw invalid(
      'firmware.proxy',
      err instanceof Error ? err.message : String(err),
      'use "environment", "none" or http://[user:password@]host:port',
    );
  }
  return { kind: 'explicit', url: text };
}

export async function catalogSettingsOf(
  config: CatalogConfig,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CatalogSettings> {
  const badHosts = invalidAllowPatterns(config.allowedHosts);
  if (badHosts.length > 0) {
    throw invalid(
      'firmware.allowedHosts',
      `${badHosts.join(', ')} is not a host pattern`,
      'write host, host:port or *.domain',
    );
  }
  if (config.syncUrl !== null) parseSyncUrl(config.syncUrl);
  return {
    dir: join(dataDir, 'firmware'),
    trust: await loadCatalogTrust(config),
    maxPackageBytes: config.maxPackageBytes,
    sync: {
      url: config.syncUrl,
      intervalMinutes: config.syncIntervalMinutes,
      allowedHosts: config.allowedHosts,
      ca: await readCa(config.caFile),
      proxy: proxyOf(config.proxy, env),
      downloadTimeoutMs: config.downloadTimeoutSeconds * 1000,
      syncTimeoutMs: config.syncTimeoutSeconds * 1000,
    },
  };
}
