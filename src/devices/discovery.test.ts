import { describe, expect, it } from 'vitest';
import { CcError, type WsIdentity } from '../domain/index.js';
import { discover, expandTargets, targetUrl } from './discovery.js';
import type { ProbeResult } from './ws-client.js';

const IDENTITY: WsIdentity = {
  id: 'p1',
  kind: 'printer',
  model: 'M',
  serial: 'S',
  name: 'P',
  firmwareVersion: '1.0.0',
  apiVersion: 1,
};

function probeResult(): ProbeResult {
  return {
    identity: IDENTITY,
    fingerprint256: 'AA',
    certificate: {
      subject: 'CN=p1',
      issuer: 'CN=p1',
      validFrom: '',
      validTo: '',
      selfSigned: true,
    },
  };
}

describe('expandTargets', () => {
  it('expands a CIDR block without network and broadcast addresses', () => {
    const t = expandTargets(['127.0.0.0/24'], [443]);
    expect(t).toHaveLength(254);
    expect(t[0]).toEqual({ host: '127.0.0.1', port: 443 });
    expect(t.at(-1)).toEqual({ host: '127.0.0.254', port: 443 });
    expect(expandTargets(['10.1.2.3/32'], [443])).toEqual([{ host: '10.1.2.3', port: 443 }]);
    expect(expandTargets(['10.1.2.7/31'], [443]).map((x) => x.host)).toEqual([
      '10.1.2.6',
      '10.1.2.7',
    ]);
    // A host address inside the block is aligned to the block.
    expect(expandTargets(['10.1.2.77/30'], [443]).map((x) => x.host)).toEqual([
      '10.1.2.77',
      '10.1.2.78',
    ]);
  });

  it('takes hosts, host:port, IPv6 and several ports, without duplicates', () => {
    const t = expandTargets(
      ['127.0.0.5', '127.0.0.5', 'printer-7.local', '127.0.0.9:8443', '[::1]:9443', '::1'],
      [443, 10443],
    );
    expect(t).toEqual([
      { host: '127.0.0.5', port: 443 },
      { host: '127.0.0.5', port: 10443 },
      { host: 'printer-7.local', port: 443 },
      { host: 'printer-7.local', port: 10443 },
      { host: '127.0.0.9', port: 8443 },
      { host: '::1', port: 9443 },
      { host: '::1', port: 443 },
      { host: '::1', port: 10443 },
    ]);
    expect(targetUrl({ host: '::1', port: 9443 })).toBe('https://[::1]:9443');
  });

  it('refuses bad input and oversized ranges with clear errors', () => {
    const bad: [string[], number[], RegExp][] = [
      [[], [443], /at least one address/],
      [['10.0.0.0/8'], [443], /\/16 to \/32/],
      [['10.0.0.0/33'], [443], /\/16 to \/32/],
      [['300.0.0.0/24'], [443], /CIDR/],
      [['10.0.0.1:0'], [443], /ports are 1–65535/],
      [['10.0.0.1:70000'], [443], /ports are 1–65535/],
      [['bad host!'], [443], /not an address/],
      [['300.1.2.3'], [443], /not an address/],
      [['http://x/'], [443], /CIDR|not an address/],
      [['10.0.0.1'], [], /at least one port/],
      [['10.0.0.0/16'], [443], /limited to 4096/],
      [['10.0.0.0/20'], [443, 8443], /limited to 4096/],
    ];
    for (const [specs, ports, message] of bad) {
      expect(() => expandTargets(specs, ports), specs.join(',')).toThrow(message);
    }
  });
});

describe('discover', () => {
  it('probes with bounded concurrency and reports progress, finds and failures', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const progress: number[] = [];
    const targets = expandTargets(['127.0.0.0/27'], [443]);
    const result = await discover(targets, {
      concurrency: 4,
      timeoutMs: 1000,
      deadlineMs: 10_000,
      onProgress: (p) => progress.push(p.done),
      probe: async (url) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight -= 1;
        if (url.endsWith('.7:443') || url.endsWith('.20:443')) return probeResult();
        throw new CcError('DEVICE_UNREACHABLE', 'refused');
      },
    });
    expect(maxInFlight).toBe(4);
    expect(result.found.map((f) => f.baseUrl)).toEqual([
      'https://127.0.0.7:443',
      'https://127.0.0.20:443',
    ]);
    expect(result).toMatchObject({ probed: 30, total: 30, truncated: false });
    expect(result.failures).toEqual({ DEVICE_UNREACHABLE: 28 });
    expect(progress.at(-1)).toBe(30);
  });

  it('stops at the deadline and says the run was cut short', async () => {
    const targets = expandTargets(['127.0.0.0/24'], [443]);
    const result = await discover(targets, {
      concurrency: 2,
      timeoutMs: 1000,
      deadlineMs: 100,
      probe: (_url, { signal }) =>
        new Promise((_resolve, reject) => {
          const t = setTimeout(() => reject(new CcError('DEVICE_TIMEOUT', 'slow')), 40);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new CcError('DEVICE_TIMEOUT', 'deadline'));
          });
        }),
    });
    expect(result.truncated).toBe(true);
    expect(result.probed).toBeLessThan(254);
    expect(result.durationMs).toBeLessThan(2000);
  });
});
