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

/** The public view of a user: never the password hash. */
export interface UserSummary {
  id: string;
  username: string;
  role: Role;
}

export function summarizeUser(user: User): UserSummary {
  return { id: user.id, username: user.username, role: user.role };
}
