// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { Me } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { alert, device, job } from '../test-fixtures';
import { FleetPage } from './fleet-page';
import { LoginPage } from './login-page';
import { passwordProblem, tokenFromHash } from './setup-page';

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '/');
});

const ME: Me = {
  user: { id: 'u1', username: 'olga', role: 'operator' },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'jobs:act', 'alerts:read', 'alerts:ack'],
};

function context(fleet: FleetStore, api: Partial<ApiClient> = {}): AppContextValue {
  return {
    api: {
      get: () => Promise.reject(new Error('no')),
      post: () => Promise.reject(new Error('no')),
      ...api,
    },
    me: ME,
    fleet,
    connection: { state: 'live', since: 0 },
    can: (p) => ME.permissions.includes(p),
    notify: () => undefined,
    logout: () => undefined,
    reconnect: () => undefined,
  };
}

describe('fleet page', () => {
  it('counts devices per state, filters by a count, and follows the stream', async () => {
    const fleet = new FleetStore((fn) => setTimeout(fn, 0));
    fleet.apply({
      type: 'snapshot',
      devices: [
        device('p1', { name: 'Printer 1', state: 'printing', currentJob: job('j1') }),
        device('p2', {
          name: 'Printer 2',
          state: 'error',
          openAlerts: [alert('a1', { deviceId: 'p2' })],
        }),
        device('p3', { name: 'Printer 3' }),
      ],
    });
    render(
      <AppContext.Provider value={context(fleet)}>
        <FleetPage />
      </AppContext.Provider>,
    );
    expect(screen.getByText('3 of 3 devices shown')).toBeTruthy();
    const errorTile = screen.getByRole('button', { name: /1\s*Error/ });
    fireEvent.click(errorTile);
    await waitFor(() => expect(screen.getByText('1 of 3 devices shown')).toBeTruthy());
    expect(location.search).toBe('?state=error');
    expect(errorTile.getAttribute('aria-pressed')).toBe('true');
    fleet.apply({ type: 'device', device: device('p3', { name: 'Printer 3', state: 'error' }) });
    await waitFor(() => expect(screen.getByText('2 of 3 devices shown')).toBeTruthy());
    fireEvent.input(screen.getByLabelText('Search'), { target: { value: 'printer 3' } });
    await waitFor(() => expect(screen.getByText('1 of 3 devices shown')).toBeTruthy());
    expect(screen.getAllByRole('link').map((a) => a.textContent)).toEqual(['Printer 3']);
  });
});

describe('login page', () => {
  it('labels its fields and explains a refused login', async () => {
    const api: ApiClient = {
      get: () => Promise.reject(new Error('unused')),
      post: () => Promise.reject(new ApiError(401, 'INVALID_CREDENTIALS', 'invalid')),
    };
    let loggedIn = 0;
    render(
      <LoginPage
        api={api}
        message="Your session has ended."
        setupRequired={false}
        onLoggedIn={() => (loggedIn += 1)}
      />,
    );
    expect(screen.getByRole('status').textContent).toContain('session has ended');
    fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'olga' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'wrong password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe('Wrong user name or password.'),
    );
    expect(loggedIn).toBe(0);
  });
});

describe('setup page rules', () => {
  it('reads the token from the fragment and checks the password like the server', () => {
    expect(tokenFromHash('#token=Q2x-abc')).toBe('Q2x-abc');
    expect(tokenFromHash('')).toBeNull();
    expect(passwordProblem('admin', 'short', 'short')).toMatch(/12 characters/);
    expect(passwordProblem('admin', 'aaaaaaaaaaaaaa', 'aaaaaaaaaaaaaa')).toMatch(
      /single character/,
    );
    expect(passwordProblem('a-long-name-1', 'a-long-name-1', 'a-long-name-1')).toMatch(/user name/);
    expect(passwordProblem('admin', 'a long passphrase', 'a long passphrase!')).toMatch(/differ/);
    expect(passwordProblem('admin', 'a long passphrase', 'a long passphrase')).toBeNull();
  });
});
