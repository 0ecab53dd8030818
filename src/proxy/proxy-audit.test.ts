import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import type { AuditEntry } from '../store/index.js';
import { createProxyAudit, type ProxyCall } from './proxy-audit.js';

function call(over: Partial<ProxyCall> = {}): ProxyCall {
  return {
    at: 0,
    actor: 'alice (token)',
    tokenId: 't1',
    source: '127.0.0.1',
    deviceId: 'p1',
    method: 'GET',
    path: '/ws/v1/status',
    status: 200,
    outcome: 'ok',
    code: null,
    bytes: 100,
    requestBytes: 0,
    ms: 3,
    requestId: 'r',
    ...over,
  };
}

function setup(windowMs = 10_000, maxWindows?: number) {
  let t = 0;
  const entries: AuditEntry[] = [];
  const audit = createProxyAudit({
    audit: {
      append: (e) => {
        entries.push(e);
        return Promise.resolve();
      },
    },
    logger: silentLogger(),
    windowMs,
    ...(maxWindows === undefined ? {} : { maxWindows }),
    now: () => t,
  });
  return { audit, entries, advance: (ms: number) => (t += ms) };
}

describe('proxy audit', () => {
  it('writes the first of identical reads at once and folds the rest into one counted record', async () => {
    const { audit, entries, advance } = setup();
    for (let i = 0; i < 1000; i++) audit.record(call());
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'alice (token)',
      action: 'proxy.call',
      target: 'p1',
      outcome: 'ok',
      source: '127.0.0.1',
      details: { method: 'GET', path: '/ws/v1/status', status: 200, bytes: 100 },
    });
    advance(10_000);
    audit.record(call());
    expect(entries).toHaveLength(3);
    expect(entries[1]?.details).toMatchObject({ aggregated: true, count: 999, bytes: 99_900 });
    await audit.stop();
    expect(entries).toHaveLength(3); // the new window had no repeats
  });

  it('gives every write its own record', async () => {
    const { audit, entries } = setup();
    for (let i = 0; i < 50; i++)
      audit.record(call({ method: 'POST', path: '/ws/v1/jobs/j/pause' }));
    await audit.stop();
    expect(entries).toHaveLength(50);
  });

  it('keeps different paths, devices, outcomes and tokens apart', async () => {
    const { audit, entries } = setup();
    audit.record(call());
    audit.record(call({ path: '/ws/v1/alerts' }));
    audit.record(call({ deviceId: 'p2' }));
    audit.record(call({ tokenId: 't2' }));
    audit.record(call({ status: 403, outcome: 'refused', code: 'PROXY_PATH_FORBIDDEN' }));
    await audit.stop();
    expect(entries).toHaveLength(5);
  });

  it('folds a flood of unauthenticated refusals whatever their paths', async () => {
    const { audit, entries } = setup();
    for (let i = 0; i < 500; i++) {
      audit.record(
        call({
          actor: 'anonymous',
          tokenId: null,
          method: i % 2 ? 'POST' : 'GET',
          path: `/ws/v1/x${i}`,
          status: 401,
          outcome: 'refused',
          code: 'UNAUTHENTICATED',
        }),
      );
    }
    await audit.stop();
    expect(entries).toHaveLength(2);
    expect(entries[1]?.details).toMatchObject({ aggregated: true, count: 499 });
  });

  it('bounds open windows', async () => {
    const { audit, entries } = setup(10_000, 10);
    for (let i = 0; i < 100; i++) {
      audit.record(call({ path: `/ws/v1/p${i}` }));
      audit.record(call({ path: `/ws/v1/p${i}` }));
    }
    await audit.stop();
    expect(entries).toHaveLength(200);
  });
});
