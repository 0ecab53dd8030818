// Password hashing, verification and policy.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';

const FAST = { logN: 10, r: 8, p: 1 };

describe('passwords', () => {
  it('hashes with scrypt, parameters and salt encoded, and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
  });

  it('verifies hashes made with other parameters', async () => {
    const hash = await hashPassword('another long password', FAST);
    expect(hash.startsWith('scrypt$10$8$1$')).toBe(true);
    expect(await verifyPassword('another long password', hash)).toBe(true);
  });

  it('treats unreadable or hostile hashes as a mismatch, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (encoded) => {
        expect(await verifyPassword('whatever password', encoded)).toBe(false);
      }),
      { numRuns: 200 },
    );
    expect(await verifyPassword('x', 'scrypt$30$8$1$c2FsdA$' + 'A'.repeat(43))).toBe(false);
  });

  it.each([
    ['short', 'user', /at least 12/],
    ['aaaaaaaaaaaaaaaa', 'user', /single character/],
    ['Operator-Anna', 'operator-anna', /user name/],
    ['x'.repeat(1025), 'user', /at most 1024/],
  ])('refuses %s', (password, username, message) => {
    expect(() => checkPasswordPolicy(password, username)).toThrow(message);
  });

  it('accepts a long passphrase', () => {
    expect(() => checkPasswordPolicy('correct horse battery staple', 'admin')).not.toThrow();
  });
});
