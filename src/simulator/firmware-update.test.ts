// Firmware updates on simulated devices over their real HTTPS Web Services: a device takes a signed
// package, reports `updating` (on Web Services and MQTT) and then its new version; it verifies every
// package itself with its own vendor key and refuses forgeries, rollbacks and oversized packages
// with the failed check's reason, one update at a time.

import { createHash } from 'node:crypto';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBroker, issueDeviceToken, type EmbeddedBroker } from '../broker/index.js';
import type { WsFirmwareStatus } from '../domain/index.js';
import { silentLogger, createMetricsRegistry } from '../observability/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import {
  createFirmwareKit,
  flipImageByte,
  rewriteVersion,
  truncate,
  type FirmwareKit,
} from './firmware-test-harness.js';
import { createSimulator, type Simulator } from './simulator.js';
import type { VirtualDevice } from './virtual-device.js';

const PASSWORD = 'device-secret-123';
/** A loopback block of this file's own, so parallel test files never share an address. */
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

interface Answer {
  status: number;
  body: unknown;
}

/** One HTTPS request to a device; `body` is sent as it comes (a Buffer, or chunks over time). */
function call(
  baseUrl: string,
  path: string,
  options: {
    method?: string;
    auth?: string | null;
    body?: Buffer | ((write: (chunk: Buffer) => void, end: () => void) => void);
    length?: number;
    contentType?: string;
  } = {},
): Promise<Answer> {
  const auth = options.auth === undefined ? `admin:${PASSWORD}` : options.auth;
  const body = options.body;
  const length = options.length ?? (Buffer.isBuffer(body) ? body.length : undefined);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, baseUrl),
      {
        method: options.method ?? 'GET',
        agent: false,
        rejectUnauthorized: false,
        headers: {
          ...(auth !== null
            ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` }
            : {}),
          ...(length !== undefined ? { 'content-length': length } : {}),
          ...(body !== undefined
            ? { 'content-type': options.contentType ?? 'application/octet-stream' }
            : {}),
        },
        signal: AbortSignal.timeout(10_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    if (typeof body === 'function') {
      body(
        (chunk) => req.write(chunk),
        () => req.end(),
      );
    } else {
      req.end(body);
    }
  });
}

async function upload(baseUrl: string, file: string): Promise<Answer> {
  return call(baseUrl, '/ws/v1/firmware', { method: 'POST', body: await readFile(file) });
}

async function firmwareStatus(baseUrl: string): Promise<WsFirmwareStatus> {
  const answer = await call(baseUrl, '/ws/v1/firmware/status');
  expect(answer.status).toBe(200);
  return answer.body as WsFirmwareStatus;
}

/** Follows the firmware status until `done` says so; returns every distinct state seen, in order. */
async function follow(
  baseUrl: string,
  done: (s: WsFirmwareStatus) => boolean,
  timeoutMs = 10_000,
): Promise<{ last: WsFirmwareStatus; states: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const states: string[] = [];
  for (;;) {
    const status = await firmwareStatus(baseUrl);
    if (states.at(-1) !== status.state) states.push(status.state);
    if (done(status)) return { last: status, states };
    if (Date.now() > deadline) {
      throw new Error(`timed out; last status ${JSON.stringify(status)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const settled = (s: WsFirmwareStatus) => s.state === 'idle' || s.state === 'failed';

describe('firmware updates on simulated devices', () => {
  let kit: FirmwareKit;
  let tempDir: string;
  let dataDir: string;
  let store: Store;
  let broker: EmbeddedBroker;
  let fleet: Simulator;
  let keyless: Simulator;
  const device = (id: string): VirtualDevice => fleet.devices().find((d) => d.id === id)!;
  const url = (id: string): string => device(id).webServicesUrl!;
  const modelOf = (id: string) => device(id).model.identity.model;
  const versionOf = (id: string) => device(id).model.identity.firmwareVersion;
  const states: { deviceId: string; state: string; firmwareVersion: string }[] = [];

  beforeAll(async () => {
    kit = await createFirmwareKit();
    tempDir = await mkdtemp(join(tmpdir(), 'cc-fw-device-'));
    dataDir = await mkdtemp(join(tmpdir(), 'cc-fw-broker-'));
    store = await createSqliteStore({ file: join(dataDir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    broker = createEmbeddedBroker(
      {
        logger: silentLogger(),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        credentials: store.deviceCredentials,
        ingest: {
          handle(deviceId, channel, payload) {
            if (channel === 'state') {
              const s = JSON.parse(payload.toString('utf8')) as {
                state: string;
                firmwareVersion: string;
              };
              states.push({ deviceId, state: s.state, firmwareVersion: s.firmwareVersion });
            }
            return Promise.resolve({ accepted: true });
          },
        },
      },
      { host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024, keepaliveLimitSeconds: 120 },
    );
    await broker.start();
    const ids = ['fw-01', 'fw-02', 'fw-03', 'fw-04', 'fw-05', 'fw-06'];
    const devices = [];
    for (const id of ids) {
      devices.push({
        id,
        kind: 'printer' as const,
        token: await issueDeviceToken(store.deviceCredentials, id),
      });
    }
    fleet = createSimulator({
      brokerUrl: `mqtt://127.0.0.1:${broker.address().port}`,
      devices,
      channels: 'both',
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: PASSWORD },
      firmware: {
        vendorKeys: [kit.vendor.key],
        installMs: 400,
        maxBytes: 256 * 1024,
        failInstall: ['fw-06'],
        tempDir,
      },
      logger: silentLogger(),
      telemetryIntervalMs: 1000,
      seed: 7,
    });
    keyless = createSimulator({
      devices: [{ id: 'nokey-01', token: '', kind: 'printer' }],
      channels: 'web-services',
      webServices: { firstAddress: `${BLOCK}.31`, port: 0, password: PASSWORD },
      logger: silentLogger(),
      firmware: { tempDir },
    });
    await fleet.start();
    await keyless.start();
  });

  afterAll(async () => {
    await fleet.stop();
    await keyless.stop();
    await broker.stop();
    await store.close();
    await kit.cleanup();
    await rm(tempDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('installs a good package: 202, verifying, installing while `updating`, then the new version', async () => {
    const before = versionOf('fw-01');
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fw-01')] });
    const accepted = await upload(url('fw-01'), file);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ accepted: true });
    const { last, states: seen } = await follow(url('fw-01'), (s) => {
      if (s.state === 'installing') expect(s.progress).toBeGreaterThanOrEqual(0);
      return settled(s);
    });
    expect(seen).toEqual(expect.arrayContaining(['installing', 'idle']));
    expect(seen.indexOf('installing')).toBeLessThan(seen.indexOf('idle'));
    expect(last).toMatchObject({
      state: 'idle',
      firmwareVersion: '5.0.0',
      message: 'installed 5.0.0',
      progress: null,
      code: null,
    });
    const identity = (await call(url('fw-01'), '/ws/v1/identity')).body as {
      firmwareVersion: string;
    };
    expect(identity.firmwareVersion).toBe('5.0.0');
    // Over MQTT: `updating` from the old version, then the new version.
    const mine = states.filter((s) => s.deviceId === 'fw-01');
    const updating = mine.findIndex((s) => s.state === 'updating');
    expect(updating).toBeGreaterThanOrEqual(0);
    expect(mine[updating]?.firmwareVersion).toBe(before);
    expect(
      mine.slice(updating).some((s) => s.state !== 'updating' && s.firmwareVersion === '5.0.0'),
    ).toBe(true);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('reports `updating` as the device state over Web Services while it installs', async () => {
    const file = await kit.pack({ version: '5.1.0', models: [modelOf('fw-01')] });
    expect((await upload(url('fw-01'), file)).status).toBe(202);
    await follow(url('fw-01'), (s) => s.state === 'installing');
    const status = (await call(url('fw-01'), '/ws/v1/status')).body as { state: string };
    expect(status.state).toBe('updating');
    const paused = await call(url('fw-01'), '/ws/v1/jobs/any-job/pause', { method: 'POST' });
    expect([404, 409]).toContain(paused.status);
    const { last } = await follow(url('fw-01'), settled);
    expect(last.firmwareVersion).toBe('5.1.0');
    const after = (await call(url('fw-01'), '/ws/v1/status')).body as { state: string };
    expect(after.state).not.toBe('updating');
  });

  const forgeries: [string, (id: string) => Promise<string>, string, RegExp][] = [
    [
      'an unsigned package',
      (id) => kit.pack({ version: '6.0.0', models: [modelOf(id)], signer: 'none' }),
      'FIRMWARE_SIGNATURE_INVALID',
      /^signature: missing/,
    ],
    [
      'a package signed by a key the device does not know',
      (id) => kit.pack({ version: '6.0.0', models: [modelOf(id)], signer: 'stranger' }),
      'FIRMWARE_SIGNATURE_INVALID',
      /^signature: none of 1 signature verifies/,
    ],
    [
      'a signed manifest changed afterwards',
      async (id) =>
        kit.forge(
          await kit.pack({ version: '6.0.0', models: [modelOf(id)] }),
          rewriteVersion('6.0.0', '9.0.0'),
        ),
      'FIRMWARE_SIGNATURE_INVALID',
      /^signature: .*changed after signing/,
    ],
    [
      'a tampered image',
      async (id) =>
        kit.forge(await kit.pack({ version: '6.0.0', models: [modelOf(id)] }), flipImageByte),
      'FIRMWARE_IMAGE_MISMATCH',
      /^image-hash: the image's sha256 is/,
    ],
    [
      'a package for another model',
      () => kit.pack({ version: '6.0.0', models: ['Fusion P9'] }),
      'FIRMWARE_MODEL_MISMATCH',
      /^model: the package is for Fusion P9, not for "Fusion P/,
    ],
    [
      'an expired package',
      (id) =>
        kit.pack({
          version: '6.0.0',
          models: [modelOf(id)],
          releasedAt: '2020-01-01T00:00:00Z',
          expiresAt: '2021-01-01T00:00:00Z',
        }),
      'FIRMWARE_EXPIRED',
      /^expiry: the manifest expired at 2021-01-01T00:00:00Z/,
    ],
    [
      'an older version (rollback)',
      (id) => kit.pack({ version: '4.0.0', models: [modelOf(id)] }),
      'FIRMWARE_ROLLBACK',
      /^version: 4\.0\.0 is older than the installed 4\.\d\.\d: refused as a rollback/,
    ],
    [
      'the installed version again',
      (id) => kit.pack({ version: versionOf(id), models: [modelOf(id)] }),
      'FIRMWARE_ROLLBACK',
      /^version: .* is the same as the installed/,
    ],
    [
      'a truncated package',
      async (id) =>
        kit.forge(await kit.pack({ version: '6.0.0', models: [modelOf(id)] }), truncate),
      'FIRMWARE_PACKAGE_INVALID',
      /^package-format: .*(truncated|cut|end)/i,
    ],
    [
      'bytes that are not a package',
      async (id) =>
        kit.forge(await kit.pack({ version: '6.0.0', models: [modelOf(id)] }), (b) =>
          createHash('sha512').update(b).digest(),
        ),
      'FIRMWARE_PACKAGE_INVALID',
      /^package-format: /,
    ],
  ];

  it.each(forgeries)(
    'refuses %s with the reason, keeping its version',
    async (_what, make, code, reason) => {
      const before = versionOf('fw-02');
      const file = await make('fw-02');
      const answer = await upload(url('fw-02'), file);
      expect(answer.status).toBe(202);
      const { last, states: seen } = await follow(url('fw-02'), settled);
      expect(seen).not.toContain('installing');
      expect(last).toMatchObject({
        state: 'failed',
        code,
        firmwareVersion: before,
        progress: null,
      });
      expect(last.message).toMatch(reason);
      expect(versionOf('fw-02')).toBe(before);
      expect(await readdir(tempDir)).toEqual([]);
    },
  );

  it('refuses a package over its size limit, announced or streamed', async () => {
    const big = await kit.pack({
      version: '6.0.0',
      models: [modelOf('fw-03')],
      imageBytes: 300_000,
    });
    const announced = await upload(url('fw-03'), big);
    expect(announced.status).toBe(413);
    expect(announced.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const after = await firmwareStatus(url('fw-03'));
    expect(after).toMatchObject({ state: 'failed', code: 'FIRMWARE_TOO_LARGE' });
    expect(after.message).toMatch(
      /^package-format: the package is \d+ bytes; this device accepts at most 262144/,
    );

    const bytes = await readFile(big);
    const streamed = await call(url('fw-03'), '/ws/v1/firmware', {
      method: 'POST',
      body: (write, end) => {
        for (let at = 0; at < bytes.length; at += 16_384) write(bytes.subarray(at, at + 16_384));
        end();
      },
    });
    expect(streamed.status).toBe(413);
    expect((await firmwareStatus(url('fw-03'))).message).toMatch(/larger than the 262144 bytes/);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('installs an older version when the signed manifest allows a downgrade', async () => {
    const file = await kit.pack({
      version: '4.0.0',
      models: [modelOf('fw-03')],
      allowDowngrade: true,
    });
    expect((await upload(url('fw-03'), file)).status).toBe(202);
    const { last } = await follow(url('fw-03'), settled);
    expect(last).toMatchObject({
      state: 'idle',
      firmwareVersion: '4.0.0',
      message: 'installed 4.0.0',
    });
  });

  it('takes one update at a time: 409 while receiving or installing', async () => {
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fw-04')] });
    const bytes = await readFile(file);
    let finish: () => void = () => undefined;
    const first = call(url('fw-04'), '/ws/v1/firmware', {
      method: 'POST',
      length: bytes.length,
      body: (write, end) => {
        write(bytes.subarray(0, 4096));
        finish = () => {
          write(bytes.subarray(4096));
          end();
        };
      },
    });
    await follow(url('fw-04'), (s) => s.state === 'receiving');
    const whileReceiving = await upload(url('fw-04'), file);
    expect(whileReceiving.status).toBe(409);
    expect(whileReceiving.body).toMatchObject({
      error: {
        code: 'REJECTED',
        message: expect.stringMatching(/already in progress \(receiving/) as unknown,
      },
    });
    finish();
    expect((await first).status).toBe(202);
    await follow(url('fw-04'), (s) => s.state === 'installing');
    const whileInstalling = await upload(url('fw-04'), file);
    expect(whileInstalling.status).toBe(409);
    expect((whileInstalling.body as { error: { message: string } }).error.message).toMatch(
      /installing 5\.0\.0/,
    );
    const { last } = await follow(url('fw-04'), settled);
    expect(last).toMatchObject({ state: 'idle', firmwareVersion: '5.0.0' });
  });

  it('reports an interrupted transfer and cleans up', async () => {
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fw-05')] });
    const bytes = await readFile(file);
    await new Promise<void>((resolve) => {
      const req = httpsRequest(new URL('/ws/v1/firmware', url('fw-05')), {
        method: 'POST',
        agent: false,
        rejectUnauthorized: false,
        headers: {
          authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`,
          'content-type': 'application/octet-stream',
          'content-length': bytes.length,
        },
      });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, 8192), () => {
        setTimeout(() => req.destroy(), 50);
      });
    });
    const { last } = await follow(url('fw-05'), (s) => s.state === 'failed');
    expect(last.code).toBe('FIRMWARE_TRANSFER_FAILED');
    expect(last.message).toMatch(/^the transfer was interrupted after \d+ of \d+ bytes/);
    expect(await readdir(tempDir)).toEqual([]);
    // The device takes the next one.
    expect((await upload(url('fw-05'), file)).status).toBe(202);
    expect((await follow(url('fw-05'), settled)).last.state).toBe('idle');
  });

  it('fails installation on a device set to fail, keeping the old version', async () => {
    const before = versionOf('fw-06');
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fw-06')] });
    expect((await upload(url('fw-06'), file)).status).toBe(202);
    const { last, states: seen } = await follow(url('fw-06'), settled);
    expect(seen).toContain('installing');
    expect(last).toMatchObject({
      state: 'failed',
      code: 'FIRMWARE_INSTALL_FAILED',
      message: 'installation failed: flash write error',
      firmwareVersion: before,
    });
    const status = (await call(url('fw-06'), '/ws/v1/status')).body as { state: string };
    expect(status.state).not.toBe('updating');
  });

  it('refuses every package without a vendor key installed', async () => {
    const base = keyless.devices()[0]!.webServicesUrl!;
    const model = keyless.devices()[0]!.model.identity.model;
    const file = await kit.pack({ version: '6.0.0', models: [model] });
    expect((await upload(base, file)).status).toBe(202);
    const { last } = await follow(base, settled);
    expect(last).toMatchObject({
      state: 'failed',
      code: 'FIRMWARE_KEY_UNTRUSTED',
      message: 'no vendor key installed',
    });
  });

  it.each([
    ['no credential', 401, 'UNAUTHORIZED', { auth: null }],
    ['a wrong password', 401, 'UNAUTHORIZED', { auth: 'admin:nope' }],
    ['another media type', 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'application/json' }],
    ['GET', 405, 'METHOD_NOT_ALLOWED', { method: 'GET', body: undefined }],
  ] as const)(
    'answers an upload with %s by %i %s, before reading it',
    async (_what, status, code, options) => {
      const before = await firmwareStatus(url('fw-05'));
      const answer = await call(url('fw-05'), '/ws/v1/firmware', {
        method: 'POST',
        body: Buffer.alloc(1024),
        ...options,
      });
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ error: { code } });
      expect(await firmwareStatus(url('fw-05'))).toMatchObject({
        state: before.state,
        message: before.message,
      });
    },
  );
});
