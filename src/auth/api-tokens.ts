// API tokens for scripts and integrations: `cc_<id>_<secret>`, shown once, stored as the SHA-256 of
// the secret, carrying their creator's role, optionally expiring, revocable.

import { randomBytes } from 'node:crypto';
import { CcError, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { ApiToken, Store } from '../store/index.js';
import type { Principal } from './principal.js';
import { roleHasPermission } from './permissions.js';
import { constantTimeEqual, hashSecret, randomSecret } from './secret-tokens.js';
import type { Resolution } from './sessions.js';

const TOKEN_PATTERN = /^cc_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const MAX_TOKEN_DAYS = 3650;
/** lastUsedAt is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;

/** A token as listed: everything but the hash. */
export interface TokenSummary {
  id: string;
  name: string;
  role: ApiToken['role'];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedToken extends TokenSummary {
  /** The full token; shown once, never stored. */
  token: string;
}

export interface ApiTokens {
  create(owner: Principal, name: string, expiresInDays: number | null): Promise<CreatedToken>;
  list(owner: Principal): Promise<TokenSummary[]>;
  /** Owners revoke their own tokens; `users:manage` revokes anyone's. TOKEN_NOT_FOUND otherwise. */
  revoke(by: Principal, id: string): Promise<void>;
  resolve(token: string): Promise<Resolution>;
}

function summarize(t: ApiToken): TokenSummary {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}

export function createApiTokens(deps: { store: Store; logger: Logger }): ApiTokens {
  const { store, logger } = deps;
  const lastTouched = new Map<string, number>();
  const invalid = (): Resolution => ({
    failure: new CcError('UNAUTHENTICATED', 'the API token is not valid'),
  });

  async function create(
    owner: Principal,
    name: string,
    expiresInDays: number | null,
  ): Promise<CreatedToken> {
    if (owner.via === 'token') {
      // A leaked token must not be able to mint longer-lived successors.
      throw new CcError('FORBIDDEN', 'API tokens can only be created from a logged-in session');
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomSecret();
    const now = Date.now();
    const token: ApiToken = {
      id,
      userId: owner.userId,
      name,
      secretHash: hashSecret(secret),
      role: owner.role,
      createdAt: toIso(now),
      expiresAt: expiresInDays === null ? null : toIso(now + expiresInDays * 86_400_000),
      lastUsedAt: null,
      revokedAt: null,
    };
    await store.apiTokens.create(token);
    logger.info({ tokenId: id, username: owner.username }, 'API token created');
    return { ...summarize(token), token: `cc_${id}_${secret}` };
  }

  async function list(owner: Principal): Promise<TokenSummary[]> {
    return (await store.apiTokens.listForUser(owner.userId)).map(summarize);
  }

  async function revoke(by: Principal, id: string): Promise<void> {
    const token = await store.apiTokens.get(id);
    const allowed =
      token && (token.userId === by.userId || roleHasPermission(by.role, 'users:manage'));
    if (!token || !allowed) throw new CcError('TOKEN_NOT_FOUND', `no API token with id ${id}`);
    if (token.revokedAt === null) await store.apiTokens.revoke(id, toIso(Date.now()));
    lastTouched.delete(id);
    logger.info({ tokenId: id, username: by.username }, 'API token revoked');
  }

  async function resolve(value: string): Promise<Resolution> {
    const match = TOKEN_PATTERN.exec(value);
    const id = match?.[1];
    const secret = match?.[2];
    if (id === undefined || secret === undefined) return invalid();
    const token = await store.apiTokens.get(id);
    if (!token || !constantTimeEqual(hashSecret(secret), token.secretHash)) return invalid();
    const now = Date.now();
    if (token.revokedAt !== null) return invalid();
    if (token.expiresAt !== null && (parseIso(token.expiresAt) ?? 0) <= now) {
      return { failure: new CcError('SESSION_EXPIRED', 'the API token has expired') };
    }
    const user = await store.users.get(token.userId);
    if (!user || user.disabledAt !== null) return invalid();
    if (now - (lastTouched.get(id) ?? 0) >= TOUCH_INTERVAL_MS) {
      lastTouched.set(id, now);
      await store.apiTokens.touch(id, toIso(now));
    }
    return {
      principal: {
        userId: user.id,
        username: user.username,
        role: token.role,
        via: 'token',
        tokenId: id,
        expiresAt: token.expiresAt,
      },
    };
  }

  return { create, list, revoke, resolve };
}
