// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ApiAnswerError,
  createApiClient,
  uploadVia,
  type ApiClient,
  type QueryValue,
} from '../api/api-client';
import type {
  CreatedRollout,
  FirmwareCheck,
  FirmwarePackage,
  FirmwareSyncStatus,
  FirmwareTrust,
  Me,
  RolloutDetail,
  RolloutDevice,
  RolloutSummary,
} from '../api/types';
import { AppContext, type AppContextValue } from '../app-context';
import { FleetStore } from '../live/fleet-store';
import { device } from '../test-fixtures';
import { AdminPage } from './admin-pages';
import { countStatuses } from './firmware-rollout-live';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

const ADMIN: Me = {
  user: { id: 'u-admin', username: 'admin', role: 'admin', sites: null },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read', 'firmware:manage'],
};

const OPERATOR: Me = {
  user: { id: 'u-op', username: 'olga', role: 'operator', sites: null },
  via: 'session',
  expiresAt: null,
  permissions: ['fleet:read'],
};

interface Call {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, QueryValue>;
}

type Answer = unknown;

/** Answers by "METHOD /path"; an Error answer is thrown, a function computes it per call. */
function fakeApi(answers: Record<string, Answer>, calls: Call[]): ApiClient {
  const answer = (call: Call): Promise<unknown> => {
    calls.push(call);
    const entry = answers[`${call.method} ${call.path}`];
    const value: unknown =
      typeof entry === 'function' ? (entry as (b: unknown) => unknown)(call.body) : entry;
    if (value instanceof Error) return Promise.reject(value);
    if (value === undefined && call.method !== 'DELETE') {
      return Promise.reject(new Error(`unexpected ${call.method} ${call.path}`));
    }
    return Promise.resolve(value);
  };
  return {
    get: <T,>(path: string, query?: Record<string, QueryValue>) =>
      answer({ method: 'GET', path, ...(query ? { query } : {}) }) as Promise<T>,
    post: <T,>(path: string, body?: unknown) =>
      answer({ method: 'POST', path, body }) as Promise<T>,
    delete: async (path: string) => {
      await answer({ method: 'DELETE', path });
    },
    upload: <T,>(path: string, file: Blob) =>
      answer({ method: 'UPLOAD', path, body: file }) as Promise<T>,
  };
}

function context(api: ApiClient, me: Me = ADMIN, fleet = new FleetStore()): AppContextValue {
  return {
    api,
    me,
    fleet,
    connection: { state: 'live', since: 0 },
    can: (p) => me.permissions.includes(p),
    notify: () => undefined,
    logout: () => undefined,
    reconnect: () => undefined,
  };
}

function renderPage(ctx: AppContextValue) {
  return render(
    <AppContext.Provider value={ctx}>
      <AdminPage which="firmware" />
    </AppContext.Provider>,
  );
}

const PKG_ID = '9c1e5a7f00112233445566778899aabbccddeeff00112233445566778899aabb';

function pkg(over: Partial<FirmwarePackage> = {}): FirmwarePackage {
  return {
    id: PKG_ID,
    name: 'fusion-fw',
    version: '4.3.0',
    models: ['Fusion P5'],
    imageSize: 20480,
    imageSha256: 'ab'.repeat(32),
    releasedAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2099-01-01T00:00:00.000Z',
    allowDowngrade: false,
    signers: ['vendor-2026a'],
    packageBytes: 23040,
    source: 'upload',
    addedAt: '2026-12-01T10:00:00.000Z',
    addedBy: 'admin',
    checks: [{ name: 'signature', ok: true, detail: '1 valid signature' }],
    ...over,
  };
}

const page = <T,>(items: T[]) => ({ items, total: items.length, limit: 50, offset: 0 });

const SYNC: FirmwareSyncStatus = {
  configured: true,
  url: 'ftp://cc-site:***@vendor.example/pub/firmware/',
  intervalMinutes: 360,
  running: false,
  nextAt: null,
  last: null,
};

const TRUST: FirmwareTrust = {
  configured: true,
  threshold: 1,
  keys: [
    { id: 'vendor-2026a', retired: false },
    { id: 'vendor-2024', retired: true },
  ],
};

function baseAnswers(over: Record<string, Answer> = {}): Record<string, Answer> {
  return {
    'GET /api/v1/firmware/packages': page([
      pkg(),
      pkg({
        id: 'ff01',
        name: 'cool-fw',
        version: '1.2.0',
        models: ['Cool C1'],
        source: 'https://vendor.example/repo/',
      }),
    ]),
    'GET /api/v1/firmware/rollouts': page<RolloutSummary>([]),
    'GET /api/v1/firmware/sync': SYNC,
    'GET /api/v1/firmware/trust': TRUST,
    ...over,
  };
}

function rolloutDevice(deviceId: string, over: Partial<RolloutDevice> = {}): RolloutDevice {
  return {
    rolloutId: 'r1',
    deviceId,
    stage: 'rest',
    order: 0,
    status: 'queued',
    reason: null,
    fromVersion: '4.1.8',
    toVersion: '4.3.0',
    progress: null,
    updatedAt: '2026-12-02T08:16:00.000Z',
    ...over,
  };
}

function rollout(devices: RolloutDevice[], over: Partial<RolloutDetail> = {}): RolloutDetail {
  return {
    id: 'r1',
    packageId: PKG_ID,
    packageName: 'fusion-fw',
    toVersion: '4.3.0',
    state: 'running',
    pausedReason: null,
    canarySize: 1,
    concurrency: 4,
    failureThreshold: 1,
    selection: { models: ['Fusion P5'] },
    createdAt: '2026-12-02T08:15:00.000Z',
    createdBy: 'admin',
    updatedAt: '2026-12-02T08:16:00.000Z',
    finishedAt: null,
    total: devices.length,
    counts: countStatuses(devices),
    devices,
    ...over,
  };
}

function summaryOf(r: RolloutDetail): RolloutSummary {
  const { devices: _devices, ...rest } = r;
  return rest;
}

const CHECKS: FirmwareCheck[] = [
  { name: 'package-format', ok: true, detail: 'ustar archive of 23040 bytes' },
  { name: 'manifest-schema', ok: true, detail: 'manifest valid' },
  { name: 'signature', ok: false, detail: 'none of 1 signature verifies with a known key' },
  { name: 'known-key', ok: false, detail: 'not checked: no valid signature' },
  { name: 'threshold', ok: false, detail: 'not checked: no valid signature' },
  { name: 'image-size', ok: true, detail: '20480 bytes as the manifest says' },
  { name: 'image-hash', ok: true, detail: 'SHA-256 matches' },
  { name: 'model', ok: true, detail: 'no target model given' },
  { name: 'expiry', ok: true, detail: 'valid until 2099-01-01' },
  { name: 'version', ok: true, detail: 'no installed version given' },
];

describe('firmware page', () => {
  it('lists the catalog with models, size, signers, validity and source, and the trust policy', async () => {
    const calls: Call[] = [];
    const fleet = new FleetStore();
    fleet.put(device('p1'));
    fleet.put(device('p2', { firmwareVersion: '4.2.0' }));
    renderPage(context(fakeApi(baseAnswers(), calls), ADMIN, fleet));
    const table = await screen.findByRole('table', { name: 'Firmware packages' });
    const row = table.querySelector(`[data-package-id="${PKG_ID}"]`) as HTMLElement;
    expect(row.textContent).toContain('fusion-fw');
    expect(row.textContent).toContain('4.3.0');
    expect(row.textContent).toContain('Fusion P5');
    expect(row.textContent).toContain('23 KiB');
    expect(row.textContent).toContain('vendor-2026a');
    expect(row.textContent).toContain('Uploaded');
    expect(row.textContent).toContain('by admin');
    expect(table.querySelector('[data-package-id="ff01"]')?.textContent).toContain(
      'https://vendor.example/repo/',
    );
    expect(within(row).getByRole('button', { name: 'Remove fusion-fw 4.3.0…' })).toBeTruthy();

    const installed = screen.getByRole('table', { name: 'Installed firmware per model' });
    expect(installed.textContent).toContain('4.2.0');

    const keys = await screen.findByRole('table', { name: 'Vendor keys' });
    expect(keys.querySelector('[data-key-id="vendor-2024"]')?.textContent).toContain('Retired');
    expect(keys.querySelector('[data-key-id="vendor-2026a"]')?.textContent).toContain('Active');
    expect(document.querySelector('[data-threshold]')?.textContent).toMatch(/at least 1 distinct/);
    expect(calls.find((c) => c.path === '/api/v1/firmware/packages')?.query).toMatchObject({
      limit: 20,
      offset: 0,
    });
  });

  it('shows every check, passed and failed, when the server refuses an upload', async () => {
    const calls: Call[] = [];
    const refusal = new ApiAnswerError(
      422,
      'FIRMWARE_SIGNATURE_INVALID',
      'fusion-fw 4.4.0 refused: signature: none of 1 signature verifies',
      {
        error: { code: 'FIRMWARE_SIGNATURE_INVALID', message: 'refused' },
        verdict: { ok: false, checks: CHECKS },
      },
    );
    const api = fakeApi(baseAnswers({ 'UPLOAD /api/v1/firmware/packages': refusal }), calls);
    renderPage(context(api));
    const form = await screen.findByRole('form', { name: 'Upload a firmware package' });
    const upload = within(form).getByRole('button', { name: 'Upload' });
    expect(upload).toHaveProperty('disabled', true);
    const file = new File([new Uint8Array(64)], 'fusion-fw-4.4.0.tar');
    fireEvent.change(within(form).getByLabelText('Package file (.tar)'), {
      target: { files: [file] },
    });
    fireEvent.submit(form);
    const list = await screen.findByRole('list', { name: 'Checks of the refused package' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map((li) => li.getAttribute('data-check'))).toEqual(CHECKS.map((c) => c.name));
    for (const [i, c] of CHECKS.entries()) {
      const text = items[i]?.textContent ?? '';
      expect(text).toContain(c.ok ? '✓' : '✗');
      expect(text).toContain(c.ok ? 'passed' : 'failed');
      expect(text).toContain(c.detail);
    }
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('FIRMWARE_SIGNATURE_INVALID');
    expect(calls.filter((c) => c.method === 'UPLOAD')).toEqual([
      { method: 'UPLOAD', path: '/api/v1/firmware/packages', body: file },
    ]);
  });

  it('removes a package only after confirmation, then lists the catalog again', async () => {
    const calls: Call[] = [];
    renderPage(
      context(
        fakeApi(baseAnswers({ [`DELETE /api/v1/firmware/packages/${PKG_ID}`]: undefined }), calls),
      ),
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Remove fusion-fw 4.3.0…' }));
    const question = screen.getByRole('group', { name: 'Remove fusion-fw 4.3.0?' });
    fireEvent.click(within(question).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('group', { name: 'Remove fusion-fw 4.3.0?' })).toBeNull();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Remove fusion-fw 4.3.0…' }));
    const loads = calls.filter((c) => c.path === '/api/v1/firmware/packages').length;
    fireEvent.click(screen.getByRole('button', { name: 'Yes, remove' }));
    await waitFor(() =>
      expect(document.querySelector('[data-remove-result]')?.textContent).toContain(
        'fusion-fw 4.3.0 removed',
      ),
    );
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([
      { method: 'DELETE', path: `/api/v1/firmware/packages/${PKG_ID}` },
    ]);
    expect(calls.filter((c) => c.path === '/api/v1/firmware/packages').length).toBeGreaterThan(
      loads,
    );
  });

  it('syncs on request and shows what was admitted and refused, with reasons', async () => {
    const calls: Call[] = [];
    const api = fakeApi(
      baseAnswers({
        'POST /api/v1/firmware/sync': {
          url: SYNC.url,
          trigger: 'manual',
          startedAt: '2026-12-02T08:15:00.000Z',
          finishedAt: '2026-12-02T08:15:02.000Z',
          ok: true,
          error: null,
          listed: 2,
          new: 2,
          admitted: [
            { file: 'fusion-fw-4.3.0.tar', id: PKG_ID, name: 'fusion-fw', version: '4.3.0' },
          ],
          refused: [
            {
              file: 'fusion-fw-4.4.0.tar',
              code: 'FIRMWARE_SIGNATURE_INVALID',
              reason: 'signature: none of 1 signature verifies',
              checks: CHECKS,
            },
          ],
          postponed: [],
        },
      }),
      calls,
    );
    renderPage(context(api));
    fireEvent.click(await screen.findByRole('button', { name: 'Sync now' }));
    await waitFor(() =>
      expect(document.querySelector('[data-sync-counts]')?.textContent).toMatch(
        /Listed 2, new 2, admitted 1, refused 1/,
      ),
    );
    expect(
      document.querySelector('[data-refused-file="fusion-fw-4.4.0.tar"]')?.textContent,
    ).toContain('FIRMWARE_SIGNATURE_INVALID');
    expect(screen.getByRole('list', { name: 'Admitted packages' }).textContent).toContain(
      'fusion-fw 4.3.0',
    );
  });

  it('starts a rollout with the chosen selection and settings, and shows the devices not taken', async () => {
    const calls: Call[] = [];
    const fleet = new FleetStore();
    fleet.put(device('p1', { siteId: 'hall-a' }));
    fleet.put(device('p2', { siteId: 'hall-a', firmwareVersion: '4.3.0' }));
    fleet.put(device('p3', { siteId: 'hall-b', state: 'offline' }));
    fleet.put(device('c1', { model: 'Cool C1', siteId: 'hall-a' }));
    const created: CreatedRollout = {
      ...rollout([rolloutDevice('p1', { stage: 'canary', status: 'transferring', progress: 0 })]),
      excluded: [{ deviceId: 'p2', reason: 'already on 4.3.0' }],
      limitedToSites: null,
    };
    const api = fakeApi(
      baseAnswers({
        'POST /api/v1/firmware/rollouts': created,
        'GET /api/v1/firmware/rollouts/r1': rollout(created.devices),
      }),
      calls,
    );
    renderPage(context(api, ADMIN, fleet));
    const form = await screen.findByRole('form', { name: 'New rollout' });
    await waitFor(() => expect(within(form).getAllByRole('option').length).toBeGreaterThan(1));
    fireEvent.change(within(form).getByLabelText('Package'), { target: { value: PKG_ID } });
    const preview = document.querySelector('[data-fit-counts]');
    expect(preview?.textContent).toMatch(
      /4 selected: 1 the package fits, 1 offline, 1 of another model, 1 already on 4.3.0/,
    );

    fireEvent.click(within(form).getByRole('checkbox', { name: 'Fusion P5' }));
    fireEvent.click(within(form).getByRole('checkbox', { name: 'hall-a' }));
    fireEvent.input(within(form).getByLabelText('Canary size'), { target: { value: '2' } });
    fireEvent.input(within(form).getByLabelText('Concurrency'), { target: { value: '3' } });
    fireEvent.input(within(form).getByLabelText('Failure threshold'), { target: { value: '2' } });
    expect(document.querySelector('[data-fit-counts]')?.textContent).toMatch(/^2 selected/);
    fireEvent.click(within(form).getByRole('button', { name: 'Start rollout' }));

    const notTaken = await screen.findByRole('table', { name: 'Devices not taken' });
    expect(notTaken.querySelector('[data-excluded="p2"]')?.textContent).toContain(
      'already on 4.3.0',
    );
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      {
        method: 'POST',
        path: '/api/v1/firmware/rollouts',
        body: {
          packageId: PKG_ID,
          selection: { models: ['Fusion P5'], sites: ['hall-a'] },
          canarySize: 2,
          concurrency: 3,
          failureThreshold: 2,
        },
      },
    ]);
    // The new rollout opens in detail.
    await screen.findByRole('table', { name: 'Devices of the rollout' });
  });

  it('sends an explicit device list when only ticked devices are chosen', async () => {
    const calls: Call[] = [];
    const fleet = new FleetStore();
    fleet.put(device('p1'));
    fleet.put(device('p2'));
    const created: CreatedRollout = {
      ...rollout([rolloutDevice('p2')]),
      excluded: [],
      limitedToSites: null,
    };
    const api = fakeApi(
      baseAnswers({
        'POST /api/v1/firmware/rollouts': created,
        'GET /api/v1/firmware/rollouts/r1': rollout(created.devices),
      }),
      calls,
    );
    renderPage(context(api, ADMIN, fleet));
    const form = await screen.findByRole('form', { name: 'New rollout' });
    await waitFor(() => expect(within(form).getAllByRole('option').length).toBeGreaterThan(1));
    fireEvent.change(within(form).getByLabelText('Package'), { target: { value: PKG_ID } });
    fireEvent.click(within(form).getByRole('radio', { name: 'Only the devices ticked below' }));
    fireEvent.click(within(form).getByRole('checkbox', { name: /Printer p2/ }));
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      packageId: PKG_ID,
      selection: { devices: ['p2'] },
      canarySize: 1,
      failureThreshold: 1,
    });
  });

  it('shows each device status, the pause reason, and sends resume and a confirmed abort', async () => {
    const calls: Call[] = [];
    const fleet = new FleetStore();
    fleet.put(device('p1', { name: 'Left printer' }));
    const devices = [
      rolloutDevice('p1', {
        stage: 'canary',
        status: 'failed',
        reason: 'device refused: model mismatch',
      }),
      rolloutDevice('p2', { status: 'transferring', progress: 40 }),
      rolloutDevice('p3', { status: 'skipped', reason: 'offline when the rollout was created' }),
      rolloutDevice('p4'),
      rolloutDevice('p5', { status: 'done' }),
    ];
    const paused = rollout(devices, {
      state: 'paused',
      pausedReason: 'canary stage ended with 1 of 1 devices failed; resume to update the other 4',
    });
    const running = { ...paused, state: 'running' as const, pausedReason: null };
    const aborted = rollout(
      devices.map((d) =>
        d.status === 'queued' ? { ...d, status: 'skipped' as const, reason: 'rollout aborted' } : d,
      ),
      { state: 'aborted', finishedAt: '2026-12-02T08:20:00.000Z' },
    );
    const api = fakeApi(
      baseAnswers({
        'GET /api/v1/firmware/rollouts': page([summaryOf(paused)]),
        'GET /api/v1/firmware/rollouts/r1': paused,
        'POST /api/v1/firmware/rollouts/r1/resume': running,
        'POST /api/v1/firmware/rollouts/r1/abort': aborted,
      }),
      calls,
    );
    renderPage(context(api, ADMIN, fleet));
    const list = await screen.findByRole('table', { name: 'Rollouts' });
    expect(list.querySelector('[data-rollout-id="r1"]')?.textContent).toContain('Paused');
    fireEvent.click(within(list).getByRole('button', { name: /Show rollout fusion-fw 4.3.0/ }));

    const table = await screen.findByRole('table', { name: 'Devices of the rollout' });
    const status = (id: string) => table.querySelector(`[data-device-id="${id}"]`) as HTMLElement;
    expect(status('p1').textContent).toContain('Failed');
    expect(status('p1').textContent).toContain('device refused: model mismatch');
    expect(status('p1').textContent).toContain('Left printer');
    expect(status('p1').querySelector('[data-status] svg')).not.toBeNull();
    expect(status('p2').textContent).toContain('Transferring');
    expect(within(status('p2')).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('40');
    expect(status('p3').textContent).toContain('offline when the rollout was created');
    expect(status('p4').textContent).toContain('Queued');
    expect(status('p5').textContent).toContain('Done');
    expect(document.querySelector('[data-paused-reason]')?.textContent).toContain(
      'canary stage ended with 1 of 1 devices failed',
    );
    const detail = screen.getByRole('region', { name: /^Rollout fusion-fw 4.3.0/ });
    const counts = within(detail).getByRole('img', {
      name: /^Devices: 1 done, 1 failed, 1 in progress, 1 queued, 1 skipped, of 5$/,
    });
    expect(counts).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Pause/ })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(document.querySelector('[data-paused-reason]')).toBeNull());
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Abort…' }));
    expect(calls.some((c) => c.path.endsWith('/abort'))).toBe(false);
    const question = screen.getByRole('group', { name: 'Abort this rollout?' });
    expect(question.textContent).toContain('1 queued device is skipped');
    fireEvent.click(within(question).getByRole('button', { name: 'Yes, abort' }));
    await waitFor(() =>
      expect(
        document.querySelector('[data-rollout-detail] [data-state]')?.getAttribute('data-state'),
      ).toBe('aborted'),
    );
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/v1/firmware/rollouts/r1/resume', body: undefined },
      { method: 'POST', path: '/api/v1/firmware/rollouts/r1/abort', body: undefined },
    ]);
    expect(screen.queryByRole('button', { name: 'Abort…' })).toBeNull();
  });

  it('follows a rollout live over its event stream', async () => {
    const sources: FakeEventSource[] = [];
    class FakeEventSource extends EventTarget {
      closed = false;
      constructor(readonly url: string) {
        super();
        sources.push(this);
      }
      close() {
        this.closed = true;
      }
      emit(type: string, data: unknown) {
        this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
      }
    }
    vi.stubGlobal('EventSource', FakeEventSource);
    const start = rollout([rolloutDevice('p1', { status: 'queued' }), rolloutDevice('p2')]);
    const api = fakeApi(
      baseAnswers({
        'GET /api/v1/firmware/rollouts': page([summaryOf(start)]),
        'GET /api/v1/firmware/rollouts/r1': start,
      }),
      [],
    );
    renderPage(context(api));
    fireEvent.click(await screen.findByRole('button', { name: /Show rollout/ }));
    await waitFor(() => expect(sources).toHaveLength(1));
    const source = sources[0] as FakeEventSource;
    expect(source.url).toBe('/api/v1/firmware/rollouts/r1/events');
    await act(() => {
      source.emit('snapshot', start);
      source.emit('device', rolloutDevice('p1', { status: 'installing', progress: 60 }));
    });
    const row = () => document.querySelector('[data-device-id="p1"]') as HTMLElement;
    expect(row().textContent).toContain('Installing');
    expect(within(row()).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('60');
    expect(document.querySelector('[data-follow-mode]')?.textContent).toBe('Live');
    expect(
      document.querySelector('[data-rollout-detail] [data-count="active"]')?.textContent,
    ).toContain('1 in progress');

    const done = rollout(
      [rolloutDevice('p1', { status: 'done' }), rolloutDevice('p2', { status: 'done' })],
      {
        state: 'completed',
        finishedAt: '2026-12-02T09:00:00.000Z',
      },
    );
    await act(() => {
      source.emit('device', done.devices[0]);
      source.emit('device', done.devices[1]);
      source.emit('rollout', summaryOf(done));
    });
    expect(source.closed).toBe(true);
    await waitFor(() =>
      expect(document.querySelector('[data-rollout-detail] [data-state]')?.textContent).toContain(
        'Completed',
      ),
    );
  });

  it('falls back to loading the rollout every 2 s when the stream breaks', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const sources: EventTarget[] = [];
    vi.stubGlobal(
      'EventSource',
      class extends EventTarget {
        constructor() {
          super();
          sources.push(this);
        }
        close() {
          return undefined;
        }
      },
    );
    const calls: Call[] = [];
    const r = rollout([rolloutDevice('p1')]);
    const api = fakeApi(
      baseAnswers({
        'GET /api/v1/firmware/rollouts': page([summaryOf(r)]),
        'GET /api/v1/firmware/rollouts/r1': r,
      }),
      calls,
    );
    renderPage(context(api));
    fireEvent.click(await screen.findByRole('button', { name: /Show rollout/ }));
    await waitFor(() => expect(sources).toHaveLength(1));
    await act(() => {
      sources[0]?.dispatchEvent(new Event('error'));
    });
    expect(document.querySelector('[data-follow-mode]')?.textContent).toBe('Updating every 2 s');
    const loads = () => calls.filter((c) => c.path === '/api/v1/firmware/rollouts/r1').length;
    const before = loads();
    vi.advanceTimersByTime(2000);
    expect(loads()).toBe(before + 1);
  });

  it('offers no write control without firmware:manage, and explains what is needed', async () => {
    const calls: Call[] = [];
    const paused = rollout([rolloutDevice('p1')], {
      state: 'paused',
      pausedReason: 'paused by admin',
    });
    const api = fakeApi(
      baseAnswers({
        'GET /api/v1/firmware/rollouts': page([summaryOf(paused)]),
        'GET /api/v1/firmware/rollouts/r1': paused,
      }),
      calls,
    );
    renderPage(context(api, OPERATOR));
    await screen.findByRole('table', { name: 'Firmware packages' });
    fireEvent.click(await screen.findByRole('button', { name: /Show rollout/ }));
    await screen.findByRole('table', { name: 'Devices of the rollout' });
    expect(document.querySelector('[data-paused-reason]')?.textContent).toContain(
      'paused by admin',
    );
    for (const name of [
      /Remove/,
      /^Upload$/,
      /Sync now/,
      /Start rollout/,
      /^Pause/,
      /^Resume/,
      /Abort/,
    ]) {
      expect(screen.queryByRole('button', { name })).toBeNull();
    }
    expect(screen.queryByLabelText('Package file (.tar)')).toBeNull();
    expect(document.querySelectorAll('[data-permission-needed]').length).toBeGreaterThanOrEqual(3);
    expect(document.body.textContent).toContain('firmware:manage');
    expect(
      calls.some((c) => c.path === '/api/v1/firmware/sync' || c.path === '/api/v1/firmware/trust'),
    ).toBe(false);
    expect(calls.every((c) => c.method === 'GET')).toBe(true);
  });
});

describe('api client upload', () => {
  /** Just enough of XMLHttpRequest to see what is sent and to answer. */
  class FakeRequest extends EventTarget {
    readonly upload = new EventTarget();
    readonly headers: Record<string, string> = {};
    method = '';
    url = '';
    body: unknown = null;
    status = 0;
    statusText = '';
    responseText = '';
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    send(body: unknown) {
      this.body = body;
    }
    abort() {
      this.dispatchEvent(new Event('abort'));
    }
    answer(status: number, body: unknown) {
      this.status = status;
      this.responseText = JSON.stringify(body);
      this.dispatchEvent(new Event('load'));
    }
  }

  it('sends the file as octet-stream, reports progress, and keeps the verdict of a refusal', async () => {
    const requests: FakeRequest[] = [];
    const api = createApiClient({
      createRequest: () => {
        const r = new FakeRequest();
        requests.push(r);
        return r as unknown as XMLHttpRequest;
      },
    });
    const file = new Blob([new Uint8Array(10)]);
    const progress: unknown[] = [];
    const refused = uploadVia(api, '/api/v1/firmware/packages', file, (p) => progress.push(p));
    const req = requests[0] as FakeRequest;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/octet-stream');
    expect(req.body).toBe(file);
    const sent = new ProgressEvent('progress', { lengthComputable: true, loaded: 5, total: 10 });
    req.upload.dispatchEvent(sent);
    expect(progress).toEqual([{ loaded: 5, total: 10 }]);
    const body = {
      error: { code: 'FIRMWARE_EXPIRED', message: 'expired' },
      verdict: { ok: false, checks: CHECKS },
    };
    req.answer(422, body);
    const err = await refused.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiAnswerError);
    expect((err as ApiAnswerError).code).toBe('FIRMWARE_EXPIRED');
    expect((err as ApiAnswerError).body).toEqual(body);

    const admitted = uploadVia<FirmwarePackage>(api, '/api/v1/firmware/packages', file);
    (requests[1] as FakeRequest).answer(201, pkg());
    expect((await admitted).id).toBe(PKG_ID);
  });
});
