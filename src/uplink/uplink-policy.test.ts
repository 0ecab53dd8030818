import { describe, expect, it } from 'vitest';
import { isCcError } from '../domain/index.js';
import { parseCloudAnswer } from './delivery.js';
import { retryAfterOf } from './sender/index.js';
import { checkEndpoint, proxyChoiceOf, routeTo, sendPolicyOf } from './uplink-policy.js';

const BASE = {
  endpoint: 'https://www.printos.com/command-center',
  allowedHosts: ['www.printos.com', '*.amazonaws.com'],
  spkiPins: [],
  ca: null,
  proxy: 'environment',
  noProxy: null,
  timeoutMs: 10_000,
};

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCcError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('uplink policy from the configuration', () => {
  it('builds the sender policy: allow-list, pins on the endpoint host, CA, proxy', () => {
    const pin = 'r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=';
    const policy = sendPolicyOf(
      { ...BASE, spkiPins: [pin], ca: '-----BEGIN CERTIFICATE-----', proxy: 'http://p:3128' },
      {},
    );
    expect(policy.allow).toEqual(BASE.allowedHosts);
    expect(policy.pins).toEqual({ 'www.printos.com': [pin] });
    expect(policy.ca).toContain('BEGIN CERTIFICATE');
    expect(policy.proxy).toEqual({ kind: 'explicit', url: 'http://p:3128', noProxy: '' });
  });

  it.each([
    [{ endpoint: 'http://www.printos.com/cc' }, 'uplink.endpoint', /https/],
    [{ endpoint: 'https://user:pw@www.printos.com/cc' }, 'uplink.endpoint', /credentials/],
    [{ endpoint: 'not a url' }, 'uplink.endpoint', /not a URL/],
    [{ endpoint: 'https://evil.example/cc' }, 'uplink.endpoint', /allowedHosts/],
    [{ endpoint: 'https://www.printos.com:8443/cc' }, 'uplink.endpoint', /allowedHosts/],
    [{ allowedHosts: ['ok.example', 'bad host'] }, 'uplink.allowedHosts', /bad host/],
    [{ proxy: 'https://proxy.example:3128' }, 'uplink.proxy', /unusable/],
    [{ proxy: 'socks5://proxy.example:1080' }, 'uplink.proxy', /unusable/],
    [{ proxy: 'http://p:3128', noProxy: '10.0.0.0/99' }, 'uplink.noProxy', /10\.0\.0\.0\/99/],
  ])('refuses %o at start-up, naming %s', (over, key, why) => {
    const { code, message } = refusal(() => sendPolicyOf({ ...BASE, ...over }, {}));
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toContain(key);
    expect(message).toMatch(why);
    expect(message).toContain('fix:');
  });

  it('never repeats a proxy password in a refusal', () => {
    const { message } = refusal(() =>
      sendPolicyOf({ ...BASE, proxy: 'https://user:hunter2-secret@p:3128' }, {}),
    );
    expect(message).not.toContain('hunter2-secret');
  });

  it('refuses an endpoint from a request as a validation error', () => {
    const { code } = refusal(() =>
      checkEndpoint('https://evil.example/', BASE.allowedHosts, 'endpoint', 'VALIDATION_FAILED'),
    );
    expect(code).toBe('VALIDATION_FAILED');
  });

  it('says which route the endpoint takes, with the proxy password hidden', () => {
    const env = { HTTPS_PROXY: 'http://ops:s3cret@proxy.corp:3128', NO_PROXY: '.internal' };
    expect(routeTo(BASE.endpoint, proxyChoiceOf(BASE, env))).toEqual({
      via: 'proxy',
      proxy: expect.stringMatching(/^http:\/\/ops:\*+@proxy\.corp:3128/) as string,
    });
    expect(routeTo('https://cloud.internal/', proxyChoiceOf(BASE, env)).via).toBe('direct');
    expect(routeTo(BASE.endpoint, proxyChoiceOf({ ...BASE, proxy: 'none' }, env))).toEqual({
      via: 'direct',
      proxy: null,
    });
  });
});

describe('cloud answers', () => {
  it.each([
    [null, {}],
    ['text', {}],
    [{ settings: { reportIntervalSeconds: 600 } }, { settings: { reportIntervalSeconds: 600 } }],
    [{ settings: { reportIntervalSeconds: -1 } }, {}],
    [{ settings: { reportIntervalSeconds: 1.5 } }, {}],
    [{ settings: 'x', requests: 'y' }, { requests: undefined }],
    [
      { requests: [{ id: 'r1', kind: 'diagnostics' }, { id: 7 }, null, { kind: 'x' }] },
      { requests: [{ id: 'r1', kind: 'diagnostics' }] },
    ],
  ])('keeps only well-formed parts of %j', (body, expected) => {
    const parsed = parseCloudAnswer(body);
    for (const [key, value] of Object.entries(expected)) {
      expect(parsed[key as keyof typeof parsed]).toEqual(value);
    }
    if (Object.keys(expected).length === 0) expect(parsed).toEqual({});
  });

  it('bounds what a hostile answer can make the server do', () => {
    const requests = Array.from({ length: 1000 }, (_, i) => ({
      id: `r${i}${'x'.repeat(500)}`,
      kind: 'diagnostics',
    }));
    const parsed = parseCloudAnswer({ requests });
    expect(parsed.requests).toHaveLength(8);
    expect(parsed.requests![0]!.id.length).toBeLessThanOrEqual(64);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    [undefined, undefined],
    ['120', 120],
    [' 5 ', 5],
    ['999999999', 86_400],
    ['Thu, 01 Jan 2026 00:01:00 GMT', 60],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ])('reads %j as %j seconds', (value, seconds) => {
    expect(retryAfterOf(value, now).retryAfterSeconds).toBe(seconds);
  });
});
