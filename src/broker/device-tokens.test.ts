import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import { issueDeviceToken, verifyDeviceToken } from './device-tokens.js';

describe('device tokens', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-tokens-'));
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a 32-byte base64url token that verifies', async () => {
    const token = await issueDeviceToken(store.deviceCredentials, 'printer-01');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyDeviceToken(store.deviceCredentials, 'printer-01', token)).toBe(true);
  });

  it('stores only a hash of the token', async () => {
    const token = await issueDeviceToken(store.deviceCredentials, 'printer-02');
    const stored = await store.deviceCredentials.get('printer-02');
    expect(stored?.tokenHash).toBeDefined();
    expect(stored?.tokenHash).not.toContain(token);
  });

  it('replaces the old token when re-issued', async () => {
    const first = await issueDeviceToken(store.deviceCredentials, 'printer-03');
    const second = await issueDeviceToken(store.deviceCredentials, 'printer-03');
    expect(second).not.toBe(first);
    expect(await verifyDeviceToken(store.deviceCredentials, 'printer-03', first)).toBe(false);
    expect(await verifyDeviceToken(store.deviceCredentials, 'printer-03', second)).toBe(true);
  });

  it.each([
    ['a wrong token', 'printer-04', 'x'.repeat(43)],
    ['an empty token', 'printer-04', ''],
    ['an oversized token', 'printer-04', 'x'.repeat(10_000)],
    ['an unknown device', 'nobody', 'x'.repeat(43)],
    ['an invalid device id', '../etc', 'x'.repeat(43)],
  ])('refuses %s', async (_name, deviceId, token) => {
    await issueDeviceToken(store.deviceCredentials, 'printer-04');
    expect(await verifyDeviceToken(store.deviceCredentials, deviceId, token)).toBe(false);
  });

  it('does not accept another device token', async () => {
    const a = await issueDeviceToken(store.deviceCredentials, 'printer-05');
    await issueDeviceToken(store.deviceCredentials, 'printer-06');
    expect(await verifyDeviceToken(store.deviceCredentials, 'printer-06', a)).toBe(false);
  });

  it.each(['', 'a/b', '#', 'x'.repeat(65), 'with space'])(
    'refuses to issue a token for the invalid id %j',
    async (id) => {
      await expect(issueDeviceToken(store.deviceCredentials, id)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    },
  );
});
