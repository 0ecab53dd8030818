// Managing accounts: the users list, role and site scope, disabling and deleting (never leaving the
// server without an enabled administrator who sees every site), ending a user's sessions, lifting a
// lockout, and a user's own password change and "log out everywhere". Every change is audited and
// reported to `onAccessChange` listeners (the live stream drops that user's connections).

import { CcError, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Role, Store, User, UserChanges } from '../store/index.js';
import type { AuditTrail } from './audit-trail.js';
import type { LoginLimiter } from './login-limiter.js';
import type { LoginLockout } from './login-lockout.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import { ROLE_PERMISSIONS, roleHasPermission } from './permissions.js';
import { actorName, type Principal } from './principal.js';
import { hashSecret } from './secret-tokens.js';
import type { Sessions } from './sessions.js';
import { checkGrantedSites, scopeWithin } from './site-checks.js';

/** A user as administrators see them: never the password hash. */
export interface UserView {
  id: string;
  username: string;
  role: Role;
  sites: string[] | null;
  createdAt: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
  /** End of a login lockout in force, or null. */
  lockedUntil: string | null;
}

export interface UserUpdate {
  role?: Role | undefined;
  sites?: string[] | null | undefined;
  disabled?: boolean | undefined;
}

/** Where a request came from: the client address and, for a browser, its session secret. */
export interface RequestOrigin {
  source: string | null;
  sessionSecret?: string | undefined;
}

export interface Users {
  list(by: Principal): Promise<UserView[]>;
  update(by: Principal, id: string, changes: UserUpdate, origin: RequestOrigin): Promise<UserView>;
  remove(by: Principal, id: string, origin: RequestOrigin): Promise<void>;
  /** Ends every session of the user; resolves with how many. */
  logoutEverywhere(by: Principal, id: string, origin: RequestOrigin): Promise<number>;
  /** Lifts a login lockout; resolves with whether one was in force. */
  unlock(by: Principal, id: string, origin: RequestOrigin): Promise<boolean>;
  /** The caller's own sessions, all or all but the current one; resolves with how many ended. */
  logoutAll(self: Principal, keepCurrent: boolean, origin: RequestOrigin): Promise<number>;
  /** Checks the current password and the policy; ends the caller's other sessions (how many). */
  changePassword(
    self: Principal,
    currentPassword: string,
    newPassword: string,
    origin: RequestOrigin & { source: string },
  ): Promise<number>;
  onAccessChange(listener: (userId: string) => void): () => void;
}

export interface UsersDeps {
  store: Store;
  logger: Logger;
  audit: AuditTrail;
  sessions: Sessions;
  limiter: LoginLimiter;
  lockout: LoginLockout;
}

function notFound(id: string): CcError {
  return new CcError('USER_NOT_FOUND', `no user with id ${id}`);
}

/** The administrators who can still manage everything: enabled, unscoped admins. */
function isFullAdmin(u: Pick<User, 'role' | 'sites' | 'disabledAt'>): boolean {
  return u.role === 'admin' && u.sites === null && u.disabledAt === null;
}

export function createUsers(deps: UsersDeps): Users {
  const { store, logger, audit, sessions, limiter, lockout } = deps;
  const listeners = new Set<(userId: string) => void>();
  // Serializes changes in this process, so two racing demotions cannot both pass the last-admin check.
  let queue: Promise<unknown> = Promise.resolve();
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const result = queue.then(fn);
    queue = result.catch(() => undefined);
    return result;
  }

  function accessChanged(userId: string): void {
    for (const listener of listeners) {
      try {
        listener(userId);
      } catch (err) {
        logger.warn({ err }, 'an access-change listener failed');
      }
    }
  }

  function view(u: User): UserView {
    const locked = lockout.lockedUntil(u.username);
    return {
      id: u.id,
      username: u.username,
      role: u.role,
      sites: u.sites,
      createdAt: u.createdAt,
      disabledAt: u.disabledAt,
      lastLoginAt: u.lastLoginAt,
      lockedUntil: locked === null ? null : toIso(locked),
    };
  }

  /** The user `by` may manage: users outside a scoped manager's sites are as good as absent. */
  async function manageable(by: Principal, id: string): Promise<User> {
    const user = await store.users.get(id);
    if (!user || !scopeWithin(user.sites, by.sites)) throw notFound(id);
    return user;
  }

  async function assertAdminRemains(target: User, next: User | null): Promise<void> {
    if (!isFullAdmin(target) || (next !== null && isFullAdmin(next))) return;
    const others = (await store.users.list()).filter((u) => u.id !== target.id && isFullAdmin(u));
    if (others.length === 0) {
      throw new CcError(
        'LAST_ADMIN',
        `${target.username} is the last enabled administrator with access to every site; make another one first`,
      );
    }
  }

  async function record(
    by: Principal,
    action: string,
    target: string,
    origin: RequestOrigin,
    details: Record<string, unknown>,
  ): Promise<void> {
    await audit.record({
      actor: actorName(by),
      action,
      target,
      outcome: 'ok',
      source: origin.source,
      details,
    });
  }

  return {
    async list(by) {
      const users = await store.users.list();
      return users.filter((u) => u.id === by.userId || scopeWithin(u.sites, by.sites)).map(view);
    },

    update: (by, id, changes, origin) =>
      serialized(async () => {
        const user = await manageable(by, id);
        const next: UserChanges = {};
        if (changes.role !== undefined && changes.role !== user.role) {
          if (!ROLE_PERMISSIONS[changes.role].every((p) => roleHasPermission(by.role, p))) {
            throw new CcError('FORBIDDEN', `you cannot give the role ${changes.role}`);
          }
          next.role = changes.role;
        }
        if (changes.sites !== undefined) {
          next.sites = await checkGrantedSites(store, by, changes.sites);
        }
        if (changes.disabled !== undefined && changes.disabled !== (user.disabledAt !== null)) {
          if (changes.disabled && id === by.userId) {
            throw new CcError('CONFLICT', 'you cannot disable your own account');
          }
          next.disabledAt = changes.disabled ? toIso(Date.now()) : null;
        }
        const after: User = { ...user, ...next };
        await assertAdminRemains(user, after);
        const updated = (await store.users.update(id, next)) ?? after;
        let sessionsEnded = 0;
        if (next.disabledAt != null) sessionsEnded = await store.sessions.removeForUser(id);
        const action =
          next.disabledAt === undefined
            ? 'user.update'
            : next.disabledAt === null
              ? 'user.enable'
              : 'user.disable';
        await record(by, action, id, origin, {
          username: user.username,
          ...(next.role !== undefined ? { role: next.role, previousRole: user.role } : {}),
          ...(next.sites !== undefined ? { sites: next.sites, previousSites: user.sites } : {}),
          ...(next.disabledAt != null ? { sessionsEnded } : {}),
        });
        if (Object.keys(next).length > 0) accessChanged(id);
        return view(updated);
      }),

    remove: (by, id, origin) =>
      serialized(async () => {
        const user = await manageable(by, id);
        if (id === by.userId) throw new CcError('CONFLICT', 'you cannot delete your own account');
        await assertAdminRemains(user, null);
        await store.users.remove(id);
        lockout.recordSuccess(user.username);
        await record(by, 'user.delete', id, origin, { username: user.username, role: user.role });
        accessChanged(id);
      }),

    async logoutEverywhere(by, id, origin) {
      const user = await manageable(by, id);
      const ended = await store.sessions.removeForUser(id);
      await record(by, 'user.logout-everywhere', id, origin, {
        username: user.username,
        sessionsEnded: ended,
      });
      accessChanged(id);
      return ended;
    },

    async unlock(by, id, origin) {
      const user = await manageable(by, id);
      const wasLocked = lockout.unlock(user.username);
      limiter.recordSuccess(user.username);
      await record(by, 'user.unlock', id, origin, { username: user.username, wasLocked });
      return wasLocked;
    },

    async logoutAll(self, keepCurrent, origin) {
      const keep =
        keepCurrent && self.via === 'session' && origin.sessionSecret !== undefined
          ? hashSecret(origin.sessionSecret)
          : undefined;
      const ended = await store.sessions.removeForUser(self.userId, keep);
      await record(self, 'auth.logout-all', self.userId, origin, {
        sessionsEnded: ended,
        keptCurrent: keep !== undefined,
      });
      accessChanged(self.userId);
      return ended;
    },

    async changePassword(self, currentPassword, newPassword, origin) {
      if (self.via !== 'session') {
        throw new CcError('FORBIDDEN', 'change your password from a logged-in session');
      }
      const user = await store.users.get(self.userId);
      if (!user) throw new CcError('UNAUTHENTICATED', 'log in again');
      await sessions.verifyFor(user, currentPassword, origin.source);
      checkPasswordPolicy(newPassword, user.username);
      if (newPassword === currentPassword) {
        throw new CcError(
          'VALIDATION_FAILED',
          'the new password must differ from the current one',
          {
            field: 'newPassword',
          },
        );
      }
      await store.users.update(user.id, { passwordHash: await hashPassword(newPassword) });
      const keep =
        origin.sessionSecret === undefined ? undefined : hashSecret(origin.sessionSecret);
      const ended = await store.sessions.removeForUser(user.id, keep);
      await record(self, 'auth.password.change', user.id, origin, { sessionsEnded: ended });
      logger.info({ username: user.username }, 'password changed');
      accessChanged(user.id);
      return ended;
    },

    onAccessChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
