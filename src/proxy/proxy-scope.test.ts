import { describe, expect, it } from 'vitest';
import { isCcError } from '../domain/index.js';
import {
  assertInScope,
  isForwardedMethod,
  methodInScope,
  pathInScope,
  prefixSegments,
} from './proxy-scope.js';

const seg = (path: string) => path.slice(1).split('/');

describe('proxy scope', () => {
  it.each([
    ['/ws/v1/status', '/ws/v1/status', true],
    ['/ws/v1/status/x', '/ws/v1/status', true],
    ['/ws/v1/statusx', '/ws/v1/status', false],
    ['/ws/v1/stat', '/ws/v1/status', false],
    ['/ws/v1/jobs/j1/pause', '/ws/v1/jobs', true],
    ['/ws/v1/jobs/j1/pause', '/ws/v1/jobs/', true],
    ['/ws/v1/alerts', '/ws/v1/jobs', false],
    ['/ws/v1/anything', '/ws/v1', true],
    ['/ws/v1/anything', '/ws/v1/', true],
    ['/ws/v1/Status', '/ws/v1/status', false],
    ['/ws/v1/status', '/ws/v1/status/..', false],
    ['/ws/v1/status', '/ws/v1/./status', false],
    ['/ws/v1/status', '/ws/v1//status', false],
    ['/ws/v1/status', 'ws/v1/status', false],
    ['/ws/v1/status', '/ws/v2', false],
    ['/ws/v1/status', '/', false],
    ['/ws/v1/status', '', false],
  ])('%s under prefix %s: %s', (path, prefix, expected) => {
    expect(pathInScope(seg(path), [prefix])).toBe(expected);
  });

  it('treats malformed prefixes as matching nothing', () => {
    expect(prefixSegments('/ws/v1/%2e%2e')).toBeNull();
    expect(prefixSegments('/ws/v1/a b')).toBeNull();
    expect(prefixSegments('/ws/v1/a\\b')).toBeNull();
    expect(prefixSegments('/ws/v1/status')).toEqual(['ws', 'v1', 'status']);
  });

  it('allows HEAD where GET is allowed, and nothing else implicitly', () => {
    expect(methodInScope('HEAD', ['GET'])).toBe(true);
    expect(methodInScope('GET', ['HEAD'])).toBe(false);
    expect(methodInScope('POST', ['GET'])).toBe(false);
    expect(methodInScope('POST', ['GET', 'POST'])).toBe(true);
    expect(isForwardedMethod('OPTIONS')).toBe(false);
    expect(isForwardedMethod('TRACE')).toBe(false);
    expect(isForwardedMethod('CONNECT')).toBe(false);
    expect(isForwardedMethod('get')).toBe(false);
  });

  it('names which part of the scope refuses', () => {
    const scope = { devices: ['p1'], methods: ['GET'], paths: ['/ws/v1/status'] };
    const code = (call: Parameters<typeof assertInScope>[1]) => {
      try {
        assertInScope(scope, call);
        return 'OK';
      } catch (err) {
        return isCcError(err) ? err.code : 'THREW';
      }
    };
    expect(code({ deviceId: 'p1', method: 'GET', segments: seg('/ws/v1/status') })).toBe('OK');
    expect(code({ deviceId: 'p2', method: 'GET', segments: seg('/ws/v1/status') })).toBe(
      'PROXY_DEVICE_FORBIDDEN',
    );
    expect(code({ deviceId: 'p1', method: 'POST', segments: seg('/ws/v1/status') })).toBe(
      'PROXY_METHOD_FORBIDDEN',
    );
    expect(code({ deviceId: 'p1', method: 'GET', segments: seg('/ws/v1/jobs') })).toBe(
      'PROXY_PATH_FORBIDDEN',
    );
    expect(code({ deviceId: 'anything', method: 'GET', segments: seg('/ws/v1/status') })).toBe(
      'PROXY_DEVICE_FORBIDDEN',
    );
    const all = { ...scope, devices: null };
    expect(
      assertInScope(all, { deviceId: 'x', method: 'GET', segments: seg('/ws/v1/status') }),
    ).toBe(undefined);
  });
});
