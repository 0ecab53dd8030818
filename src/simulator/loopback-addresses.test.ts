import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressAt, formatIpv4, parseIpv4 } from './loopback-addresses.js';

describe('device addresses', () => {
  it.each([
    ['127.0.0.11', 0, '127.0.0.11'],
    ['127.0.0.11', 1, '127.0.0.12'],
    ['127.0.0.253', 1, '127.0.0.254'],
    ['127.0.0.253', 2, '127.0.1.1'],
    ['127.0.0.254', 1, '127.0.1.1'],
    ['127.0.0.0', 0, '127.0.0.1'],
    ['127.0.0.255', 0, '127.0.1.1'],
    ['127.0.0.11', 254, '127.0.1.11'],
    ['127.0.0.11', 999, '127.0.3.248'],
    ['127.0.255.254', 1, '127.1.0.1'],
  ])('counts %s + %i → %s, skipping .0 and .255', (first, index, expected) => {
    expect(addressAt(first, index)).toBe(expected);
  });

  it.each(['localhost', '::1', '127.0.0', '127.0.0.256', '127.000.0.1', '', ' 127.0.0.1'])(
    'refuses %j as the first address',
    (first) => {
      expect(() => addressAt(first, 0)).toThrow(/not an IPv4 address/);
    },
  );

  it('refuses a block that runs past the address space', () => {
    expect(() => addressAt('255.255.255.250', 10)).toThrow(RangeError);
    expect(() => addressAt('127.0.0.1', -1)).toThrow(RangeError);
  });

  it('gives distinct, increasing, usable addresses', () => {
    fc.assert(
      fc.property(
        fc.ipV4().filter((a) => !a.startsWith('255.')),
        fc.nat(5000),
        (first, index) => {
          const a = parseIpv4(addressAt(first, index));
          const b = parseIpv4(addressAt(first, index + 1));
          expect(b).toBeGreaterThan(a);
          expect([0, 255]).not.toContain(b % 256);
          expect(formatIpv4(a)).toBe(addressAt(first, index));
        },
      ),
    );
  });
});
