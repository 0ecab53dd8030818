// Browser sessions: login checks the password (same answer and similar time for an unknown user and
// a wrong password), issues a random secret for the cookie and stores only its hash; sessions end
// at an absolute expiry and after an idle period.

import { CcError, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import type { LoginLimiter } from './login-limiter.js';
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
  resolve(secret: string): Promise<Resolution>;
  logout(secret: string): Promise<void>;
}

/** lastSeenAt is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function createSessions(
  deps: { store: Store; logger: Logger; limiter: LoginLimiter },
  config: SessionConfig,
): Sessions {
  const { store, logger, limiter } = deps;
  // Verified against when the user does not exist, so both failures cost one scrypt.
  let dummyHash: Promise<string> | undefined;
  const invalid = (): CcError => new CcError('INVALID_CREDENTIALS', 'wrong user name or password');

  async function login(username: string, password: string, address: string): Promise<LoginResult> {
    limiter.check(address, username);
    const user =
      username.length <= 64 && password.length <= PASSWORD_MAX_LENGTH
        ? await store.users.byUsername(username)
        : undefined;
    dummyHash ??= hashPassword('not a password of anyone');
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
    if (!user || !ok || user.disabledAt !== null) {
      limiter.recordFailure(address, username);
      logger.info({ address }, 'failed login');
      throw invalid();
    }
    limiter.recordSuccess(username);
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
    logger.info({ username: user.username, address }, 'login');
    return { secret, user: summarizeUser(user), expiresAt };
  }

  async function resolve(secret: string): Promise<Resolution> {
    const expired = (): Resolution => ({
      failure: new CcError('SESSION_EXPIRED', 'the session has expired; log in again'),
    });
    if (secret.length === 0 || secret.length > 128) return { failure: invalidSession() };
    const idHash = hashSecret(secret);
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
    if (now - lastSeen >= TOUCH_INTERVAL_MS) await store.sessions.touch(idHash, toIso(now));
    return {
      principal: {
        userId: user.id,
        username: user.username,
        role: user.role,
        via: 'session',
        tokenId: null,
        expiresAt: session.expiresAt,
        sites: null,
        proxy: null,
      },
    };
  }

  async function logout(secret: string): Promise<void> {
    if (secret.length === 0 || secret.length > 128) return;
    await store.sessions.remove(hashSecret(secret));
  }

  return { login, resolve, logout };
}

function invalidSession(): CcError {
  return new CcError('UNAUTHENTICATED', 'the session is not valid; log in again');
}
