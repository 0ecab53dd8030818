// First start without a default password: a one-time setup token (only its hash stored, valid 24 h,
// renewed on each start while no user exists) lets exactly one person create the first admin.

import { randomUUID } from 'node:crypto';
import { CcError, nowIso, parseIso, toIso } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { Store, User } from '../store/index.js';
import type { AuditTrail } from './audit-trail.js';
import { checkPasswordPolicy, checkUsername, hashPassword } from './passwords.js';
import { constantTimeEqual, hashSecret, randomSecret } from './secret-tokens.js';
import { ensureOrganization } from './sites.js';

export const SETUP_TOKEN_HASH_KEY = 'setup.tokenHash';
export const SETUP_TOKEN_EXPIRES_KEY = 'setup.expiresAt';
export const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface SetupRequest {
  token: string;
  username: string;
  password: string;
}

export interface Setup {
  /** A new one-time token when no user exists (print it as a link), else null. */
  prepare(): Promise<string | null>;
  /** True while no user exists. */
  required(): Promise<boolean>;
  /** Creates the first admin; SETUP_ALREADY_DONE once a user exists, SETUP_TOKEN_INVALID on a bad token. */
  complete(request: SetupRequest, source?: string | null): Promise<User>;
}

export function createSetup(deps: { store: Store; logger: Logger; audit: AuditTrail }): Setup {
  const { store, logger, audit } = deps;
  // Serializes completions in this process so two racing requests cannot both create an admin.
  let queue: Promise<unknown> = Promise.resolve();

  async function required(): Promise<boolean> {
    return (await store.users.count()) === 0;
  }

  async function prepare(): Promise<string | null> {
    if (!(await required())) {
      await store.settings.remove(SETUP_TOKEN_HASH_KEY);
      await store.settings.remove(SETUP_TOKEN_EXPIRES_KEY);
      return null;
    }
    const token = randomSecret();
    await store.settings.set(SETUP_TOKEN_HASH_KEY, hashSecret(token));
    await store.settings.set(SETUP_TOKEN_EXPIRES_KEY, toIso(Date.now() + SETUP_TOKEN_TTL_MS));
    logger.info('no user exists yet: a one-time setup link was issued');
    return token;
  }

  async function completeNow(request: SetupRequest, source: string | null): Promise<User> {
    if (!(await required())) {
      throw new CcError('SETUP_ALREADY_DONE', 'setup is already done; log in instead');
    }
    const storedHash = await store.settings.get(SETUP_TOKEN_HASH_KEY);
    const expiresAt = parseIso((await store.settings.get(SETUP_TOKEN_EXPIRES_KEY)) ?? '');
    const matches =
      storedHash !== undefined && constantTimeEqual(hashSecret(request.token), storedHash);
    if (!matches || expiresAt === null || expiresAt <= Date.now()) {
      logger.warn('setup refused: invalid or expired setup token');
      throw new CcError(
        'SETUP_TOKEN_INVALID',
        'the setup token is invalid or expired; restart the server for a new setup link',
      );
    }
    checkUsername(request.username);
    checkPasswordPolicy(request.password, request.username);
    const user: User = {
      id: randomUUID(),
      username: request.username,
      role: 'admin',
      passwordHash: await hashPassword(request.password),
      createdAt: nowIso(),
      disabledAt: null,
      sites: null,
      lastLoginAt: null,
    };
    await store.users.create(user);
    await store.settings.remove(SETUP_TOKEN_HASH_KEY);
    await store.settings.remove(SETUP_TOKEN_EXPIRES_KEY);
    const organization = await ensureOrganization(store);
    await audit.record({
      actor: user.username,
      action: 'setup.complete',
      target: user.id,
      outcome: 'ok',
      source,
      details: { role: user.role, organization: organization.name },
    });
    logger.info({ username: user.username }, 'first administrator created');
    return user;
  }

  function complete(request: SetupRequest, source: string | null = null): Promise<User> {
    const result = queue.then(() => completeNow(request, source));
    queue = result.catch(() => undefined);
    return result;
  }

  return { prepare, required, complete };
}
