// Who is making a request, once authenticated: the user, the role in force and how they proved it.

import type { Role, User } from '../store/index.js';

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
