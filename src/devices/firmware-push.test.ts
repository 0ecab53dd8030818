// Pushing firmware to real simulated devices over real TLS on loopback, through the real registry
// (certificate pinning, sealed credential): installed with progress in order, refused with the
// device's own reason, unregistered or unapproved devices and changed certificates refused before
// anything is sent, an injected installation failure, and a deadline that holds.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../auth/index.js';
import { FleetState, isCcError, type CcError } from '../domain/index.js';
import { silentLogger } from '../observability/index.js';
import {
  createFirmwareKit,
  flipImageByte,
  type FirmwareKit,
} from '../simulator/firmware-test-harness.js';
import { createSimulator, type Simulator, type VirtualDevice } from '../simulator/index.js';
import { createSqliteStore, type Store } from '../store/index.js';
import {
  createFirmwarePush,
  type FirmwarePushProgress,
  type FirmwarePushService,
} from './firmware-push.js';
import { createDeviceRegistry, SYSTEM_ACTOR, type DeviceRegistry } from './registry.js';
import { createWsClient, type WsClient } from './ws-client.js';

const PASSWORD = 'device-secret-123';
const BLOCK = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

async function failure(p: Promise<unknown>): Promise<CcError> {
  try {
    await p;
  } catch (err) {
    if (isCcError(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('pushing firmware to a device', () => {
  let kit: FirmwareKit;
  let dataDir: string;
  let store: Store;
  let client: WsClient;
  let registry: DeviceRegistry;
  let pusher: FirmwarePushService;
  let fleet: Simulator;
  let slow: Simulator;
  const device = (id: string): VirtualDevice =>
    [...fleet.devices(), ...slow.devices()].find((d) => d.id === id)!;
  const modelOf = (id: string) => device(id).model.identity.model;

  async function register(id: string, pin = true): Promise<void> {
    const d = device(id);
    await registry.add(
      {
        url: d.webServicesUrl!,
        username: 'admin',
        password: PASSWORD,
        ...(pin ? { fingerprint: d.certificateFingerprint! } : {}),
      },
      SYSTEM_ACTOR,
    );
  }

  beforeAll(async () => {
    kit = await createFirmwareKit();
    dataDir = await mkdtemp(join(tmpdir(), 'cc-fw-push-'));
    store = await createSqliteStore({ file: join(dataDir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    const state = new FleetState({ devices: [], activeJobs: [], consumables: [], openAlerts: [] });
    client = createWsClient({
      timeoutMs: 2000,
      maxResponseBytes: 256 * 1024,
      connectionsPerDevice: 2,
      keepAliveMs: 10_000,
      logger: silentLogger(),
    });
    registry = createDeviceRegistry({
      store,
      fleet: {
        mutate: (change) => {
          change(state);
          return Promise.resolve();
        },
      },
      client,
      secrets: createSecretBox(randomBytes(32)),
      logger: silentLogger(),
    });
    pusher = createFirmwarePush({
      registry,
      client,
      logger: silentLogger(),
      connectTimeoutMs: 2000,
      pollIntervalMs: 20,
    });
    const common = {
      channels: 'web-services' as const,
      logger: silentLogger(),
      telemetryIntervalMs: 1000,
    };
    fleet = createSimulator({
      ...common,
      devices: ['fp-01', 'fp-02', 'fp-03', 'fp-04', 'fp-05'].map((id) => ({
        id,
        token: '',
        kind: 'printer' as const,
      })),
      webServices: { firstAddress: `${BLOCK}.11`, port: 0, password: PASSWORD },
      firmware: { vendorKeys: [kit.vendor.key], installMs: 300, failInstall: ['fp-03'] },
    });
    slow = createSimulator({
      ...common,
      devices: [{ id: 'fp-slow', token: '', kind: 'printer' }],
      webServices: { firstAddress: `${BLOCK}.31`, port: 0, password: PASSWORD },
      firmware: { vendorKeys: [kit.vendor.key], installMs: 20_000 },
    });
    await fleet.start();
    await slow.start();
    for (const id of ['fp-01', 'fp-02', 'fp-03', 'fp-slow']) await register(id);
    await register('fp-04', false);
  });

  afterAll(async () => {
    await pusher.stop();
    await client.close();
    await fleet.stop();
    await slow.stop();
    await store.close();
    await kit.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('installs a package on a registered, pinned device, with progress in phase order', async () => {
    const file = await kit.pack({
      version: '5.0.0',
      models: [modelOf('fp-01')],
      imageBytes: 3_000_000,
    });
    const seen: FirmwarePushProgress[] = [];
    const result = await pusher.push('fp-01', file, {
      timeoutMs: 15_000,
      onProgress: (p) => seen.push(p),
    });
    expect(result).toEqual({ outcome: 'installed', reason: null, firmwareVersion: '5.0.0' });
    expect(device('fp-01').model.identity.firmwareVersion).toBe('5.0.0');

    const phases = seen.map((p) => p.phase);
    const order = ['transferring', 'verifying', 'installing'];
    expect(phases.map((p) => order.indexOf(p))).toEqual(
      [...phases.map((p) => order.indexOf(p))].sort((a, b) => a - b),
    );
    const transfer = seen.filter((p) => p.phase === 'transferring').map((p) => p.percent);
    expect(transfer[0]).toBe(0);
    expect(transfer.at(-1)).toBe(100);
    expect(transfer.length).toBeGreaterThan(2);
    expect(transfer).toEqual([...transfer].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(phases).toContain('installing');
  });

  it('passes on the device refusal of a package it pushed, with the reason', async () => {
    const tampered = await kit.forge(
      await kit.pack({ version: '6.0.0', models: [modelOf('fp-02')] }),
      flipImageByte,
    );
    const before = device('fp-02').model.identity.firmwareVersion;
    const result = await pusher.push('fp-02', tampered, { timeoutMs: 10_000 });
    expect(result.outcome).toBe('refused');
    expect(result.reason).toMatch(/^image-hash: the image's sha256 is/);
    expect(result.firmwareVersion).toBe(before);

    const old = await kit.pack({ version: '4.0.0', models: [modelOf('fp-02')] });
    const rollback = await pusher.push('fp-02', old, { timeoutMs: 10_000 });
    expect(rollback).toMatchObject({ outcome: 'refused', firmwareVersion: before });
    expect(rollback.reason).toMatch(/^version: 4\.0\.0 is older than the installed/);
  });

  it('reports an installation that fails on the device as failed', async () => {
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fp-03')] });
    const result = await pusher.push('fp-03', file, { timeoutMs: 10_000 });
    expect(result).toMatchObject({
      outcome: 'failed',
      reason: 'installation failed: flash write error',
    });
    expect(result.firmwareVersion).toBe(device('fp-03').model.identity.firmwareVersion);
  });

  it('refuses a device that is not registered, or not approved, before anything is sent', async () => {
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fp-05')] });
    const unknown = await failure(pusher.push('fp-05', file, { timeoutMs: 5000 }));
    expect(unknown.code).toBe('DEVICE_NOT_FOUND');
    const pending = await failure(pusher.push('fp-04', file, { timeoutMs: 5000 }));
    expect(pending.code).toBe('DEVICE_NOT_APPROVED');
    for (const id of ['fp-04', 'fp-05']) {
      expect(device(id).model.identity.firmwareVersion).not.toBe('5.0.0');
    }
  });

  it('refuses a device whose certificate changed, and tells the registry', async () => {
    const d = device('fp-02');
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fp-02')] });
    await d.rotateCertificate();
    const err = await failure(pusher.push('fp-02', file, { timeoutMs: 5000 }));
    expect(err.code).toBe('DEVICE_CERTIFICATE_MISMATCH');
    expect(err.details).toEqual({ presented: d.certificateFingerprint });
    const reg = await registry.get('fp-02');
    expect(reg).toMatchObject({
      pinState: 'mismatch',
      presentedFingerprint256: d.certificateFingerprint,
    });
    expect(d.model.identity.firmwareVersion).not.toBe('5.0.0');
    // Until an admin approves the new certificate, the device stays refused.
    expect((await failure(pusher.push('fp-02', file, { timeoutMs: 5000 }))).code).toBe(
      'DEVICE_NOT_APPROVED',
    );
  });

  it('bounds the whole push by its timeout, then refuses a second update while one runs', async () => {
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fp-slow')] });
    const started = Date.now();
    const result = await pusher.push('fp-slow', file, { timeoutMs: 600 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/^no outcome within 600 ms \(last seen: installing/);

    const second = await pusher.push('fp-slow', file, { timeoutMs: 5000 });
    expect(second.outcome).toBe('refused');
    expect(second.reason).toMatch(/already in progress \(installing/);
  });

  it('rejects with the caller signal reason when aborted', async () => {
    const file = await kit.pack({ version: '5.5.0', models: [modelOf('fp-01')] });
    const controller = new AbortController();
    const pushing = pusher.push('fp-01', file, {
      timeoutMs: 10_000,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'installing') controller.abort(new Error('rollout paused'));
      },
    });
    await expect(pushing).rejects.toThrow('rollout paused');
  });

  it('refuses a device that no longer takes the stored credential', async () => {
    await registry.update(
      'fp-03',
      { username: 'admin', password: 'not-the-password' },
      SYSTEM_ACTOR,
    );
    const file = await kit.pack({ version: '5.0.0', models: [modelOf('fp-03')] });
    const err = await failure(pusher.push('fp-03', file, { timeoutMs: 5000 }));
    expect(err.code).toBe('DEVICE_AUTH_FAILED');
  });
});
