// Who is making a request, once authenticated: the user, the role in force and how they proved it.

import type { ProxyScope, Role, User } from '../store/index.js';

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  /** A browser session (cookie) or an API token (Authorization: Bearer). */
  via: 'session' | 'token';
  /** The API token's id when `via` is 'token'. */
  tokenId: string | null;
  /** When the credential stops working (session absolute expiry or token expiry). */
  expiresAt: string | null;
  /** Site ids the principal is limited to (the user's scope narrowed by the token's); null for all. */
  sites: string[] | null;
  /** API Proxy access of a token with proxy scope; null otherwise (always null for sessions). */
  proxy: ProxyScope | null;
}

/** The sites both scopes allow (null means "no limit"). */
export function intersectSites(a: string[] | null, b: string[] | null): string[] | null {
  if (a === null) return b === null ? null : [...b];
  if (b === null) return [...a];
  return a.filter((site) => b.includes(site));
}

/** Whether a principal limited to `sites` (null: every site) may see something in `siteId`. A
 * device with no site, or with a site id that names no site, is visible to unscoped principals only. */
export function siteVisible(sites: readonly string[] | null, siteId: string | null): boolean {
  return sites === null || (siteId !== null && sites.includes(siteId));
}

/** How a principal is named in audit records: the user, marked when acting through an API token. */
export function actorName(principal: Principal): string {
  return principal.via === 'token' ? `${principal.username} (token)` : principal.username;
}

/** The public view of a user: never the password hash. */
export interface UserSummary {
  id: string;
  username: string;
  role: Role;
}

export function summarizeUser(user: User): UserSummary {
  return { id: user.id, username: user.username, role: user.role };
}
