// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient } from '../api/api-client';
import type { ConsentView, Me, UplinkStatus } from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { AdminPage } from './admin-pages';
import { CLOUD_REFRESH_MS } from './cloud-page';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const ADMIN: Me = {
  user: { id: 'u-admin', username: 'admin', role: 'admin', sites: null },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'settings:manage', 'cloud:manage'],
};

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** A fixed answer, or one computed from the request body for each call. */
type Answer = object | ((body: unknown) => object);

/** Answers by "METHOD /path"; an Error answer is thrown, a missing one fails the call. */
function fakeApi(answers: Record<string, Answer>, calls: Call[]) {
  const answer = (method: string, path: string, body?: unknown): Promise<unknown> => {
    calls.push({ method, path, body });
    const entry = answers[`${method} ${path}`];
    const value: unknown = typeof entry === 'function' ? entry(body) : entry;
    if (value instanceof Error) return Promise.reject(value);
    if (value === undefined) return Promise.reject(new Error(`unexpected ${method} ${path}`));
    return Promise.resolve(value);
  };
  const api: ApiClient = {
    get: <T,>(path: string) => answer('GET', path) as Promise<T>,
    post: <T,>(path: string, body?: unknown) => answer('POST', path, body) as Promise<T>,
    put: <T,>(path: string, body: unknown) => answer('PUT', path, body) as Promise<T>,
    delete: async (path: string) => {
      await answer('DELETE', path);
    },
  };
  return api;
}

function context(api: ApiClient, me: Me = ADMIN, notices: string[] = []): AppContextValue {
  return {
    api,
    me,
    fleet: new FleetStore(),
    connection: { state: 'live', since: 0 },
    can: (p) => me.permissions.includes(p),
    notify: (text) => notices.push(text),
    logout: () => undefined,
    reconnect: () => undefined,
  };
}

function renderPage(ctx: AppContextValue) {
  return render(
    <AppContext.Provider value={ctx}>
      <AdminPage which="cloud" />
    </AppContext.Provider>,
  );
}

const consent = (over: Partial<Record<ConsentView['category'], boolean>> = {}): ConsentView[] =>
  (['identity', 'production', 'labels', 'network', 'freeText'] as const).map((category) => ({
    category,
    description: `About ${category}`,
    granted: over[category] ?? false,
    at: over[category] === undefined ? null : '2025-03-01T10:00:00.000Z',
    by: over[category] === undefined ? null : 'admin',
  }));

function status(over: Partial<UplinkStatus> = {}): UplinkStatus {
  return {
    enabled: true,
    enrolled: false,
    enrollment: null,
    intervalSeconds: 300,
    nextReportAt: null,
    lastAttemptAt: null,
    lastSuccessAt: null,
    lastError: null,
    delivery: { consecutiveFailures: 0, retryAt: null, lastDelivered: null },
    outbox: {
      count: 0,
      bytes: 0,
      oldestAt: null,
      criticalCount: 0,
      droppedTotal: 0,
      limits: { maxBytes: 10 * 1024 * 1024, maxItems: 2000 },
    },
    route: { via: 'direct', proxy: null },
    consent: consent(),
    alerts: [],
    ...over,
  };
}

const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function enrolledStatus(): UplinkStatus {
  return status({
    enrolled: true,
    enrollment: {
      organizationId: 'acme-additive',
      siteId: 'site-7f3a',
      kid: 'k-2025-03',
      endpoint: 'https://uplink.vendor.example/v1',
      enrolledAt: ago(86_400_000),
      enrolledBy: 'admin',
    },
    lastAttemptAt: ago(30_000),
    lastSuccessAt: ago(3_600_000),
    lastError: { message: 'proxy answered 407 Proxy Authentication Required', at: ago(30_000) },
    delivery: {
      consecutiveFailures: 4,
      retryAt: soon(120_000),
      lastDelivered: { seq: 41, at: ago(3_600_000), via: 'proxy' },
    },
    outbox: {
      count: 12,
      bytes: 3 * 1024 * 1024,
      oldestAt: ago(3_600_000),
      criticalCount: 2,
      droppedTotal: 5,
      limits: { maxBytes: 10 * 1024 * 1024, maxItems: 2000 },
    },
    route: { via: 'proxy', proxy: 'http://proxy:3128' },
    nextReportAt: soon(60_000),
    alerts: [
      {
        code: 'UPLINK_REPORTS_DROPPED',
        message: '5 report(s) dropped to keep the outbox within 2000 reports / 10485760 bytes',
        at: ago(60_000),
      },
    ],
  });
}

const statusCalls = (calls: Call[]) =>
  calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/cloud').length;

describe('cloud page', () => {
  it('offers enrollment when not enrolled, sends the form and forgets the token', async () => {
    const calls: Call[] = [];
    const notices: string[] = [];
    const api = fakeApi(
      {
        'GET /api/v1/cloud': status(),
        'POST /api/v1/cloud/enrollment': () => enrolledStatus(),
      },
      calls,
    );
    renderPage(context(api, ADMIN, notices));
    const form = await screen.findByRole('form', { name: 'Enroll this site' });
    expect(document.querySelector('[data-health]')?.textContent).toContain('Not enrolled');
    fireEvent.input(within(form).getByLabelText('Organization id'), {
      target: { value: ' acme-additive ' },
    });
    const token = within(form).getByLabelText<HTMLInputElement>('Enrollment token');
    expect(token.type).toBe('password');
    fireEvent.input(token, { target: { value: 'one-time-token-123' } });
    fireEvent.click(screen.getByText('Advanced'));
    fireEvent.input(within(form).getByLabelText('Cloud endpoint (optional)'), {
      target: { value: 'https://uplink.vendor.example/v1' },
    });
    fireEvent.submit(form);
    expect(token.value).toBe('');
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Enrollment' })).toBeTruthy());
    expect(calls.find((c) => c.method === 'POST')).toEqual({
      method: 'POST',
      path: '/api/v1/cloud/enrollment',
      body: {
        organizationId: 'acme-additive',
        enrollmentToken: 'one-time-token-123',
        endpoint: 'https://uplink.vendor.example/v1',
      },
    });
    expect(notices.join()).toContain('site-7f3a');
  });

  it('shows the server message when the cloud refuses the enrollment', async () => {
    const calls: Call[] = [];
    const api = fakeApi(
      {
        'GET /api/v1/cloud': status(),
        'POST /api/v1/cloud/enrollment': new ApiError(
          422,
          'CLOUD_ENROLLMENT_REFUSED',
          'The cloud refused the enrollment: token already used',
        ),
      },
      calls,
    );
    renderPage(context(api));
    const form = await screen.findByRole('form', { name: 'Enroll this site' });
    fireEvent.input(within(form).getByLabelText('Organization id'), { target: { value: 'acme' } });
    fireEvent.input(within(form).getByLabelText('Enrollment token'), {
      target: { value: 'used-token-456' },
    });
    fireEvent.submit(form);
    const alert = await within(form).findByRole('alert');
    expect(alert.textContent).toContain('The cloud refused the enrollment: token already used');
    expect(alert.textContent).toContain('organization id');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      organizationId: 'acme',
      enrollmentToken: 'used-token-456',
    });
    expect(within(form).getByLabelText<HTMLInputElement>('Enrollment token').value).toBe('');
  });

  it('shows site, proxy route, last error, back-off, outbox and the drop alert when enrolled', async () => {
    const api = fakeApi({ 'GET /api/v1/cloud': enrolledStatus() }, []);
    renderPage(context(api));
    await screen.findByRole('heading', { name: 'Enrollment' });
    const health = document.querySelector('[data-health]');
    expect(health?.getAttribute('data-health')).toBe('failing');
    expect(health?.textContent).toContain('Enrolled — delivery failing');
    expect(health?.querySelector('svg')).not.toBeNull();

    const panel = screen.getByRole('region', { name: 'Status' });
    expect(panel.textContent).toContain('acme-additive');
    expect(within(panel).getByText('site-7f3a')).toBeTruthy();
    expect(within(panel).getByText('https://uplink.vendor.example/v1')).toBeTruthy();
    expect(panel.querySelector('[data-route]')?.textContent).toBe(
      'Through proxy http://proxy:3128',
    );
    expect(panel.querySelector('[data-last-error]')?.textContent).toContain(
      'proxy answered 407 Proxy Authentication Required',
    );
    expect(panel.querySelector('[data-backoff]')?.textContent).toMatch(
      /^4 consecutive failures; next try in 1 min/,
    );
    expect(panel.textContent).toContain('report #41, through the proxy');
    expect(panel.textContent).toContain('every 5 min');

    expect(panel.querySelector('[data-outbox-count]')?.textContent).toContain('12 reports');
    expect(panel.querySelector('[data-outbox-size]')?.textContent).toBe('3 MiB of 10 MiB (30 %)');
    const meter = within(panel).getByRole('meter', { name: 'Outbox size' });
    expect(meter.getAttribute('aria-valuenow')).toBe('30');
    expect(panel.querySelector('[data-outbox-critical]')?.textContent).toContain(
      '2 critical reports',
    );
    expect(panel.querySelector('[data-outbox-dropped]')?.textContent).toContain('5 reports');

    const alerts = screen.getByRole('region', { name: 'Uplink warnings' });
    expect(
      alerts.querySelector('[data-alert-code="UPLINK_REPORTS_DROPPED"]')?.textContent,
    ).toContain('5 report(s) dropped');
  });

  it('un-enrolls only after an explicit confirmation, then loads the status again', async () => {
    const calls: Call[] = [];
    let enrolled = true;
    const api = fakeApi(
      {
        'GET /api/v1/cloud': () => (enrolled ? enrolledStatus() : status()),
        'DELETE /api/v1/cloud/enrollment': () => {
          enrolled = false;
          return status();
        },
      },
      calls,
    );
    renderPage(context(api));
    fireEvent.click(await screen.findByRole('button', { name: 'Un-enroll…' }));
    const question = screen.getByRole('group', { name: /Un-enroll site site-7f3a/ });
    expect(question.textContent).toContain('12 queued reports are discarded');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(within(question).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('group', { name: /Un-enroll site/ })).toBeNull();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Un-enroll…' }));
    const before = statusCalls(calls);
    fireEvent.click(screen.getByRole('button', { name: 'Yes, un-enroll' }));
    await screen.findByRole('form', { name: 'Enroll this site' });
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([
      { method: 'DELETE', path: '/api/v1/cloud/enrollment', body: undefined },
    ]);
    expect(statusCalls(calls)).toBeGreaterThan(before);
  });

  it('saves consent with only the categories that changed', async () => {
    const calls: Call[] = [];
    let granted: Partial<Record<ConsentView['category'], boolean>> = { production: true };
    const api = fakeApi(
      {
        'GET /api/v1/cloud': () => status({ consent: consent(granted) }),
        'PUT /api/v1/cloud/consent': (body) => {
          granted = { ...granted, ...(body as typeof granted) };
          return { items: consent(granted) };
        },
      },
      calls,
    );
    renderPage(context(api));
    const save = await screen.findByRole('button', { name: 'Save consent' });
    expect(save).toHaveProperty('disabled', true);
    const row = document.querySelector('[data-consent="production"]') as HTMLElement;
    expect(row.textContent).toContain('About production');
    expect(row.textContent).toContain('Granted by admin');

    const identity = screen.getByRole('switch', { name: 'Share Identity' });
    const labels = screen.getByRole('switch', { name: 'Share Labels' });
    fireEvent.click(identity);
    fireEvent.click(labels);
    fireEvent.click(labels);
    fireEvent.click(screen.getByRole('switch', { name: 'Share Production' }));
    expect(screen.getByText('2 unsaved changes.')).toBeTruthy();
    fireEvent.click(save);
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.filter((c) => c.method === 'PUT')).toEqual([
      { method: 'PUT', path: '/api/v1/cloud/consent', body: { identity: true, production: false } },
    ]);
    await waitFor(() => expect(screen.getByText('No unsaved changes.')).toBeTruthy());
    expect(screen.getByRole('switch', { name: 'Share Identity' })).toHaveProperty('checked', true);
  });

  it('previews the next report as JSON with its size, and queues one on request', async () => {
    const calls: Call[] = [];
    const report = { v: 1, site: 'site-7f3a', fleet: { devices: 3, printing: 1 } };
    const api = fakeApi(
      {
        'GET /api/v1/cloud': enrolledStatus(),
        'GET /api/v1/cloud/preview': { report, bytes: 1536 },
        'POST /api/v1/cloud/reports': { seq: 42, bytes: 1600 },
      },
      calls,
    );
    renderPage(context(api));
    fireEvent.click(await screen.findByRole('button', { name: 'Preview next report' }));
    const pre = await screen.findByLabelText('Next report (JSON)');
    expect(pre.tagName).toBe('PRE');
    expect(pre.textContent).toBe(JSON.stringify(report, null, 2));
    expect(document.querySelector('[data-preview-size]')?.textContent).toMatch(/1.?536 bytes/);
    expect(screen.getByText(/encrypted for the cloud before it leaves/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Send a report now' }));
    await waitFor(() =>
      expect(document.querySelector('[data-sent="ok"]')?.textContent).toContain('Report #42'),
    );
    expect(calls.find((c) => c.method === 'POST')?.path).toBe('/api/v1/cloud/reports');
  });

  it('loads the status every 10 s while shown, and stops when the page is left', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const calls: Call[] = [];
    const api = fakeApi({ 'GET /api/v1/cloud': status() }, calls);
    const view = renderPage(context(api));
    await screen.findByRole('form', { name: 'Enroll this site' });
    expect(statusCalls(calls)).toBe(1);
    vi.advanceTimersByTime(CLOUD_REFRESH_MS);
    expect(statusCalls(calls)).toBe(2);
    // Preact runs effect cleanups of an unmount when the render is flushed.
    await act(() => {
      view.unmount();
    });
    vi.advanceTimersByTime(3 * CLOUD_REFRESH_MS);
    expect(statusCalls(calls)).toBe(2);
  });

  it('tells a user without cloud:manage what is needed, and calls nothing', () => {
    const calls: Call[] = [];
    const operator: Me = { ...ADMIN, permissions: ['fleet:read'] };
    renderPage(context(fakeApi({}, calls), operator));
    expect(document.querySelector('[data-permission-needed]')?.textContent).toContain(
      'You need the cloud:manage permission (an admin with access to every site)',
    );
    expect(screen.queryByRole('form')).toBeNull();
    expect(calls).toEqual([]);
  });
});
