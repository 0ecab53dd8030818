import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidNoProxyEntries, matchesNoProxy } from './no-proxy.js';

describe('matchesNoProxy', () => {
  const cases: [string, number, string, boolean][] = [
    // host, port, NO_PROXY, bypasses the proxy
    ['cloud.example.com', 443, '', false],
    ['cloud.example.com', 443, '*', true],
    ['10.1.2.3', 443, '*', true],
    ['example.com', 443, 'example.com', true],
    ['cloud.example.com', 443, 'example.com', true],
    ['a.b.example.com', 443, 'example.com', true],
    ['example.com', 443, '.example.com', true],
    ['cloud.example.com', 443, '.example.com', true],
    ['cloud.example.com', 443, '*.example.com', true],
    ['notexample.com', 443, 'example.com', false],
    ['notexample.com', 443, '.example.com', false],
    ['example.com.evil.net', 443, 'example.com', false],
    ['CLOUD.Example.COM', 443, 'example.com', true],
    ['cloud.example.com', 443, 'EXAMPLE.COM', true],
    ['cloud.example.com.', 443, 'example.com', true],
    ['cloud.example.com', 443, 'example.com.', true],
    ['cloud.example.com', 443, 'other.net,example.com', true],
    ['cloud.example.com', 443, 'other.net example.com', true],
    ['cloud.example.com', 443, ' other.net ,\texample.com ', true],
    ['cloud.example.com', 443, 'other.net,,', false],
    ['cloud.example.com', 443, 'example.com:443', true],
    ['cloud.example.com', 8443, 'example.com:443', false],
    ['cloud.example.com', 8443, 'example.com:8443', true],
    ['10.1.2.3', 443, '10.1.2.3', true],
    ['10.1.2.4', 443, '10.1.2.3', false],
    ['10.1.2.3', 443, '10.0.0.0/8', true],
    ['11.1.2.3', 443, '10.0.0.0/8', false],
    ['192.168.1.77', 443, '192.168.1.0/24', true],
    ['192.168.2.1', 443, '192.168.1.0/24', false],
    ['10.1.2.3', 443, '10.0.0.0/8:443', true],
    ['10.1.2.3', 8443, '10.0.0.0/8:443', false],
    ['10.1.2.3', 443, '10.1.2.3:443', true],
    ['10.1.2.3', 80, '10.1.2.3:443', false],
    ['10.1.2.3', 443, '0.0.0.0/0', true],
    // Names are never resolved, and an IP entry never matches a name or a suffix of an address.
    ['localhost', 443, '127.0.0.1', false],
    ['127.0.0.1', 443, 'localhost', false],
    ['10.0.0.1', 443, '0.0.1', false],
    ['[::1]', 443, '::1', true],
    ['::1', 443, '[::1]', true],
    ['[::1]', 443, '[::1]:443', true],
    ['[::1]', 8443, '[::1]:443', false],
    ['[2001:db8::42]', 443, '2001:db8::/32', true],
    ['[2001:db9::42]', 443, '2001:db8::/32', false],
    ['[2001:db8:0:0:0:0:0:42]', 443, '2001:db8::42', true],
    // An IPv4-mapped IPv6 address is the IPv4 address.
    ['[::ffff:10.0.0.1]', 443, '10.0.0.0/8', true],
    // Malformed entries match nothing and do not spoil the others.
    ['cloud.example.com', 443, '10.0.0.0/99,example.com', true],
    ['10.1.2.3', 443, '10.0.0.0/33', false],
    ['cloud.example.com', 443, 'example.com:99999', false],
    ['cloud.example.com', 443, 'example.com:', false],
    ['cloud.example.com', 443, '[::1', false],
    ['cloud.example.com', 443, '.', false],
    ['cloud.example.com', 443, 'ex*le.com', false],
  ];

  it.each(cases)(
    '%s:%i with NO_PROXY=%j bypasses the proxy: %s',
    (host, port, noProxy, expected) => {
      expect(matchesNoProxy(host, port, noProxy)).toBe(expected);
    },
  );

  it('names the malformed entries of a setting', () => {
    expect(invalidNoProxyEntries('example.com, 10.0.0.0/99 ,[::1,ok.net:70000,*')).toEqual([
      '10.0.0.0/99',
      '[::1',
      'ok.net:70000',
    ]);
  });

  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  // Names only: an all-numeric name such as 1.2.3.4 is an IP literal, which matches itself only.
  const domain = fc
    .array(label, { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join('.'))
    .filter((name) => !/^[\d.]+$/.test(name));
  const port = fc.integer({ min: 1, max: 65_535 });

  it('matches a domain and every subdomain, in any case and with either spelling', () => {
    fc.assert(
      fc.property(
        domain,
        fc.array(label, { maxLength: 3 }),
        port,
        fc.constantFrom('', '.', '*.'),
        (name, sub, p, prefix) => {
          const host = [...sub, name].join('.');
          const mixed = host
            .split('')
            .map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c))
            .join('');
          return matchesNoProxy(mixed, p, `${prefix}${name}`);
        },
      ),
    );
  });

  it('never matches a name that only ends with the entry without a dot boundary', () => {
    fc.assert(
      fc.property(label, domain, port, (glued, name, p) => {
        return !matchesNoProxy(`${glued}${name}`, p, name) || `${glued}${name}` === name;
      }),
    );
  });

  it('places every IPv4 address inside its own CIDR block and outside the neighbouring one', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 32 }), (address, bits) => {
        const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
        const size = 2 ** (32 - bits);
        const base = value - (value % size);
        const text = (n: number): string =>
          [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
        const neighbour = (base + size) % 2 ** 32;
        return (
          matchesNoProxy(address, 443, `${text(base)}/${bits}`) &&
          !matchesNoProxy(text(neighbour), 443, `${text(base)}/${bits}`)
        );
      }),
    );
  });

  it('never throws, whatever the setting', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), port, (host, noProxy, p) => {
        return typeof matchesNoProxy(host, p, noProxy) === 'boolean';
      }),
    );
  });
});
