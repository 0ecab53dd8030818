// The authentication service the API uses: setup, login/logout, request authentication from a
// session cookie or a Bearer token, API tokens, permission checks, and account management (users,
// invitations, the organization and its sites), with lockout and audit records.

import type { AppConfig } from '../config/index.js';
import { CcError, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { createApiTokens, type ApiTokens } from './api-tokens.js';
import {
  createAuditTrail,
  DEFAULT_AUDIT_THROTTLE,
  type AuditThrottleOptions,
  type AuditTrail,
} from './audit-trail.js';
import { createInvites, type Invites } from './invites.js';
import {
  createLoginLimiter,
  DEFAULT_LOGIN_LIMITS,
  type LoginLimiterOptions,
} from './login-limiter.js';
import { createLoginLockout, MAX_LOCKOUT_MS } from './login-lockout.js';
import {
  ORGANIZATION_WIDE_PERMISSIONS,
  permissionsFor,
  roleHasPermission,
  type Permission,
} from './permissions.js';
import { summarizeUser, type Principal, type UserSummary } from './principal.js';
import { createSessions, SESSION_COOKIE, type LoginResult, type Resolution } from './sessions.js';
import { createSetup, type SetupRequest } from './setup.js';
import { createSites, type Sites } from './sites.js';
import { createUsers, type Users } from './users.js';

/** The `auth` section of the configuration; lockout settings default when absent (tests). */
export type AuthConfig = Pick<AppConfig['auth'], 'sessionHours' | 'sessionIdleMinutes'> &
  Partial<Pick<AppConfig['auth'], 'loginMaxFailures' | 'lockoutMinutes'>>;

export const DEFAULT_LOCKOUT = { loginMaxFailures: 5, lockoutMinutes: 15 } as const;

export interface Credentials {
  /** Value of the session cookie, when present. */
  sessionSecret?: string | undefined;
  /** Value of the Authorization header, when present. */
  authorization?: string | undefined;
}

export interface Auth {
  /** A one-time setup token while no user exists (print it as `/setup#token=…`), else null. */
  prepareSetup(): Promise<string | null>;
  setupRequired(): Promise<boolean>;
  completeSetup(request: SetupRequest, source?: string | null): Promise<UserSummary>;
  login(username: string, password: string, address: string): Promise<LoginResult>;
  /** Accepts an invitation: creates the account and logs it in. */
  acceptInvite(
    request: { token: string; username: string; password: string },
    address: string,
  ): Promise<LoginResult>;
  logout(sessionSecret: string, address?: string | null): Promise<void>;
  /** null when no credential was presented; a failure when one was presented and does not work. */
  authenticate(credentials: Credentials): Promise<Resolution | null>;
  can(principal: Principal, permission: Permission): boolean;
  permissionsOf(principal: Principal): Permission[];
  readonly tokens: ApiTokens;
  readonly users: Users;
  readonly invites: Invites;
  readonly sites: Sites;
  readonly audit: AuditTrail;
  readonly session: { cookieName: string; maxAgeSeconds: number };
}

export interface AuthDeps {
  store: Store;
  logger: Logger;
  /** Login limits (tests lower them). */
  loginLimits?: LoginLimiterOptions;
  /** Throttle of audit records anonymous callers cause (tests change it). */
  auditThrottle?: AuditThrottleOptions;
}

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export function createAuth(deps: AuthDeps, config: AuthConfig): Auth {
  const { store, logger } = deps;
  const limits = deps.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const limiter = createLoginLimiter(limits);
  const lockout = createLoginLockout({
    maxFailures: config.loginMaxFailures ?? DEFAULT_LOCKOUT.loginMaxFailures,
    windowMs: limits.windowMs,
    lockoutMs: (config.lockoutMinutes ?? DEFAULT_LOCKOUT.lockoutMinutes) * 60_000,
    maxLockoutMs: MAX_LOCKOUT_MS,
    maxKeys: limits.maxKeys,
  });
  const audit = createAuditTrail({ store, logger }, deps.auditThrottle ?? DEFAULT_AUDIT_THROTTLE);
  const setup = createSetup({ store, logger, audit });
  const sessions = createSessions({ store, logger, limiter, lockout, audit }, config);
  const tokens = createApiTokens({ store, logger, audit });
  const users = createUsers({ store, logger, audit, sessions, limiter, lockout });
  const invites = createInvites({ store, logger, audit });
  const sites = createSites({ store, audit });
  let lastSweep = 0;

  async function sweepExpiredSessions(): Promise<void> {
    // Piggybacks on logins instead of a timer: expired rows are harmless, only untidy.
    const now = Date.now();
    if (now - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = now;
    const removed = await store.sessions.removeExpired(toIso(now));
    if (removed > 0) logger.debug({ removed }, 'removed expired sessions');
  }

  async function authenticate(credentials: Credentials): Promise<Resolution | null> {
    const header = credentials.authorization;
    if (header !== undefined && header !== '') {
      const match = /^Bearer +(\S+) *$/i.exec(header);
      if (!match?.[1]) {
        return {
          failure: new CcError(
            'UNAUTHENTICATED',
            'the Authorization header must be "Bearer <token>"',
          ),
        };
      }
      return tokens.resolve(match[1]);
    }
    if (credentials.sessionSecret !== undefined && credentials.sessionSecret !== '') {
      return sessions.resolve(credentials.sessionSecret);
    }
    return null;
  }

  return {
    prepareSetup: () => setup.prepare(),
    setupRequired: () => setup.required(),
    completeSetup: async (request, source) => summarizeUser(await setup.complete(request, source)),
    login: async (username, password, address) => {
      const result = await sessions.login(username, password, address);
      await sweepExpiredSessions();
      return result;
    },
    acceptInvite: async (request, address) => {
      const user = await invites.accept(request, address);
      return sessions.start(user, address);
    },
    logout: async (secret, address = null) => {
      const userId = await sessions.logout(secret);
      const user = userId === undefined ? undefined : await store.users.get(userId);
      if (user) {
        await audit.record({
          actor: user.username,
          action: 'auth.logout',
          target: user.username,
          outcome: 'ok',
          source: address,
          details: {},
        });
      }
    },
    authenticate,
    can: (principal, permission) =>
      roleHasPermission(principal.role, permission) &&
      (principal.sites === null || !ORGANIZATION_WIDE_PERMISSIONS.includes(permission)),
    permissionsOf: (principal) => permissionsFor(principal.role, principal.sites),
    tokens,
    users,
    invites,
    sites,
    audit,
    session: { cookieName: SESSION_COOKIE, maxAgeSeconds: Math.round(config.sessionHours * 3600) },
  };
}
