// Invitations: an administrator invites someone with a role and a site scope (and optionally a
// fixed user name); the invitee gets a one-time link `https://<host>/invite#token=…` (shown once;
// only the token's hash is kept, as for the setup link), chooses a password and is logged in.
// An invitation is used once, expires (72 h by default) and can be withdrawn while pending.

import { randomBytes, randomUUID } from 'node:crypto';
import { CcError, nowIso, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Invite, Role, Store, User } from '../store/index.js';
import type { AuditTrail } from './audit-trail.js';
import { checkPasswordPolicy, checkUsername, hashPassword } from './passwords.js';
import { ROLE_PERMISSIONS, roleHasPermission } from './permissions.js';
import { actorName, type Principal } from './principal.js';
import { hashSecret, randomSecret } from './secret-tokens.js';
import { checkGrantedSites, scopeWithin } from './site-checks.js';

export const DEFAULT_INVITE_HOURS = 72;
export const MAX_INVITE_HOURS = 30 * 24;

/** An invitation as listed: never its token or the token's hash. */
export interface InviteView {
  id: string;
  username: string | null;
  role: Role;
  sites: string[] | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
}

export interface CreatedInvite {
  invite: InviteView;
  /** The one-time token; shown in this answer only. */
  token: string;
  /** `/invite#token=…`: the dashboard page that accepts it (prefix the server's origin). */
  path: string;
}

export interface InviteRequest {
  username?: string | undefined;
  role: Role;
  sites?: string[] | null | undefined;
  expiresInHours?: number | undefined;
}

export interface AcceptRequest {
  token: string;
  username: string;
  password: string;
}

export interface Invites {
  create(by: Principal, request: InviteRequest, source: string | null): Promise<CreatedInvite>;
  /** Pending invitations `by` may see (within their scope), newest first. */
  pending(by: Principal): Promise<InviteView[]>;
  revoke(by: Principal, id: string, source: string | null): Promise<void>;
  /** Creates the account (INVITE_INVALID, INVITE_EXPIRED, CONFLICT, VALIDATION_FAILED). */
  accept(request: AcceptRequest, source: string): Promise<User>;
}

function viewOf(i: Invite, createdByName: string): InviteView {
  return {
    id: i.id,
    username: i.username,
    role: i.role,
    sites: i.sites,
    createdBy: createdByName,
    createdAt: i.createdAt,
    expiresAt: i.expiresAt,
  };
}

export function createInvites(deps: { store: Store; logger: Logger; audit: AuditTrail }): Invites {
  const { store, logger, audit } = deps;

  async function nameOf(userId: string): Promise<string> {
    return (await store.users.get(userId))?.username ?? userId;
  }

  return {
    async create(by, request, source) {
      if (!ROLE_PERMISSIONS[request.role].every((p) => roleHasPermission(by.role, p))) {
        throw new CcError('FORBIDDEN', `you cannot give the role ${request.role}`);
      }
      const username = request.username ?? null;
      if (username !== null) {
        checkUsername(username);
        if (await store.users.byUsername(username)) {
          throw new CcError('CONFLICT', `a user named ${username} exists already`);
        }
      }
      const sites = await checkGrantedSites(store, by, request.sites ?? null);
      const hours = request.expiresInHours ?? DEFAULT_INVITE_HOURS;
      const token = randomSecret();
      const now = Date.now();
      const invite: Invite = {
        id: randomBytes(8).toString('hex'),
        tokenHash: hashSecret(token),
        username,
        role: request.role,
        sites,
        createdBy: by.userId,
        createdAt: toIso(now),
        expiresAt: toIso(now + hours * 3_600_000),
        acceptedAt: null,
        acceptedBy: null,
      };
      await store.invites.create(invite);
      await audit.record({
        actor: actorName(by),
        action: 'user.invite',
        target: invite.id,
        outcome: 'ok',
        source,
        details: { username, role: invite.role, sites, expiresAt: invite.expiresAt },
      });
      logger.info({ inviteId: invite.id, by: by.username }, 'invitation created');
      return {
        invite: viewOf(invite, by.username),
        token,
        path: `/invite#token=${token}`,
      };
    },

    async pending(by) {
      const invites = await store.invites.pending(nowIso());
      const names = new Map<string, string>();
      const views: InviteView[] = [];
      for (const i of invites.filter((i) => scopeWithin(i.sites, by.sites))) {
        let name = names.get(i.createdBy);
        if (name === undefined) {
          name = await nameOf(i.createdBy);
          names.set(i.createdBy, name);
        }
        views.push(viewOf(i, name));
      }
      return views;
    },

    async revoke(by, id, source) {
      const invite = await store.invites.get(id);
      if (!invite || invite.acceptedAt !== null || !scopeWithin(invite.sites, by.sites)) {
        throw new CcError('INVITE_NOT_FOUND', `no pending invitation with id ${id}`);
      }
      await store.invites.remove(id);
      await audit.record({
        actor: actorName(by),
        action: 'user.invite.revoke',
        target: id,
        outcome: 'ok',
        source,
        details: { username: invite.username, role: invite.role },
      });
    },

    async accept(request, source) {
      const invite =
        request.token.length <= 128
          ? await store.invites.byTokenHash(hashSecret(request.token))
          : undefined;
      if (!invite) {
        throw new CcError(
          'INVITE_INVALID',
          'this invitation link is not valid; ask your administrator for a new one',
        );
      }
      const refuse = async (reason: string, message: string): Promise<never> => {
        await audit.record({
          actor: request.username.slice(0, 64),
          action: 'user.invite.accept',
          target: invite.id,
          outcome: 'refused',
          source,
          details: { reason },
        });
        throw new CcError('INVITE_EXPIRED', message);
      };
      if (invite.acceptedAt !== null) {
        return refuse('used', 'this invitation has been used already; log in instead');
      }
      if ((parseIso(invite.expiresAt) ?? 0) <= Date.now()) {
        return refuse(
          'expired',
          'this invitation has expired; ask your administrator for a new one',
        );
      }
      if (invite.username !== null && invite.username !== request.username) {
        throw new CcError(
          'VALIDATION_FAILED',
          `this invitation is for the user name ${invite.username}`,
          {
            field: 'username',
          },
        );
      }
      checkUsername(request.username);
      checkPasswordPolicy(request.password, request.username);
      if (await store.users.byUsername(request.username)) {
        throw new CcError('CONFLICT', `the user name ${request.username} is taken; choose another`);
      }
      const user: User = {
        id: randomUUID(),
        username: request.username,
        role: invite.role,
        passwordHash: await hashPassword(request.password),
        createdAt: nowIso(),
        disabledAt: null,
        sites: invite.sites,
        lastLoginAt: null,
      };
      // Consumed first: of two racing accepts only one gets past this line.
      if (!(await store.invites.consume(invite.id, nowIso(), user.id))) {
        return refuse('used', 'this invitation has been used already; log in instead');
      }
      try {
        await store.users.create(user);
      } catch (err) {
        await store.invites.release(invite.id);
        throw err;
      }
      await audit.record({
        actor: user.username,
        action: 'user.invite.accept',
        target: user.id,
        outcome: 'ok',
        source,
        details: {
          inviteId: invite.id,
          role: user.role,
          sites: user.sites,
          invitedBy: await nameOf(invite.createdBy),
        },
      });
      logger.info({ username: user.username, inviteId: invite.id }, 'invitation accepted');
      return user;
    },
  };
}
