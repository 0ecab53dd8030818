// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { Me } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { DeviceTokenPanel, mosquittoExample } from './device-token-panel';

afterEach(cleanup);

const ME: Me = {
  user: { id: 'u1', username: 'ada', role: 'admin' },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'devices:manage'],
};

interface Call {
  method: string;
  path: string;
}

/** A fake server for one device's token: GET status, POST issue/rotate, DELETE revoke. */
function fakeServer(initial: { issuedAt: string } | null) {
  let token: { value: string; issuedAt: string } | null = initial
    ? { value: 'old-token', issuedAt: initial.issuedAt }
    : null;
  let serial = 0;
  const calls: Call[] = [];
  const notices: string[] = [];
  const api: ApiClient = {
    get<T>(path: string): Promise<T> {
      calls.push({ method: 'GET', path });
      if (path === '/api/v1/info') {
        return Promise.resolve({ ports: { https: 8443, http: 8080, mqtt: 1884 } } as T);
      }
      if (!token) return Promise.reject(new ApiError(404, 'TOKEN_NOT_FOUND', 'no token'));
      return Promise.resolve({ deviceId: 'p1', issuedAt: token.issuedAt, connected: true } as T);
    },
    post<T>(path: string): Promise<T> {
      calls.push({ method: 'POST', path });
      const rotated = token !== null;
      serial += 1;
      token = { value: `tok-${serial}`, issuedAt: `2025-03-0${serial}T10:00:00.000Z` };
      return Promise.resolve({
        deviceId: 'p1',
        token: token.value,
        issuedAt: token.issuedAt,
        rotated,
      } as T);
    },
  };
  const remove = (path: string): Promise<void> => {
    calls.push({ method: 'DELETE', path });
    if (!token) return Promise.reject(new ApiError(404, 'TOKEN_NOT_FOUND', 'no token'));
    token = null;
    return Promise.resolve();
  };
  const context: AppContextValue = {
    api,
    me: ME,
    fleet: new FleetStore((fn) => setTimeout(fn, 0)),
    connection: { state: 'live', since: 0 },
    can: (p) => ME.permissions.includes(p),
    notify: (text) => notices.push(text),
    logout: () => undefined,
    reconnect: () => undefined,
  };
  return { calls, notices, remove, context };
}

describe('device MQTT token panel', () => {
  it('issues a token for a device without one and shows it once, with how to use it', async () => {
    const server = fakeServer(null);
    render(
      <AppContext.Provider value={server.context}>
        <DeviceTokenPanel deviceId="p1" remove={server.remove} />
      </AppContext.Provider>,
    );
    await waitFor(() => expect(screen.getByText(/No MQTT token/)).toBeTruthy());
    expect(screen.getByRole('region', { name: 'MQTT access' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Revoke/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Issue token' }));
    const field = await screen.findByLabelText(/New MQTT token for p1 — shown only once/);
    expect((field as HTMLInputElement).value).toBe('tok-1');
    expect((field as HTMLInputElement).readOnly).toBe(true);
    expect(field.getAttribute('aria-describedby')).toBe('mqtt-token-note');
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(screen.getByText(/cannot be shown again/)).toBeTruthy();
    await waitFor(() =>
      expect(document.querySelector('.token-example')?.textContent).toBe(
        mosquittoExample('p1', 'tok-1', location.hostname, 1884),
      ),
    );
    expect(screen.getByText(/A token is active since/)).toBeTruthy();
    expect(server.notices).toEqual(['MQTT token issued for p1']);
    fireEvent.click(screen.getByRole('button', { name: 'Done, hide the token' }));
    expect(screen.queryByLabelText(/shown only once/)).toBeNull();
    expect(screen.getByRole('button', { name: 'Rotate token…' })).toBe(document.activeElement);
  });

  it('rotates only after a confirmation that says the connection is closed', async () => {
    const server = fakeServer({ issuedAt: '2025-02-01T08:00:00.000Z' });
    render(
      <AppContext.Provider value={server.context}>
        <DeviceTokenPanel deviceId="p1" remove={server.remove} />
      </AppContext.Provider>,
    );
    await waitFor(() => expect(screen.getByText(/the device is connected now/)).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Rotate token…' }));
    const confirm = screen.getByRole('group', { name: 'Confirm rotation' });
    expect(confirm.textContent).toMatch(/connection is closed and the old token stops working/);
    // The safe choice has the focus: Enter by mistake keeps the token.
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Keep the current token'));
    fireEvent.click(screen.getByRole('button', { name: 'Keep the current token' }));
    expect(server.calls.filter((c) => c.method === 'POST')).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Rotate token…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, rotate token' }));
    const field = await screen.findByLabelText(/shown only once/);
    expect((field as HTMLInputElement).value).toBe('tok-1');
    expect(server.notices).toEqual(['MQTT token of p1 rotated: the old token no longer works']);
  });

  it('revokes after confirmation and offers to issue a new token', async () => {
    const server = fakeServer({ issuedAt: '2025-02-01T08:00:00.000Z' });
    render(
      <AppContext.Provider value={server.context}>
        <DeviceTokenPanel deviceId="p1" remove={server.remove} />
      </AppContext.Provider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke…' }));
    expect(screen.getByRole('group', { name: 'Confirm revocation' }).textContent).toMatch(
      /cannot connect again until a new token is issued/,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Yes, revoke token' }));
    await waitFor(() => expect(screen.getByText(/No MQTT token/)).toBeTruthy());
    expect(server.calls.at(-1)).toEqual({
      method: 'DELETE',
      path: '/api/v1/devices/p1/mqtt-token',
    });
    expect(screen.getByRole('button', { name: 'Issue token' })).toBeTruthy();
    expect(server.notices).toEqual(['MQTT token of p1 revoked: the device can no longer connect']);
  });
});
