// Users: who you are, your password, "log out everywhere" and your own API tokens (created with a
// role, sites and expiry, shown once); for administrators also every user (role, sites, last login,
// locked or disabled) with their actions, invitations (a one-time link shown once) and pending ones.

import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteVia, patchVia } from '../api/api-client';
import {
  ROLES,
  type CreatedInvite,
  type InviteView,
  type Role,
  type Site,
  type TokenSummary,
  type UserView,
} from '../api/types';
import { useApp, useTitle } from '../app-context';
import { formatDateTime } from '../format/time-format';
import { passwordProblem } from './setup-page';

const ROLE_LABEL: Record<Role, string> = {
  admin: 'Admin — everything',
  operator: 'Operator — watch, act on jobs, acknowledge alerts',
  dashboard: 'Dashboard — read-only wall display',
  user: 'User — read-only, own jobs',
};

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sitesLabel(sites: string[] | null): string {
  return sites === null ? 'All sites' : sites.join(', ');
}

/** A secret shown once (invitation link, API token), selectable and copyable. */
export function SecretOnce({
  id,
  label,
  value,
  note,
  onDone,
}: {
  id: string;
  label: string;
  value: string;
  note: string;
  onDone: () => void;
}) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      field.current?.select();
    }
  }
  return (
    <div class="token-once callout info" data-secret-once={id}>
      <label for={id}>{label}</label>
      <div class="token-row">
        <input
          id={id}
          ref={field}
          type="text"
          readOnly
          value={value}
          spellcheck={false}
          autoComplete="off"
          aria-describedby={`${id}-note`}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p id={`${id}-note`} class="small">
        {note}
      </p>
      <button type="button" class="button secondary" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** All sites, or some of them (a scoped user can only give out their own). */
export function SitesChooser({
  idPrefix,
  sites,
  value,
  onChange,
  allowAll,
}: {
  idPrefix: string;
  sites: Site[];
  value: string[] | null;
  onChange: (value: string[] | null) => void;
  allowAll: boolean;
}) {
  const chosen = value ?? [];
  return (
    <fieldset class="sites-chooser">
      <legend>Sites</legend>
      <label>
        <input
          type="radio"
          name={`${idPrefix}-scope`}
          checked={value === null}
          disabled={!allowAll}
          onChange={() => onChange(null)}
        />{' '}
        All sites
      </label>
      <label>
        <input
          type="radio"
          name={`${idPrefix}-scope`}
          checked={value !== null}
          onChange={() => onChange(chosen.length > 0 ? chosen : sites.slice(0, 1).map((s) => s.id))}
        />{' '}
        Only these sites:
      </label>
      {sites.length === 0 ? <p class="muted small">No sites yet (Settings → Sites).</p> : null}
      {sites.map((s) => (
        <label key={s.id} class="small">
          <input
            type="checkbox"
            value={s.id}
            disabled={value === null}
            checked={chosen.includes(s.id)}
            onChange={(e) =>
              onChange(
                e.currentTarget.checked ? [...chosen, s.id] : chosen.filter((id) => id !== s.id),
              )
            }
          />{' '}
          {s.name} ({s.id})
        </label>
      ))}
    </fieldset>
  );
}

function Panel({
  id,
  title,
  children,
}: {
  id: string;
  title: string;
  children: ComponentChildren;
}) {
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function UsersPage() {
  useTitle('Users');
  const { api, can } = useApp();
  const [sites, setSites] = useState<Site[]>([]);
  useEffect(() => {
    api.get<{ items: Site[] }>('/api/v1/sites').then(
      (r) => setSites(r.items),
      () => undefined,
    );
  }, [api]);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Users</h1>
      </div>
      <YouPanel />
      {can('tokens:manage') ? <TokensPanel sites={sites} /> : null}
      {can('users:manage') ? <UserAdmin sites={sites} /> : null}
    </section>
  );
}

function YouPanel() {
  const { api, me, notify, logout } = useApp();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function changePassword(event: Event): Promise<void> {
    event.preventDefault();
    const problem = passwordProblem(me.user.username, next, confirm);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ sessionsEnded: number }>('/api/v1/auth/password', {
        currentPassword: current,
        newPassword: next,
      });
      setCurrent('');
      setNext('');
      setConfirm('');
      notify(`Password changed; ${r.sessionsEnded} other session(s) ended.`, 'success');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  async function logoutAll(keepCurrent: boolean): Promise<void> {
    try {
      const r = await api.post<{ sessionsEnded: number }>('/api/v1/auth/logout-all', {
        keepCurrent,
      });
      if (keepCurrent) notify(`${r.sessionsEnded} other session(s) ended.`, 'success');
      else logout();
    } catch (err) {
      notify(`Could not end the sessions: ${messageOf(err)}`, 'error');
    }
  }

  return (
    <Panel id="users-me" title="You">
      <dl class="status-list">
        <dt>User name</dt>
        <dd>{me.user.username}</dd>
        <dt>Role</dt>
        <dd>{me.user.role}</dd>
        <dt>Sites</dt>
        <dd>{sitesLabel(me.user.sites ?? null)}</dd>
        <dt>Signed in with</dt>
        <dd>{me.via === 'session' ? 'password (browser session)' : 'API token'}</dd>
        <dt>Session ends</dt>
        <dd>{formatDateTime(me.expiresAt)}</dd>
      </dl>
      {me.via === 'session' ? (
        <>
          <form
            class="filters"
            aria-label="Change your password"
            onSubmit={(e) => void changePassword(e)}
          >
            <div class="field">
              <label for="pw-current">Current password</label>
              <input
                id="pw-current"
                type="password"
                autocomplete="current-password"
                required
                value={current}
                onInput={(e) => setCurrent(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="pw-new">New password</label>
              <input
                id="pw-new"
                type="password"
                autocomplete="new-password"
                required
                minLength={12}
                value={next}
                onInput={(e) => setNext(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="pw-confirm">Repeat the new password</label>
              <input
                id="pw-confirm"
                type="password"
                autocomplete="new-password"
                required
                value={confirm}
                onInput={(e) => setConfirm(e.currentTarget.value)}
              />
            </div>
            <button type="submit" class="button" disabled={busy}>
              Change password
            </button>
          </form>
          {error ? (
            <p class="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <div class="actions" role="group" aria-label="Your sessions">
            <button type="button" class="button" onClick={() => void logoutAll(true)}>
              Log out my other sessions
            </button>
            <button type="button" class="button danger" onClick={() => void logoutAll(false)}>
              Log out everywhere
            </button>
          </div>
        </>
      ) : null}
    </Panel>
  );
}

function TokensPanel({ sites }: { sites: Site[] }) {
  const { api, me, notify } = useApp();
  const [tokens, setTokens] = useState<TokenSummary[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(me.user.role);
  const [scope, setScope] = useState<string[] | null>(me.user.sites ?? null);
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const reload = useCallback(() => {
    api.get<{ items: TokenSummary[] }>('/api/v1/tokens').then(
      (r) => setTokens(r.items),
      (err: unknown) => notify(`Tokens could not be loaded: ${messageOf(err)}`, 'error'),
    );
  }, [api, notify]);
  useEffect(reload, [reload]);

  async function create(event: Event): Promise<void> {
    event.preventDefault();
    try {
      const body = {
        name,
        role,
        ...(scope === null ? {} : { sites: scope }),
        ...(days === '' ? {} : { expiresInDays: Number(days) }),
      };
      const r = await api.post<{ token: string; name: string }>('/api/v1/tokens', body);
      setCreated({ name: r.name, token: r.token });
      setName('');
      reload();
    } catch (err) {
      notify(`The token could not be created: ${messageOf(err)}`, 'error');
    }
  }

  async function revoke(t: TokenSummary): Promise<void> {
    try {
      await deleteVia(api, `/api/v1/tokens/${encodeURIComponent(t.id)}`);
      notify(`Token ${t.name} revoked.`, 'success');
      reload();
    } catch (err) {
      notify(`The token could not be revoked: ${messageOf(err)}`, 'error');
    }
  }

  const active = (tokens ?? []).filter((t) => t.revokedAt === null);
  return (
    <Panel id="users-tokens" title="Your API tokens">
      {created ? (
        <SecretOnce
          id="new-token"
          label={`API token ${created.name} — shown only once`}
          value={created.token}
          note="Send it as Authorization: Bearer <token>. Only its hash is stored: copy it now."
          onDone={() => setCreated(null)}
        />
      ) : null}
      {tokens === null ? (
        <p class="muted">Loading…</p>
      ) : active.length === 0 ? (
        <p class="muted">No API tokens.</p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label="Your API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Sites</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {active.map((t) => (
                <tr key={t.id} data-token-id={t.id}>
                  <td>{t.name}</td>
                  <td>{t.role}</td>
                  <td>{sitesLabel(t.scope.sites)}</td>
                  <td>{t.expiresAt ? formatDateTime(t.expiresAt) : 'never'}</td>
                  <td>{formatDateTime(t.lastUsedAt)}</td>
                  <td>
                    <button type="button" onClick={() => void revoke(t)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {me.via === 'session' ? (
        <form class="filters" aria-label="Create an API token" onSubmit={(e) => void create(e)}>
          <div class="field">
            <label for="token-name">Token name</label>
            <input
              id="token-name"
              required
              maxLength={100}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="token-role">Token role</label>
            <select
              id="token-role"
              value={role}
              onChange={(e) => setRole(e.currentTarget.value as Role)}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="token-days">Expires in (days, empty: never)</label>
            <input
              id="token-days"
              type="number"
              min={1}
              max={3650}
              value={days}
              onInput={(e) => setDays(e.currentTarget.value)}
            />
          </div>
          <SitesChooser
            idPrefix="token"
            sites={sites}
            value={scope}
            onChange={setScope}
            allowAll={(me.user.sites ?? null) === null}
          />
          <button type="submit" class="button primary">
            Create token
          </button>
        </form>
      ) : null}
    </Panel>
  );
}

function statusOf(u: UserView, now: number): string {
  if (u.disabledAt !== null) return 'Disabled';
  if (u.lockedUntil !== null && Date.parse(u.lockedUntil) > now) {
    return `Locked until ${formatDateTime(u.lockedUntil)}`;
  }
  return 'Active';
}

function UserAdmin({ sites }: { sites: Site[] }) {
  const { api, me, notify } = useApp();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [invites, setInvites] = useState<InviteView[]>([]);
  const [editing, setEditing] = useState<string | null>(null);
  const [editSites, setEditSites] = useState<string[] | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const reload = useCallback(() => {
    api.get<{ items: UserView[] }>('/api/v1/users').then(
      (r) => setUsers(r.items),
      (err: unknown) => notify(`Users could not be loaded: ${messageOf(err)}`, 'error'),
    );
    api.get<{ items: InviteView[] }>('/api/v1/invites').then(
      (r) => setInvites(r.items),
      () => undefined,
    );
  }, [api, notify]);
  useEffect(reload, [reload]);

  async function act(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      notify(what, 'success');
    } catch (err) {
      const text =
        err instanceof ApiError && err.code === 'LAST_ADMIN' ? err.message : messageOf(err);
      notify(`Not done: ${text}`, 'error');
    } finally {
      reload();
    }
  }

  const path = (u: UserView, suffix = '') => `/api/v1/users/${encodeURIComponent(u.id)}${suffix}`;
  const update = (u: UserView, body: Record<string, unknown>, what: string) =>
    act(what, () => patchVia(api, path(u), body));
  const now = Date.now();

  return (
    <>
      <Panel id="users-all" title="All users">
        {users === null ? (
          <p class="muted">Loading…</p>
        ) : (
          <div class="table-wrap">
            <table class="table" aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Sites</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last login</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.id} data-user={u.username}>
                    <td>{u.username}</td>
                    <td>
                      <select
                        aria-label={`Role of ${u.username}`}
                        value={u.role}
                        onChange={(e) =>
                          void update(
                            u,
                            { role: e.currentTarget.value },
                            `${u.username}: role changed`,
                          )
                        }
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      {editing === u.id ? (
                        <form
                          aria-label={`Sites of ${u.username}`}
                          onSubmit={(e) => {
                            e.preventDefault();
                            setEditing(null);
                            void update(u, { sites: editSites }, `${u.username}: sites changed`);
                          }}
                        >
                          <SitesChooser
                            idPrefix={`user-${u.id}`}
                            sites={sites}
                            value={editSites}
                            onChange={setEditSites}
                            allowAll={(me.user.sites ?? null) === null}
                          />
                          <button type="submit" class="button">
                            Save sites
                          </button>
                        </form>
                      ) : (
                        <>
                          {sitesLabel(u.sites)}{' '}
                          <button
                            type="button"
                            aria-label={`Change sites of ${u.username}`}
                            onClick={() => {
                              setEditing(u.id);
                              setEditSites(u.sites);
                            }}
                          >
                            Change
                          </button>
                        </>
                      )}
                    </td>
                    <td data-status>{statusOf(u, now)}</td>
                    <td>{formatDateTime(u.lastLoginAt)}</td>
                    <td>
                      <div class="actions" role="group" aria-label={`Actions for ${u.username}`}>
                        {u.lockedUntil !== null ? (
                          <button
                            type="button"
                            onClick={() =>
                              void act(`${u.username} unlocked`, () => api.post(path(u, '/unlock')))
                            }
                          >
                            Unlock
                          </button>
                        ) : null}
                        <button
                          type="button"
                          onClick={() =>
                            void act(`${u.username}: every session ended`, () =>
                              api.post(path(u, '/logout-everywhere')),
                            )
                          }
                        >
                          Log out everywhere
                        </button>
                        {u.id === me.user.id ? null : (
                          <>
                            <button
                              type="button"
                              onClick={() =>
                                void update(
                                  u,
                                  { disabled: u.disabledAt === null },
                                  `${u.username} ${u.disabledAt === null ? 'disabled' : 'enabled'}`,
                                )
                              }
                            >
                              {u.disabledAt === null ? 'Disable' : 'Enable'}
                            </button>
                            {confirmDelete === u.id ? (
                              <button
                                type="button"
                                class="button danger"
                                onClick={() => {
                                  setConfirmDelete(null);
                                  void act(`${u.username} deleted`, () => deleteVia(api, path(u)));
                                }}
                              >
                                Yes, delete {u.username}
                              </button>
                            ) : (
                              <button type="button" onClick={() => setConfirmDelete(u.id)}>
                                Delete…
                              </button>
                            )}
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <InvitePanel sites={sites} invites={invites} onChange={reload} />
    </>
  );
}

function InvitePanel({
  sites,
  invites,
  onChange,
}: {
  sites: Site[];
  invites: InviteView[];
  onChange: () => void;
}) {
  const { api, me, notify } = useApp();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [scope, setScope] = useState<string[] | null>(me.user.sites ?? null);
  const [hours, setHours] = useState('72');
  const [link, setLink] = useState<string | null>(null);

  async function invite(event: Event): Promise<void> {
    event.preventDefault();
    try {
      const created = await api.post<CreatedInvite>('/api/v1/invites', {
        role,
        ...(username.trim() === '' ? {} : { username: username.trim() }),
        ...(scope === null ? {} : { sites: scope }),
        expiresInHours: Number(hours),
      });
      setLink(`${window.location.origin}${created.path}`);
      setUsername('');
      onChange();
    } catch (err) {
      notify(`The invitation could not be created: ${messageOf(err)}`, 'error');
    }
  }

  async function withdraw(i: InviteView): Promise<void> {
    try {
      await deleteVia(api, `/api/v1/invites/${encodeURIComponent(i.id)}`);
      notify('Invitation withdrawn.', 'success');
    } catch (err) {
      notify(`Not withdrawn: ${messageOf(err)}`, 'error');
    } finally {
      onChange();
    }
  }

  return (
    <Panel id="users-invite" title="Invite someone">
      {link ? (
        <SecretOnce
          id="invite-link"
          label="Invitation link — shown only once"
          value={link}
          note="Send it to the person you invite; it works once, until it expires. Only its hash is stored."
          onDone={() => setLink(null)}
        />
      ) : null}
      <form class="filters" aria-label="Invite someone" onSubmit={(e) => void invite(e)}>
        <div class="field">
          <label for="invite-username">User name (optional)</label>
          <input
            id="invite-username"
            maxLength={64}
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="invite-role">Role</label>
          <select
            id="invite-role"
            value={role}
            onChange={(e) => setRole(e.currentTarget.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="invite-hours">Valid for (hours)</label>
          <input
            id="invite-hours"
            type="number"
            min={1}
            max={720}
            required
            value={hours}
            onInput={(e) => setHours(e.currentTarget.value)}
          />
        </div>
        <SitesChooser
          idPrefix="invite"
          sites={sites}
          value={scope}
          onChange={setScope}
          allowAll={(me.user.sites ?? null) === null}
        />
        <button type="submit" class="button primary">
          Create invitation
        </button>
      </form>
      <h3>Pending invitations</h3>
      {invites.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label="Pending invitations">
            <thead>
              <tr>
                <th scope="col">User name</th>
                <th scope="col">Role</th>
                <th scope="col">Sites</th>
                <th scope="col">By</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {invites.map((i) => (
                <tr key={i.id}>
                  <td>{i.username ?? <span class="muted">(their choice)</span>}</td>
                  <td>{i.role}</td>
                  <td>{sitesLabel(i.sites)}</td>
                  <td>{i.createdBy}</td>
                  <td>{formatDateTime(i.expiresAt)}</td>
                  <td>
                    <button type="button" onClick={() => void withdraw(i)}>
                      Withdraw
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
