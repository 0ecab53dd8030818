// Checks shared by everything that gives someone a site scope (users, invites, tokens' owners):
// the sites must exist and lie within the scope of whoever hands them out.

import { CcError } from '../domain/index.js';
import type { Store } from '../store/index.js';
import type { Principal } from './principal.js';

export const SITE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The scope `by` may hand out: null (every site) only from an unscoped principal; otherwise
 * distinct, existing sites within `by`'s own. Unknown sites and sites outside `by`'s scope get the
 * same answer, so a scoped administrator learns nothing about other sites.
 */
export async function checkGrantedSites(
  store: Store,
  by: Principal,
  sites: readonly string[] | null,
): Promise<string[] | null> {
  if (sites === null) {
    if (by.sites !== null) {
      throw new CcError(
        'FORBIDDEN',
        'you are limited to some sites, so you can only give access to those sites',
      );
    }
    return null;
  }
  const unique = [...new Set(sites)];
  if (unique.length === 0) {
    throw new CcError('VALIDATION_FAILED', 'give at least one site, or null for every site', {
      field: 'sites',
    });
  }
  const known = new Set((await store.sites.list()).map((s) => s.id));
  const unknown = unique.filter(
    (id) => !known.has(id) || (by.sites !== null && !by.sites.includes(id)),
  );
  if (unknown.length > 0) {
    throw new CcError('VALIDATION_FAILED', `no such site: ${unknown.join(', ')}`, {
      field: 'sites',
    });
  }
  return unique;
}

/** Whether a scoped manager may manage someone with `sites` (only within their own scope). */
export function scopeWithin(
  sites: readonly string[] | null,
  of: readonly string[] | null,
): boolean {
  if (of === null) return true;
  return sites !== null && sites.every((s) => of.includes(s));
}
