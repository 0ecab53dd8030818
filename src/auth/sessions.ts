// Browser sessions: login checks the password (same answer and similar time for an unknown user and
// a wrong password), issues a random secret for the cookie and stores only its hash; sessions end
// at an absolute expiry and after an idle period. Failed logins count towards the rate limit and
// the account lockout and are audited (throttled); a session carries its user's current site scope.

import { CcError, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store, User } from '../store/index.js';
import { untrustedName, type AuditTrail } from './audit-trail.js';
import type { LoginLimiter } from './login-limiter.js';
import type { LoginLockout } from './login-lockout.js';
import { hashPassword, PASSWORD_MAX_LENGTH, verifyPassword } from './passwords.js';
import type { Principal, UserSummary } from './principal.js';
import { summarizeUser } from './principal.js';
import { hashSecret, randomSecret } from './secret-tokens.js';

export const SESSION_COOKIE = 'cc_session';

export interface SessionConfig {
  sessionHours: number;
  sessionIdleMinutes: number;
}

export interface LoginResult {
  /** The cookie value: the session secret (never stored). */
  secret: string;
  user: UserSummary;
  expiresAt: string;
}

/** A credential was presented but does not work: why, so the client can say "expired" vs "invalid". */
export type Resolution = { principal: Principal } | { failure: CcError };

export interface Sessions {
  login(username: string, password: string, address: string): Promise<LoginResult>;
  /** Starts a session for a user who just proved who they are another way (an accepted invite). */
  start(user: User, address: string): Promise<LoginResult>;
  resolve(secret: string): Promise<Resolution>;
  /** Ends the session; resolves with its user's id when there was one. */
  logout(secret: string): Promise<string | undefined>;
  /**
   * Checks a password for a signed-in user (changing the password): wrong passwords count like
   * failed logins, so a stolen session cannot be used to guess it.
   */
  verifyFor(user: User, password: string, address: string): Promise<void>;
}

export interface SessionDeps {
  store: Store;
  logger: Logger;
  limiter: LoginLimiter;
  lockout: LoginLockout;
  audit: AuditTrail;
}

/** lastSeenAt is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function sessionIdHash(secret: string): string | undefined {
  return secret.length === 0 || secret.length > 128 ? undefined : hashSecret(secret);
}

export function createSessions(deps: SessionDeps, config: SessionConfig): Sessions {
  const { store, logger, limiter, lockout, audit } = deps;
  // Verified against when the user does not exist, so both failures cost one scrypt.
  let dummyHash: Promise<string> | undefined;
  const invalid = (): CcError => new CcError('INVALID_CREDENTIALS', 'wrong user name or password');

  function refusal(username: string, address: string, action: string, reason: string) {
    const actor = untrustedName(username);
    return audit.recordThrottled(`${action}\u0000${address}\u0000${actor.toLowerCase()}`, {
      actor,
      action,
      target: actor,
      outcome: 'refused',
      source: address,
      details: { reason },
    });
  }

  /** Refuses while the address or the name is rate limited or the name is locked (audited). */
  async function checkAllowed(username: string, address: string): Promise<void> {
    try {
      limiter.check(address, username);
      lockout.check(username);
    } catch (err) {
      const locked = err instanceof CcError && err.details?.locked === true;
      await refusal(username, address, 'auth.login', locked ? 'locked' : 'rate-limited');
      throw err;
    }
  }

  async function recordFailure(username: string, address: string, reason: string) {
    limiter.recordFailure(address, username);
    const lock = lockout.recordFailure(username);
    logger.info({ address }, 'failed login');
    await refusal(username, address, 'auth.login', reason);
    if (lock) {
      logger.warn({ address, lockedUntil: toIso(lock.lockedUntil) }, 'account locked');
      const actor = untrustedName(username);
      await audit.recordThrottled(`auth.lockout\u0000${actor.toLowerCase()}`, {
        actor,
        action: 'auth.lockout',
        target: actor,
        outcome: 'refused',
        source: address,
        details: { lockedUntil: toIso(lock.lockedUntil), lockoutsInARow: lock.streak },
      });
    }
  }

  async function start(user: User, address: string): Promise<LoginResult> {
    const now = Date.now();
    const secret = randomSecret();
    const expiresAt = toIso(now + config.sessionHours * 3_600_000);
    await store.sessions.create({
      idHash: hashSecret(secret),
      userId: user.id,
      createdAt: toIso(now),
      lastSeenAt: toIso(now),
      expiresAt,
    });
    await store.users.update(user.id, { lastLoginAt: toIso(now) });
    await audit.record({
      actor: user.username,
      action: 'auth.login',
      target: user.username,
      outcome: 'ok',
      source: address,
      details: {},
    });
    logger.info({ username: user.username, address }, 'login');
    return { secret, user: summarizeUser(user), expiresAt };
  }

  async function login(username: string, password: string, address: string): Promise<LoginResult> {
    await checkAllowed(username, address);
    const user =
      username.length <= 64 && password.length <= PASSWORD_MAX_LENGTH
        ? await store.users.byUsername(username)
        : undefined;
    dummyHash ??= hashPassword('not a password of anyone');
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
    if (!user || !ok || user.disabledAt !== null) {
      const reason = !user ? 'unknown-user' : !ok ? 'wrong-password' : 'disabled';
      await recordFailure(username, address, reason);
      throw invalid();
    }
    limiter.recordSuccess(username);
    lockout.recordSuccess(username);
    return start(user, address);
  }

  async function verifyFor(user: User, password: string, address: string): Promise<void> {
    await checkAllowed(user.username, address);
    if (!(await verifyPassword(password, user.passwordHash))) {
      await recordFailure(user.username, address, 'wrong-current-password');
      throw new CcError('FORBIDDEN', 'the current password is wrong', { field: 'currentPassword' });
    }
  }

  async function resolve(secret: string): Promise<Resolution> {
    const expired = (): Resolution => ({
      failure: new CcError('SESSION_EXPIRED', 'the session has expired; log in again'),
    });
    const idHash = sessionIdHash(secret);
    if (idHash === undefined) return { failure: invalidSession() };
    const session = await store.sessions.get(idHash);
    if (!session) return { failure: invalidSession() };
    const now = Date.now();
    const expiresAt = parseIso(session.expiresAt) ?? 0;
    const lastSeen = parseIso(session.lastSeenAt) ?? 0;
    if (expiresAt <= now || lastSeen + config.sessionIdleMinutes * 60_000 <= now) {
      await store.sessions.remove(idHash);
      return expired();
    }
    const user = await store.users.get(session.userId);
    if (!user || user.disabledAt !== null) {
      await store.sessions.remove(idHash);
      return { failure: invalidSession() };
    }
    if (now - lastSeen >= TOUCH_INTERVAL_MS) {
      // Bookkeeping for the idle timeout: a failed write (a full disk) must not fail the request.
      await store.sessions.touch(idHash, toIso(now)).catch((err: unknown) => {
        logger.debug({ err }, 'cannot record session activity');
      });
    }
    return {
      principal: {
        userId: user.id,
        username: user.username,
        role: user.role,
        via: 'session',
        tokenId: null,
        expiresAt: session.expiresAt,
        sites: user.sites === null ? null : [...user.sites],
        proxy: null,
      },
    };
  }

  async function logout(secret: string): Promise<string | undefined> {
    const idHash = sessionIdHash(secret);
    if (idHash === undefined) return undefined;
    const session = await store.sessions.get(idHash);
    await store.sessions.remove(idHash);
    return session?.userId;
  }

  return { login, start, resolve, logout, verifyFor };
}

function invalidSession(): CcError {
  return new CcError('UNAUTHENTICATED', 'the session is not valid; log in again');
}
