// API tokens for scripts and integrations: `cc_<id>_<secret>`, shown once, stored as the SHA-256 of
// the secret, optionally expiring, revocable, and scoped: a role no stronger than the creator's,
// a subset of the creator's sites, and (for integrations) API Proxy access.

import { randomBytes } from 'node:crypto';
import { CcError, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { ApiToken, ProxyScope, Role, Store, TokenScope } from '../store/index.js';
import type { AuditTrail } from './audit-trail.js';
import { actorName, intersectSites, type Principal } from './principal.js';
import { ROLE_PERMISSIONS, roleHasPermission } from './permissions.js';
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
  scope: TokenScope;
}

export interface TokenRequest {
  name: string;
  /** Days until it expires; null for never. */
  expiresInDays: number | null;
  /** The token's role; defaults to the creator's and may not grant more than it. */
  role?: Role | undefined;
  /** Limit to these sites (within the creator's own). */
  sites?: string[] | null | undefined;
  /** API Proxy access; needs the creator to hold `devices:manage`. */
  proxy?: ProxyScope | null | undefined;
}

export interface CreatedToken extends TokenSummary {
  /** The full token; shown once, never stored. */
  token: string;
}

export interface ApiTokens {
  /** `source`: the client address, for the audit log. */
  create(owner: Principal, request: TokenRequest, source?: string | null): Promise<CreatedToken>;
  list(owner: Principal): Promise<TokenSummary[]>;
  /** Owners revoke their own tokens; `users:manage` revokes anyone's. TOKEN_NOT_FOUND otherwise. */
  revoke(by: Principal, id: string, source?: string | null): Promise<void>;
  /**
   * The token's principal. Its sites are the token's narrowed by its user's sites *now*, so
   * narrowing a user narrows their tokens at once; a token whose role the user no longer holds
   * (the user was demoted) stops working.
   */
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
    scope: t.scope,
  };
}

/** Whether every permission of `role` is also one of `of`'s. */
export function roleWithin(role: Role, of: Role): boolean {
  return ROLE_PERMISSIONS[role].every((p) => roleHasPermission(of, p));
}

function scopeFor(owner: Principal, request: TokenRequest): { role: Role; scope: TokenScope } {
  const role = request.role ?? owner.role;
  if (!roleWithin(role, owner.role)) {
    throw new CcError('FORBIDDEN', `a ${owner.role} cannot create a token with the role ${role}`);
  }
  const asked = request.sites ? [...new Set(request.sites)] : null;
  const own = owner.sites;
  if (asked !== null && own !== null) {
    const outside = asked.filter((site) => !own.includes(site));
    if (outside.length > 0) {
      throw new CcError('FORBIDDEN', `sites outside your own scope: ${outside.join(', ')}`);
    }
  }
  const proxy = request.proxy ?? null;
  if (proxy !== null && !roleHasPermission(owner.role, 'devices:manage')) {
    throw new CcError('FORBIDDEN', 'API Proxy tokens need the permission devices:manage');
  }
  const sites = asked === null ? owner.sites : intersectSites(asked, owner.sites);
  return {
    role,
    scope: {
      sites,
      proxy:
        proxy === null
          ? null
          : {
              devices: proxy.devices === null ? null : [...new Set(proxy.devices)],
              methods: [...new Set(proxy.methods.map((m) => m.toUpperCase()))],
              paths: [...new Set(proxy.paths)],
            },
    },
  };
}

export function createApiTokens(deps: {
  store: Store;
  logger: Logger;
  audit: AuditTrail;
}): ApiTokens {
  const { store, logger, audit } = deps;
  const lastTouched = new Map<string, number>();
  const invalid = (): Resolution => ({
    failure: new CcError('UNAUTHENTICATED', 'the API token is not valid'),
  });

  async function create(
    owner: Principal,
    request: TokenRequest,
    source: string | null = null,
  ): Promise<CreatedToken> {
    const { name, expiresInDays } = request;
    if (owner.via === 'token') {
      // A leaked token must not be able to mint longer-lived successors.
      throw new CcError('FORBIDDEN', 'API tokens can only be created from a logged-in session');
    }
    const { role, scope } = scopeFor(owner, request);
    const id = randomBytes(8).toString('hex');
    const secret = randomSecret();
    const now = Date.now();
    const token: ApiToken = {
      id,
      userId: owner.userId,
      name,
      secretHash: hashSecret(secret),
      role,
      createdAt: toIso(now),
      expiresAt: expiresInDays === null ? null : toIso(now + expiresInDays * 86_400_000),
      lastUsedAt: null,
      revokedAt: null,
      scope,
    };
    await store.apiTokens.create(token);
    logger.info({ tokenId: id, username: owner.username }, 'API token created');
    await audit.record({
      actor: actorName(owner),
      action: 'token.create',
      target: id,
      outcome: 'ok',
      source,
      details: {
        name,
        role,
        sites: scope.sites,
        proxy: scope.proxy !== null,
        expiresAt: token.expiresAt,
      },
    });
    return { ...summarize(token), token: `cc_${id}_${secret}` };
  }

  async function list(owner: Principal): Promise<TokenSummary[]> {
    return (await store.apiTokens.listForUser(owner.userId)).map(summarize);
  }

  async function revoke(by: Principal, id: string, source: string | null = null): Promise<void> {
    const token = await store.apiTokens.get(id);
    const allowed =
      token && (token.userId === by.userId || roleHasPermission(by.role, 'users:manage'));
    if (!token || !allowed) throw new CcError('TOKEN_NOT_FOUND', `no API token with id ${id}`);
    if (token.revokedAt === null) await store.apiTokens.revoke(id, toIso(Date.now()));
    lastTouched.delete(id);
    logger.info({ tokenId: id, username: by.username }, 'API token revoked');
    await audit.record({
      actor: actorName(by),
      action: 'token.revoke',
      target: id,
      outcome: 'ok',
      source,
      details: { name: token.name, owner: token.userId === by.userId ? 'self' : token.userId },
    });
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
    if (!roleWithin(token.role, user.role)) {
      return {
        failure: new CcError(
          'UNAUTHENTICATED',
          `the API token's role ${token.role} is more than its user now holds; create a new token`,
        ),
      };
    }
    if (now - (lastTouched.get(id) ?? 0) >= TOUCH_INTERVAL_MS) {
      lastTouched.set(id, now);
      // Bookkeeping only: a failed write (a full disk) must not fail the request.
      await store.apiTokens.touch(id, toIso(now)).catch((err: unknown) => {
        logger.debug({ err }, 'cannot record API token use');
      });
    }
    return {
      principal: {
        userId: user.id,
        username: user.username,
        role: token.role,
        via: 'token',
        tokenId: id,
        expiresAt: token.expiresAt,
        sites: intersectSites(token.scope.sites, user.sites),
        proxy: token.scope.proxy,
      },
    };
  }

  return { create, list, revoke, resolve };
}
