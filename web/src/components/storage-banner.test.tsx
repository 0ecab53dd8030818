// @vitest-environment happy-dom
import { cleanup, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { Me, ServerInfo, ServerStorage } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { StorageBanner } from './storage-banner';

afterEach(cleanup);

const ME: Me = {
  user: { id: 'u1', username: 'olga', role: 'operator' },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read'],
};

const DIR = '/var/lib/command-center';
const FULL: ServerStorage = {
  state: 'full',
  freeBytes: 12 * 1024 * 1024,
  minFreeBytes: 100 * 1024 * 1024,
  since: '2025-03-01T12:00:00.000Z',
  dir: DIR,
  message: `only 12 MB free on ${DIR}, below the 100 MB the server keeps free, so writes are refused; fix: free space on that file system`,
};

/** A server whose storage the test changes; `down` makes /api/v1/info fail like an outage. */
function fakeServer(initial: ServerStorage | undefined) {
  const server = { storage: initial, down: false, reads: 0 };
  const api: ApiClient = {
    get<T>(path: string): Promise<T> {
      if (path !== '/api/v1/info') return Promise.reject(new ApiError(404, 'NOT_FOUND', path));
      server.reads += 1;
      if (server.down) return Promise.reject(new ApiError(0, 'NETWORK', 'unreachable'));
      const info: ServerInfo = {
        name: 'command-center',
        version: '1.0.0',
        startedAt: '2025-03-01T11:00:00.000Z',
        uptimeSeconds: 3600,
        ports: { https: 8443, http: 8080, mqtt: 1883 },
        ...(server.storage ? { storage: server.storage } : {}),
      };
      return Promise.resolve(info as T);
    },
    post: () => Promise.reject(new Error('not used')),
  };
  const context: AppContextValue = {
    api,
    me: ME,
    fleet: new FleetStore((fn) => setTimeout(fn, 0)),
    connection: { state: 'live', since: 0 },
    can: (p) => ME.permissions.includes(p),
    notify: () => undefined,
    logout: () => undefined,
    reconnect: () => undefined,
  };
  const show = () =>
    render(
      <AppContext.Provider value={context}>
        <StorageBanner pollMs={20} />
      </AppContext.Provider>,
    );
  return { server, show };
}

describe('storage banner', () => {
  it('shows a red alert naming the data directory and the fix while storage is full, and goes once it recovers', async () => {
    const { server, show } = fakeServer(FULL);
    show();
    const banner = await screen.findByRole('alert');
    expect(banner.getAttribute('data-storage')).toBe('full');
    expect(banner.className).toContain('storage-banner-full');
    expect(banner.textContent).toContain('Storage full: changes are not being saved.');
    expect(banner.textContent).toContain(DIR);
    expect(banner.textContent).toMatch(/fix: free space/);

    server.storage = { ...FULL, state: 'ok', message: null };
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
  });

  it('shows an amber notice while storage is low', async () => {
    const { show } = fakeServer({
      ...FULL,
      state: 'low',
      freeBytes: 150 * 1024 * 1024,
      message: `150 MB free on ${DIR}, less than twice the 100 MB the server keeps free`,
    });
    show();
    const banner = await screen.findByRole('status');
    expect(banner.getAttribute('data-storage')).toBe('low');
    expect(banner.textContent).toContain('Storage low');
    expect(banner.textContent).toContain(DIR);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps the last known state while the server cannot be reached', async () => {
    const { server, show } = fakeServer(FULL);
    show();
    await screen.findByRole('alert');
    server.down = true;
    const before = server.reads;
    await waitFor(() => expect(server.reads).toBeGreaterThan(before + 1));
    expect(screen.getByRole('alert')).toBeTruthy();
  });

  it('says what to do even when the server gives no message', async () => {
    const { dir: _dir, message: _message, ...bare } = FULL;
    const { show } = fakeServer(bare);
    show();
    const banner = await screen.findByRole('alert');
    expect(banner.textContent).toContain('12 MB free on the data directory');
    expect(banner.textContent).toContain('Fix: free space');
  });

  it('shows nothing for a server without storage information', async () => {
    const { server, show } = fakeServer(undefined);
    show();
    await waitFor(() => expect(server.reads).toBeGreaterThan(1));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByRole('status')).toBeNull();
  });
});
