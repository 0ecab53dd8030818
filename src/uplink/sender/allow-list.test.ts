import { describe, expect, it } from 'vitest';
import { invalidAllowPatterns, isAllowed } from './allow-list.js';

describe('the endpoint allow-list', () => {
  const cases: [string, string[], boolean][] = [
    // target, allow-list, allowed
    ['https://cloud.example.com/r', ['cloud.example.com'], true],
    ['https://cloud.example.com:443/r', ['cloud.example.com'], true],
    ['https://cloud.example.com:8443/r', ['cloud.example.com'], false],
    ['https://cloud.example.com:8443/r', ['cloud.example.com:8443'], true],
    ['https://cloud.example.com/r', ['cloud.example.com:8443'], false],
    ['https://CLOUD.example.com./r', ['cloud.EXAMPLE.com'], true],
    ['https://evil.com/r', ['cloud.example.com'], false],
    ['https://cloud.example.com.evil.com/r', ['cloud.example.com'], false],
    ['https://eu.cloud.example.com/r', ['*.cloud.example.com'], true],
    ['https://a.b.cloud.example.com/r', ['*.cloud.example.com'], true],
    ['https://cloud.example.com/r', ['*.cloud.example.com'], false],
    ['https://evilcloud.example.com/r', ['*.cloud.example.com'], false],
    ['https://eu.cloud.example.com:9443/r', ['*.cloud.example.com:9443'], true],
    ['https://eu.cloud.example.com/r', ['*.cloud.example.com:9443'], false],
    ['https://127.0.0.1:8443/r', ['127.0.0.1:8443'], true],
    ['https://127.0.0.1:8444/r', ['127.0.0.1:8443'], false],
    ['https://[::1]:8443/r', ['[::1]:8443'], true],
    ['https://[::1]/r', ['::1'], true],
    ['https://[::1]/r', ['[0:0:0:0:0:0:0:1]'], true],
    ['https://10.0.0.1/r', ['*.0.0.1'], false],
    ['https://cloud.example.com/r', [], false],
    ['https://cloud.example.com/r', ['*', 'cloud.*', '*.com.*'], false],
  ];

  it.each(cases)('%s with %j is allowed: %s', (target, allow, expected) => {
    expect(isAllowed(new URL(target), allow)).toBe(expected);
  });

  it('names the entries that are not host patterns', () => {
    expect(
      invalidAllowPatterns([
        'cloud.example.com',
        '*.example.com:8443',
        '[::1]:443',
        '*',
        'https://cloud.example.com',
        'cloud.example.com:0',
        'a b',
        '*.10.0.0.1',
      ]),
    ).toEqual(['*', 'https://cloud.example.com', 'cloud.example.com:0', 'a b', '*.10.0.0.1']);
  });
});
