import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCcError } from '../domain/index.js';
import { parseProxyTarget } from './request-target.js';

function codeOf(raw: string): string {
  try {
    parseProxyTarget(raw);
    return 'OK';
  } catch (err) {
    return isCcError(err) ? err.code : 'THREW';
  }
}

describe('parseProxyTarget', () => {
  it('parses a device path and keeps the query', () => {
    expect(parseProxyTarget('/devices/printer-01/ws/v1/jobs?since=2026-03-02T08:00:00Z')).toEqual({
      deviceId: 'printer-01',
      segments: ['ws', 'v1', 'jobs'],
      path: '/ws/v1/jobs',
      query: '?since=2026-03-02T08:00:00Z',
    });
  });

  it('decodes segments once and re-encodes them canonically', () => {
    const t = parseProxyTarget('/devices/p%31/ws/v1/st%61tus');
    expect(t.deviceId).toBe('p1');
    expect(t.segments).toEqual(['ws', 'v1', 'status']);
    expect(t.path).toBe('/ws/v1/status');
    expect(parseProxyTarget('/devices/p1/ws/v1/jobs/job%20a/pause').path).toBe(
      '/ws/v1/jobs/job%20a/pause',
    );
  });

  it.each([
    ['absolute form', 'http://evil.example/devices/p1/ws/v1/status'],
    ['absolute https form', 'https://127.0.0.1:443/ws/v1/status'],
    ['authority form', 'evil.example:443'],
    ['asterisk form', '*'],
    ['scheme-relative', '//evil.example/ws/v1/status'],
    ['dot-dot', '/devices/p1/ws/v1/../../p2/ws/v1/status'],
    ['dot-dot at the end', '/devices/p1/ws/v1/status/..'],
    ['dot', '/devices/p1/ws/v1/./status'],
    ['encoded dot-dot', '/devices/p1/ws/v1/%2e%2e/status'],
    ['mixed encoded dot', '/devices/p1/ws/v1/.%2E/status'],
    ['encoded slash', '/devices/p1/ws/v1/jobs%2F..%2Fstatus'],
    ['encoded slash lower case', '/devices/p1%2fws/v1/status'],
    ['encoded backslash', '/devices/p1/ws/v1/%5c..%5cstatus'],
    ['backslash', '/devices/p1/ws/v1\\status'],
    ['double slash', '/devices/p1//ws/v1/status'],
    ['double slash inside', '/devices/p1/ws/v1//status'],
    ['trailing slash', '/devices/p1/ws/v1/status/'],
    ['encoded NUL', '/devices/p1/ws/v1/status%00.json'],
    ['raw NUL', '/devices/p1/ws/v1/status\u0000'],
    ['encoded newline', '/devices/p1/ws/v1/status%0d%0aX-Injected:%201'],
    ['double encoding', '/devices/p1/ws/v1/%252e%252e/status'],
    ['malformed escape', '/devices/p1/ws/v1/sta%zztus'],
    ['truncated escape', '/devices/p1/ws/v1/status%2'],
    ['invalid UTF-8', '/devices/p1/ws/v1/%C0%AE%C0%AE'],
    ['C1 control', '/devices/p1/ws/v1/%C2%85'],
    ['fullwidth dots', '/devices/p1/ws/v1/%EF%BC%8E%EF%BC%8E/status'],
    ['encoded non-ASCII', '/devices/p1/ws/v1/st%C3%A4tus'],
    ['fragment', '/devices/p1/ws/v1/status#x'],
    ['space', '/devices/p1/ws/v1/st atus'],
    ['non-ASCII', '/devices/p1/ws/v1/stätus'],
    ['empty', ''],
    ['too long', `/devices/p1/ws/v1/${'a'.repeat(5000)}`],
  ])('refuses %s with 400 PROXY_BAD_TARGET', (_name, raw) => {
    expect(codeOf(raw)).toBe('PROXY_BAD_TARGET');
  });

  it.each([
    ['/'],
    ['/devices'],
    ['/devices/p1'],
    ['/devices/p1/ws'],
    ['/devices/p1/ws/v1'],
    ['/devices/p1/ws/v2/status'],
    ['/api/v1/devices'],
    ['/ws/v1/status'],
    ['/DEVICES/p1/ws/v1/status'],
  ])('answers %s with 404 ROUTE_NOT_FOUND', (raw) => {
    expect(codeOf(raw)).toBe('ROUTE_NOT_FOUND');
  });

  it('never yields a path a device could resolve differently (property)', () => {
    const piece = fc.constantFrom(
      'a',
      'status',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%25',
      '%00',
      '/',
      '//',
      '\\',
      '%',
      '%41',
      '?',
      '#',
      ' ',
      'é',
      '%C3%A9',
      '~',
      '-',
      '_',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const raw = `/devices/p1/ws/v1/${pieces.join('')}`;
        let target;
        try {
          target = parseProxyTarget(raw);
        } catch (err) {
          expect(isCcError(err)).toBe(true);
          return;
        }
        for (const segment of target.segments) {
          expect(segment).not.toBe('');
          expect(segment).not.toBe('.');
          expect(segment).not.toBe('..');
          expect(segment).not.toMatch(/[/\\\u0000]/);
        }
        expect(target.segments.slice(0, 2)).toEqual(['ws', 'v1']);
        // Normalising is idempotent: the device path parses back to itself.
        expect(parseProxyTarget(`/devices/p1${target.path}`).path).toBe(target.path);
        expect(target.path.split('/').slice(1).map(decodeURIComponent)).toEqual(target.segments);
      }),
      { numRuns: 2000 },
    );
  });
});
