// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { AuditEntry, Me, UserView } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { toCsv } from '../format/csv';
import { FleetStore } from '../live/fleet-store';
import { AUDIT_COLUMNS, AuditPage } from './audit-page';
import { InvitePage } from './invite-page';
import { UsersPage } from './users-page';

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '/');
});

const ADMIN: Me = {
  user: { id: 'u-admin', username: 'admin', role: 'admin', sites: null },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'tokens:manage', 'users:manage', 'settings:manage', 'audit:read'],
};

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

function fakeApi(answers: Record<string, unknown>, calls: Call[]): ApiClient {
  const answer = (method: string, path: string, body?: unknown) => {
    calls.push({ method, path, body });
    const key = `${method} ${path.split('?')[0] ?? path}`;
    const value = answers[key];
    if (value instanceof Error) return Promise.reject(value);
    return Promise.resolve(value);
  };
  return {
    get: <T,>(path: string, query?: Record<string, unknown>) =>
      answer('GET', path, query) as Promise<T>,
    post: <T,>(path: string, body?: unknown) => answer('POST', path, body) as Promise<T>,
    patch: <T,>(path: string, body: unknown) => answer('PATCH', path, body) as Promise<T>,
    delete: (path: string) => answer('DELETE', path) as Promise<void>,
  };
}

function context(api: ApiClient, notices: string[] = []): AppContextValue {
  return {
    api,
    me: ADMIN,
    fleet: new FleetStore(),
    connection: { state: 'live', since: 0 },
    can: (p) => ADMIN.permissions.includes(p),
    notify: (text) => notices.push(text),
    logout: () => undefined,
    reconnect: () => undefined,
  };
}

const user = (over: Partial<UserView>): UserView => ({
  id: 'u1',
  username: 'olga',
  role: 'operator',
  sites: ['hall-a'],
  createdAt: '2025-03-01T10:00:00.000Z',
  disabledAt: null,
  lastLoginAt: null,
  lockedUntil: null,
  ...over,
});

describe('users page', () => {
  it('lists users with sites and status, and disables, unlocks and invites', async () => {
    const calls: Call[] = [];
    const locked = new Date(Date.now() + 600_000).toISOString();
    const api = fakeApi(
      {
        'GET /api/v1/sites': { items: [{ id: 'hall-a', name: 'Hall A', devices: 2 }] },
        'GET /api/v1/tokens': { items: [] },
        'GET /api/v1/users': {
          items: [
            user({ id: 'u-admin', username: 'admin', role: 'admin', sites: null }),
            user({ lockedUntil: locked }),
          ],
        },
        'GET /api/v1/invites': { items: [] },
        'PATCH /api/v1/users/u1': user({ disabledAt: '2025-03-01T12:00:00.000Z' }),
        'POST /api/v1/users/u1/unlock': { unlocked: true },
        'POST /api/v1/invites': {
          invite: { id: 'i1' },
          token: 'tok',
          path: '/invite#token=tok',
          url: null,
        },
      },
      calls,
    );
    render(
      <AppContext.Provider value={context(api)}>
        <UsersPage />
      </AppContext.Provider>,
    );
    const row = await waitFor(() => {
      const r = document.querySelector('[data-user="olga"]');
      if (!r) throw new Error('no row yet');
      return r as HTMLElement;
    });
    expect(row.textContent).toContain('hall-a');
    expect(row.querySelector('[data-status]')?.textContent).toMatch(/^Locked until/);
    // No disabling or deleting oneself.
    const own = document.querySelector('[data-user="admin"]') as HTMLElement;
    expect(within(own).queryByRole('button', { name: 'Disable' })).toBeNull();

    fireEvent.click(within(row).getByRole('button', { name: 'Unlock' }));
    fireEvent.click(within(row).getByRole('button', { name: 'Disable' }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === 'PATCH' && c.path === '/api/v1/users/u1')).toBe(true),
    );
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ disabled: true });
    expect(calls.some((c) => c.path === '/api/v1/users/u1/unlock')).toBe(true);

    fireEvent.input(screen.getByLabelText('User name (optional)'), { target: { value: 'otto' } });
    const form = screen.getByRole('form', { name: 'Invite someone' });
    fireEvent.click(within(form).getByRole('radio', { name: /Only these sites/ }));
    fireEvent.submit(form);
    const link = await waitFor(() => screen.getByLabelText(/Invitation link — shown only once/));
    expect((link as HTMLInputElement).value).toBe(`${location.origin}/invite#token=tok`);
    expect(calls.find((c) => c.path === '/api/v1/invites' && c.method === 'POST')?.body).toEqual({
      role: 'operator',
      username: 'otto',
      sites: ['hall-a'],
      expiresInHours: 72,
    });
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByLabelText(/Invitation link/)).toBeNull();
  });
});

describe('invite page', () => {
  it('creates the account with the token, and explains a used invitation', async () => {
    const calls: Call[] = [];
    let done = 0;
    const api = fakeApi(
      { 'POST /api/v1/invites/accept': new ApiError(410, 'INVITE_EXPIRED', 'used already') },
      calls,
    );
    render(<InvitePage api={api} token="tok-1" onDone={() => (done += 1)} />);
    fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'olga' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'a long passphrase' } });
    fireEvent.input(screen.getByLabelText('Repeat the password'), {
      target: { value: 'a long passphrase' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('used already'));
    expect(calls[0]).toMatchObject({
      path: '/api/v1/invites/accept',
      body: { token: 'tok-1', username: 'olga', password: 'a long passphrase' },
    });
    expect(done).toBe(0);
  });

  it('says what to do without a token', () => {
    render(<InvitePage api={fakeApi({}, [])} token={null} onDone={() => undefined} />);
    expect(screen.getByRole('alert').textContent).toContain('invitation link');
    expect(screen.getByRole('button', { name: 'Create account' })).toHaveProperty('disabled', true);
  });
});

describe('audit page', () => {
  const entry: AuditEntry = {
    id: 'a1',
    at: '2025-03-01T12:00:00.000Z',
    actor: 'admin',
    action: 'user.disable',
    target: 'u1',
    outcome: 'ok',
    source: '10.0.0.5',
    details: { username: 'olga', sessionsEnded: 2 },
  };

  it('shows entries, filters through the address bar and exports safe CSV', async () => {
    const calls: Call[] = [];
    const api = fakeApi(
      { 'GET /api/v1/audit': { items: [entry], total: 1, limit: 50, offset: 0 } },
      calls,
    );
    render(
      <AppContext.Provider value={context(api)}>
        <AuditPage />
      </AppContext.Provider>,
    );
    await waitFor(() =>
      expect(document.querySelector('[data-action="user.disable"]')).not.toBeNull(),
    );
    expect(screen.getByText('username: olga · sessionsEnded: 2')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'auth.*' } });
    await waitFor(() => expect(location.search).toBe('?action=auth.*'));
    await waitFor(() =>
      expect(
        calls.some((c) => (c.body as { action?: string } | undefined)?.action === 'auth.*'),
      ).toBe(true),
    );
    const csv = toCsv(AUDIT_COLUMNS, [{ ...entry, actor: '=cmd|calc' }]);
    expect(csv.split('\r\n')[0]).toBe('at,actor,action,target,outcome,source,details');
    expect(csv).toContain("'=cmd|calc");
  });
});
