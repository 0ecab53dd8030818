// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alert, device, job } from '../test-fixtures';
import { ConnectionIndicator } from './connection-indicator';
import { DeviceCard } from './device-card';
import { Pager } from './pager';

afterEach(cleanup);

const NOW = Date.parse('2025-03-01T12:00:30Z');

describe('device card', () => {
  it('shows state as word and icon, the job with progress and ETA, alerts and low consumables', () => {
    const d = device('printer-07', {
      name: 'Printer 07',
      state: 'printing',
      currentJob: job('j1', { name: 'Bracket v2', progress: 42.5 }),
      openAlerts: [alert('a1', { severity: 'critical' }), alert('a2')],
      consumables: [
        {
          deviceId: 'printer-07',
          slot: 'agent-1',
          type: 'agent',
          level: 9,
          status: 'low',
          expiresAt: null,
          updatedAt: '',
        },
      ],
    });
    render(
      <ul>
        <DeviceCard device={d} now={NOW} />
      </ul>,
    );
    expect(screen.getByRole('link', { name: 'Printer 07' }).getAttribute('href')).toBe(
      '/devices/printer-07',
    );
    expect(screen.getByText('Printing').closest('[data-state]')?.getAttribute('data-state')).toBe(
      'printing',
    );
    expect(screen.getByText('Bracket v2')).toBeTruthy();
    expect(
      screen
        .getByRole('progressbar', { name: 'Progress of Bracket v2' })
        .getAttribute('aria-valuenow'),
    ).toBe('43');
    expect(screen.getByText(/ETA .* · in 1 h 04 min/)).toBeTruthy();
    expect(screen.getByText(/2 open alerts · Critical/)).toBeTruthy();
    expect(screen.getByText(/agent-1 9 % low/)).toBeTruthy();
    expect(screen.getByText('30 s ago')).toBeTruthy();
  });

  it('renders again only when what it shows changes, keeping the last-seen time exact', () => {
    const renders = vi.spyOn(DeviceCard.prototype, 'render');
    const d = device('p1', {
      state: 'printing',
      currentJob: job('j1', { progress: 42.5 }),
      lastSeenAt: '2025-03-01T12:00:28.000Z',
    });
    const { container, rerender } = render(
      <ul>
        <DeviceCard device={d} now={NOW} />
      </ul>,
    );
    expect(renders).toHaveBeenCalledTimes(1);
    // Telemetry: new metrics and a new last-seen time, nothing else the card shows.
    const telemetry = {
      ...d,
      lastSeenAt: '2025-03-01T12:00:29.500Z',
      metrics: { nozzleTemp: { value: 201, ts: '2025-03-01T12:00:29.500Z' } },
    };
    rerender(
      <ul>
        <DeviceCard device={telemetry} now={NOW} />
      </ul>,
    );
    expect(renders).toHaveBeenCalledTimes(1);
    expect(container.querySelector('time')?.textContent).toBe('just now');
    expect(container.querySelector('time')?.getAttribute('datetime')).toBe(
      '2025-03-01T12:00:29.500Z',
    );
    rerender(
      <ul>
        <DeviceCard device={{ ...telemetry, state: 'paused' }} now={NOW} />
      </ul>,
    );
    expect(renders).toHaveBeenCalledTimes(2);
    expect(screen.getByText('Paused')).toBeTruthy();
    rerender(
      <ul>
        <DeviceCard
          device={{ ...telemetry, state: 'paused', currentJob: job('j1', { progress: 43 }) }}
          now={NOW}
        />
      </ul>,
    );
    expect(renders).toHaveBeenCalledTimes(3);
    expect(screen.getByText('43 %')).toBeTruthy();
    renders.mockRestore();
  });

  it('says so when there is no job', () => {
    render(
      <ul>
        <DeviceCard device={device('c1', { state: 'offline', lastSeenAt: null })} now={NOW} />
      </ul>,
    );
    expect(screen.getByText('No current job')).toBeTruthy();
    expect(screen.getByText('Offline')).toBeTruthy();
    expect(screen.getByText('never')).toBeTruthy();
  });
});

describe('connection indicator', () => {
  it('tells live, reconnecting with a countdown, and offers a retry', () => {
    let retried = 0;
    const { rerender } = render(<ConnectionIndicator status={{ state: 'live', since: 0 }} />);
    expect(screen.getByRole('status').textContent).toBe('Live');
    rerender(
      <ConnectionIndicator
        status={{ state: 'reconnecting', retryAt: Date.now() + 4000, attempt: 2 }}
        onRetry={() => (retried += 1)}
      />,
    );
    expect(screen.getByRole('status').textContent).toMatch(/retrying in [34] s/);
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    expect(retried).toBe(1);
  });
});

describe('pager', () => {
  it('moves by one page and stops at the ends', () => {
    const offsets: number[] = [];
    render(
      <Pager offset={0} limit={50} total={120} onChange={(o) => offsets.push(o)} label="Pages" />,
    );
    expect(screen.getByText('1–50 of 120')).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Previous' }).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(offsets).toEqual([50]);
  });
});
