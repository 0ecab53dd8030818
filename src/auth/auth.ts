// The authentication service the API uses: setup, login/logout, request authentication from a
// session cookie or a Bearer token, API tokens and permission checks.

import type { AppConfig } from '../config/index.js';
import { CcError, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { createApiTokens, type ApiTokens } from './api-tokens.js';
import {
  createLoginLimiter,
  DEFAULT_LOGIN_LIMITS,
  type LoginLimiterOptions,
} from './login-limiter.js';
import { ROLE_PERMISSIONS, roleHasPermission, type Permission } from './permissions.js';
import { summarizeUser, type Principal, type UserSummary } from './principal.js';
import { createSessions, SESSION_COOKIE, type LoginResult, type Resolution } from './sessions.js';
import { createSetup, type SetupRequest } from './setup.js';

export type AuthConfig = AppConfig['auth'];

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
  completeSetup(request: SetupRequest): Promise<UserSummary>;
  login(username: string, password: string, address: string): Promise<LoginResult>;
  logout(sessionSecret: string): Promise<void>;
  /** null when no credential was presented; a failure when one was presented and does not work. */
  authenticate(credentials: Credentials): Promise<Resolution | null>;
  can(principal: Principal, permission: Permission): boolean;
  permissionsOf(principal: Principal): Permission[];
  readonly tokens: ApiTokens;
  readonly session: { cookieName: string; maxAgeSeconds: number };
}

export interface AuthDeps {
  store: Store;
  logger: Logger;
  /** Login limits (tests lower them). */
  loginLimits?: LoginLimiterOptions;
}

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export function createAuth(deps: AuthDeps, config: AuthConfig): Auth {
  const { store, logger } = deps;
  const limiter = createLoginLimiter(deps.loginLimits ?? DEFAULT_LOGIN_LIMITS);
  const setup = createSetup({ store, logger });
  const sessions = createSessions({ store, logger, limiter }, config);
  const tokens = createApiTokens({ store, logger });
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
    completeSetup: async (request) => summarizeUser(await setup.complete(request)),
    login: async (username, password, address) => {
      const result = await sessions.login(username, password, address);
      await sweepExpiredSessions();
      return result;
    },
    logout: (secret) => sessions.logout(secret),
    authenticate,
    can: (principal, permission) => roleHasPermission(principal.role, permission),
    permissionsOf: (principal) => [...ROLE_PERMISSIONS[principal.role]],
    tokens,
    session: { cookieName: SESSION_COOKIE, maxAgeSeconds: Math.round(config.sessionHours * 3600) },
  };
}
