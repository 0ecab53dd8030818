// The server's trust policy from its configuration: vendor public keys by file (active and
// retired) and the k-of-n threshold. A key that cannot be used stops start-up with a message that
// names the configuration key and the fix; no key at all is allowed, and refuses every package.

import { CcError } from '../../domain/index.js';
import {
  createTrustPolicy,
  loadVendorKeys,
  type TrustPolicy,
  type VendorKey,
} from '../vendor-keys.js';
import type { TrustView } from './catalog-types.js';

export interface TrustConfig {
  trustedKeys: readonly string[];
  retiredKeys: readonly string[];
  threshold: number;
}

function configError(key: string, message: string, fix: string): CcError {
  return new CcError('CONFIG_INVALID', `${key}: ${message}; fix: ${fix}`, { key });
}

async function loadOne(key: string, file: string, retired: boolean): Promise<VendorKey> {
  try {
    const [loaded] = await loadVendorKeys([{ file, retired }]);
    if (loaded === undefined) throw new Error('no key in the file');
    return loaded;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw configError(
      key,
      `cannot use ${file} (${reason.startsWith(`${file}: `) ? reason.slice(file.length + 2) : reason})`,
      'point it at a readable vendor public key, an Ed25519 "BEGIN PUBLIC KEY" PEM file as `command-center firmware keygen` writes it',
    );
  }
}

/** The trust policy of firmware.trustedKeys / retiredKeys / threshold; null without any key. */
export async function loadCatalogTrust(config: TrustConfig): Promise<TrustPolicy | null> {
  if (config.trustedKeys.length === 0) return null;
  const keys: VendorKey[] = [];
  for (const file of config.trustedKeys) {
    keys.push(await loadOne('firmware.trustedKeys', file, false));
  }
  for (const file of config.retiredKeys) {
    keys.push(await loadOne('firmware.retiredKeys', file, true));
  }
  const seen = new Map<string, string>();
  const files = [...config.trustedKeys, ...config.retiredKeys];
  keys.forEach((key, i) => {
    const earlier = seen.get(key.id);
    if (earlier !== undefined) {
      throw configError(
        i < config.trustedKeys.length ? 'firmware.trustedKeys' : 'firmware.retiredKeys',
        `${files[i] ?? ''} holds key ${key.id}, which ${earlier} holds already`,
        'list each vendor key once: in firmware.trustedKeys while it signs, in firmware.retiredKeys once it is retired',
      );
    }
    seen.set(key.id, files[i] ?? '');
  });
  try {
    return createTrustPolicy(keys, config.threshold);
  } catch (err) {
    throw configError(
      'firmware.threshold',
      err instanceof Error ? err.message : String(err),
      `set firmware.threshold to at most ${config.trustedKeys.length}, or add trusted keys`,
    );
  }
}

export function trustViewOf(trust: TrustPolicy | null): TrustView {
  if (trust === null) return { configured: false, threshold: 1, keys: [] };
  return {
    configured: true,
    threshold: trust.threshold,
    keys: trust.keys.map((k) => ({ id: k.id, retired: k.retired })),
  };
}
