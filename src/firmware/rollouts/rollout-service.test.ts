// The rollout engine on a real SQLite store with a push the test drives: creation and its refusals,
// canary first, the concurrency limit, progress in order, the failure threshold, pause / resume /
// abort, the audit trail, and picking a rollout up again after a restart or a crash.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceView } from '../../domain/index.js';
import { silentLogger } from '../../observability/index.js';
import { createSqliteStore, type AuditEntry, type Store } from '../../store/index.js';
import { createRolloutService } from './rollout-service.js';
import {
  catalogPackage,
  eventually,
  fleetDevice,
  scriptedPush,
  waitForRollout,
  type ScriptedPush,
} from './rollout-test-harness.js';
import type { RolloutEvent, RolloutService, RolloutSettings } from './rollout-types.js';

const PKG = catalogPackage();
const ADMIN = { name: 'admin', source: '127.0.0.1' };
type AuditRecord = Omit<AuditEntry, 'id' | 'at'>;

describe('rollout service', () => {
  let dir: string;
  let store: Store;
  let fleet: Map<string, DeviceView>;
  let push: ScriptedPush;
  let audit: AuditRecord[];
  const services: RolloutService[] = [];

  function service(settings: Partial<RolloutSettings> = {}, now?: () => Date): RolloutService {
    const s = createRolloutService(
      {
        store,
        fleet: { get: (id) => fleet.get(id), list: () => [...fleet.values()] },
        push,
        firmwareDir: join(dir, 'firmware'),
        audit: {
          record: (entry) => {
            audit.push(entry);
            return Promise.resolve();
          },
        },
        logger: silentLogger(),
        ...(now ? { now } : {}),
      },
      {
        pushTimeoutMs: 5000,
        maxConcurrency: 8,
        progressWriteMs: 0,
        abortGraceMs: 1000,
        ...settings,
      },
    );
    services.push(s);
    return s;
  }

  function addDevices(n: number, over: Partial<DeviceView> = {}): string[] {
    const ids = Array.from({ length: n }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) fleet.set(id, fleetDevice(id, over));
    return ids;
  }

  /** Marks a device as updated in the fleet, as polling would after an install. */
  function updated(deviceId: string): void {
    const d = fleet.get(deviceId);
    if (d) fleet.set(deviceId, { ...d, firmwareVersion: PKG.version });
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-rollouts-'));
    await mkdir(join(dir, 'firmware'));
    await writeFile(join(dir, 'firmware', PKG.file), 'package bytes');
    store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
    await store.migrate();
    await store.firmware.add(PKG);
    fleet = new Map();
    push = scriptedPush();
    audit = [];
  });

  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('create', () => {
    it('stores a running rollout of the compatible devices, canary first', async () => {
      addDevices(4);
      fleet.set('old-model', fleetDevice('old-model', { model: 'Fusion P3' }));
      fleet.set('current', fleetDevice('current', { firmwareVersion: '4.3.0' }));
      fleet.set('away', fleetDevice('away', { state: 'offline' }));
      push.auto = null;
      const rollouts = service();
      const created = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 2, concurrency: 3, failureThreshold: 2 },
        ADMIN,
      );
      expect(created).toMatchObject({
        state: 'running',
        packageId: PKG.id,
        packageName: 'fusion-fw',
        toVersion: '4.3.0',
        canarySize: 2,
        concurrency: 3,
        failureThreshold: 2,
        createdBy: 'admin',
        total: 5,
        limitedToSites: null,
      });
      expect(created.devices.map((d) => [d.deviceId, d.stage])).toEqual([
        ['p01', 'canary'],
        ['p02', 'canary'],
        ['p03', 'rest'],
        ['p04', 'rest'],
        ['away', 'rest'],
      ]);
      expect(created.devices.at(-1)).toMatchObject({ status: 'skipped', reason: /offline/ });
      expect(created.excluded.map((e) => e.deviceId)).toEqual(['current', 'old-model']);
      const stored = await store.rollouts.get(created.id);
      expect(stored).toMatchObject({ state: 'running', canarySize: 2, selection: {} });
      expect(audit[0]).toMatchObject({
        actor: 'admin',
        source: '127.0.0.1',
        action: 'firmware.rollout.create',
        target: created.id,
        outcome: 'ok',
        details: { version: '4.3.0', devices: 5, canary: 2, skipped: 1, excluded: 2 },
      });
    });

    it('refuses with a clear error what it cannot do', async () => {
      addDevices(2);
      const rollouts = service();
      const create = (over: object) =>
        rollouts.create({ packageId: PKG.id, selection: {}, ...over }, ADMIN);
      await expect(create({ packageId: 'nope' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: 'no firmware package nope in the catalog',
      });
      await expect(create({ concurrency: 0 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'concurrency must be a whole number from 1 to 8',
      });
      await expect(create({ concurrency: 9 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(create({ canarySize: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(create({ failureThreshold: 1.5 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(create({ selection: { devices: ['p01', 'ghost'] } })).rejects.toMatchObject({
        code: 'DEVICE_NOT_FOUND',
        message: 'no device with id ghost',
      });
      await expect(create({ selection: { models: ['Fusion P3'] } })).rejects.toMatchObject({
        code: 'CONFLICT',
        message: /no device in the selection can take fusion-fw 4\.3\.0: the selection matches/,
      });
      fleet.set('p01', fleetDevice('p01', { firmwareVersion: '4.3.0' }));
      fleet.set('p02', fleetDevice('p02', { state: 'offline' }));
      await expect(create({})).rejects.toMatchObject({
        code: 'CONFLICT',
        message:
          'no device in the selection can take fusion-fw 4.3.0 (1 offline; p01: already on 4.3.0)',
      });
      expect(await store.rollouts.list({ limit: 10, offset: 0 })).toMatchObject({ total: 0 });
      expect(audit).toEqual([]);
    });

    it('refuses an expired package and one whose file is gone', async () => {
      addDevices(1);
      const expired = catalogPackage({ id: 'a'.repeat(64), expiresAt: '2020-01-01T00:00:00.000Z' });
      const fileless = catalogPackage({ id: 'b'.repeat(64), file: 'gone.tar' });
      await store.firmware.add(expired);
      await store.firmware.add(fileless);
      const rollouts = service();
      await expect(
        rollouts.create({ packageId: expired.id, selection: {} }, ADMIN),
      ).rejects.toMatchObject({ code: 'FIRMWARE_EXPIRED' });
      await expect(
        rollouts.create({ packageId: fileless.id, selection: {} }, ADMIN),
      ).rejects.toMatchObject({ code: 'CONFLICT', message: /missing from the firmware directory/ });
    });

    it('leaves devices of another unfinished rollout out', async () => {
      addDevices(3);
      const rollouts = service();
      const first = await rollouts.create(
        { packageId: PKG.id, selection: { devices: ['p01'] } },
        ADMIN,
      );
      const second = await rollouts.create({ packageId: PKG.id, selection: {} }, ADMIN);
      expect(second.devices.map((d) => d.deviceId)).toEqual(['p02', 'p03']);
      expect(second.excluded).toEqual([
        { deviceId: 'p01', reason: `already in unfinished rollout ${first.id}` },
      ]);
    });

    it('narrows a site-scoped creator’s selection to its sites', async () => {
      addDevices(2);
      fleet.set('b1', fleetDevice('b1', { siteId: 'hall-b' }));
      const rollouts = service();
      const created = await rollouts.create(
        { packageId: PKG.id, selection: { sites: ['hall-a', 'hall-b'] }, scope: ['hall-b'] },
        ADMIN,
      );
      expect(created.devices.map((d) => d.deviceId)).toEqual(['b1']);
      expect(created.selection).toEqual({ sites: ['hall-b'] });
      expect(created.limitedToSites).toEqual(['hall-b']);
    });
  });

  describe('run', () => {
    it('updates the canary group first, then the rest within the concurrency limit', async () => {
      const ids = addDevices(10);
      const rollouts = service();
      const events: RolloutEvent[] = [];
      rollouts.onChange((e) => events.push(e));
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 2, concurrency: 3 },
        ADMIN,
      );
      const canary = [await push.next(), await push.next()];
      expect(canary.map((c) => c.deviceId)).toEqual(['p01', 'p02']);
      expect(canary[0]?.file).toBe(join(dir, 'firmware', PKG.file));
      // Nothing else starts while the canary group is under way, whatever the concurrency.
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      canary[0]?.install('4.3.0');
      updated('p01');
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      canary[1]?.install('4.3.0');
      updated('p02');

      // The rest, at most three at a time: the test finishes the three that started first.
      const rest = [await push.next(), await push.next(), await push.next()];
      expect(push.active().length).toBe(3);
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      push.auto = (deviceId) => {
        updated(deviceId);
        return { outcome: 'installed', reason: null, firmwareVersion: '4.3.0' };
      };
      for (const call of rest) {
        updated(call.deviceId);
        call.install('4.3.0');
      }
      const done = await waitForRollout(rollouts, id, (r) => r.state === 'completed');
      expect(done.counts).toMatchObject({ done: 10, failed: 0, queued: 0 });
      expect(done.finishedAt).not.toBeNull();
      expect(push.maxInFlight()).toBe(3);
      expect(push.calls.map((c) => c.deviceId)).toEqual(ids);

      // Each device went queued → transferring → verifying → installing → done, in that order.
      const p05 = events
        .filter((e) => e.type === 'device' && e.device.deviceId === 'p05')
        .map((e) => (e.type === 'device' ? e.device.status : ''));
      expect([...new Set(p05)]).toEqual(['transferring', 'verifying', 'installing', 'done']);
      // Stored in order: once the rollout is stored completed, so are its devices.
      await eventually(
        'the stored rollout completed',
        async () => (await store.rollouts.get(id))?.state === 'completed',
      );
      const stored = await store.rollouts.devices(id);
      expect(stored.every((d) => d.status === 'done' && d.progress === null)).toBe(true);
      await eventually('the completion audited', () =>
        audit.some((a) => a.action === 'firmware.rollout.complete'),
      );
      expect(audit.filter((a) => a.action === 'firmware.rollout.device-installed')).toHaveLength(
        10,
      );
      expect(audit.at(-1)).toMatchObject({
        action: 'firmware.rollout.complete',
        actor: 'system',
        outcome: 'ok',
        details: { counts: { done: 10 } },
      });
    });

    it('shows progress percentages live and stores them', async () => {
      addDevices(1);
      const rollouts = service();
      const { id } = await rollouts.create({ packageId: PKG.id, selection: {} }, ADMIN);
      const call = await push.next();
      call.progress('transferring', 42.4);
      expect((await rollouts.get(id))?.devices[0]).toMatchObject({
        status: 'transferring',
        progress: 42,
        fromVersion: '4.2.0',
      });
      call.progress('verifying', null);
      // A late report of an earlier phase does not move the device back.
      call.progress('transferring', 90);
      await waitForRollout(rollouts, id, (r) => r.devices[0]?.status === 'verifying');
      await eventually(
        'verifying stored',
        async () => (await store.rollouts.devices(id))[0]?.status === 'verifying',
      );
      expect((await store.rollouts.devices(id))[0]).toMatchObject({ progress: null });
      call.install('4.3.0');
      await waitForRollout(rollouts, id, (r) => r.state === 'completed');
    });

    it('pauses when failures reach the threshold, lets pushes in flight finish, resumes', async () => {
      addDevices(8);
      const failing = new Set(['p04', 'p06']);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 1, concurrency: 2, failureThreshold: 2 },
        ADMIN,
      );
      (await push.next()).install('4.3.0');
      updated('p01');
      // p02, p03 succeed; p04 fails (1 of 2); then p05 is held while p06 fails (2 of 2).
      const drive = async () => {
        const call = await push.next();
        if (failing.has(call.deviceId)) {
          call.progress('verifying', null);
          call.finish({
            outcome: 'refused',
            reason: 'FIRMWARE_MODEL_MISMATCH: not for this device',
            firmwareVersion: '4.2.0',
          });
        } else {
          updated(call.deviceId);
          call.install('4.3.0');
        }
        return call;
      };
      await drive(); // p02
      await drive(); // p03
      await drive(); // p04 fails
      const p05 = await push.next();
      await drive(); // p06 fails → threshold
      const paused = await waitForRollout(rollouts, id, (r) => r.state === 'paused');
      expect(paused.pausedReason).toBe(
        'failure threshold reached: 2 of 8 devices failed (threshold 2)',
      );
      // The push in flight goes on and ends; nothing new starts.
      expect(paused.devices.find((d) => d.deviceId === 'p05')?.status).toBe('transferring');
      updated('p05');
      p05.install('4.3.0');
      await waitForRollout(rollouts, id, (r) => r.counts.done === 4);
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      expect((await store.rollouts.get(id))?.pausedReason).toMatch(/threshold/);
      expect(paused.devices.find((d) => d.deviceId === 'p04')).toMatchObject({
        status: 'failed',
        reason: 'refused by the device: FIRMWARE_MODEL_MISMATCH: not for this device',
      });
      await eventually('the pause audited', () =>
        audit.some((a) => a.action === 'firmware.rollout.pause'),
      );
      const failures = audit.filter((a) => a.action === 'firmware.rollout.device-failed');
      expect(failures.map((a) => [a.target, a.outcome])).toEqual([
        ['p04', 'failed'],
        ['p06', 'failed'],
      ]);
      expect(failures[0]?.details).toMatchObject({
        rolloutId: id,
        reason: /refused by the device/,
      });
      expect(audit.find((a) => a.action === 'firmware.rollout.pause')).toMatchObject({
        actor: 'system',
        details: { reason: /threshold/ },
      });

      push.auto = (deviceId) => {
        updated(deviceId);
        return { outcome: 'installed', reason: null, firmwareVersion: '4.3.0' };
      };
      const resumed = await rollouts.resume(id, ADMIN);
      expect(resumed.state).toBe('running');
      expect(resumed.pausedReason).toBeNull();
      const done = await waitForRollout(rollouts, id, (r) => r.state === 'completed');
      expect(done.counts).toMatchObject({ done: 6, failed: 2 });
      // Failed devices stay failed: they were not pushed again.
      expect(push.calls.filter((c) => c.deviceId === 'p04')).toHaveLength(1);
      await eventually('the completion audited', () =>
        audit.some((a) => a.action === 'firmware.rollout.complete'),
      );
      expect(audit.at(-1)).toMatchObject({
        action: 'firmware.rollout.complete',
        outcome: 'failed',
      });
      expect(audit.map((a) => a.action)).toContain('firmware.rollout.resume');
    });

    it('stops after a failed canary stage until resumed', async () => {
      addDevices(5);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 2, concurrency: 4, failureThreshold: 3 },
        ADMIN,
      );
      const [a, b] = [await push.next(), await push.next()];
      a.finish({ outcome: 'failed', reason: 'device timed out', firmwareVersion: null });
      updated(b.deviceId);
      b.install('4.3.0');
      const paused = await waitForRollout(rollouts, id, (r) => r.state === 'paused');
      expect(paused.pausedReason).toBe(
        'canary stage ended with 1 of 2 devices failed; resume to update the other 3',
      );
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      push.auto = () => ({ outcome: 'installed', reason: null, firmwareVersion: '4.3.0' });
      await rollouts.resume(id, ADMIN);
      const done = await waitForRollout(rollouts, id, (r) => r.state === 'completed');
      expect(done.counts).toMatchObject({ done: 4, failed: 1 });
    });

    it('pauses and resumes on request; pause and resume twice change nothing', async () => {
      addDevices(3);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 1 },
        ADMIN,
      );
      const first = await push.next();
      const paused = await rollouts.pause(id, ADMIN);
      expect(paused).toMatchObject({ state: 'paused', pausedReason: 'paused by admin' });
      expect((await rollouts.pause(id, ADMIN)).state).toBe('paused');
      first.install('4.3.0');
      await waitForRollout(rollouts, id, (r) => r.counts.done === 1);
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      push.auto = () => ({ outcome: 'installed', reason: null, firmwareVersion: '4.3.0' });
      await rollouts.resume(id, ADMIN);
      await waitForRollout(rollouts, id, (r) => r.state === 'completed');
      expect(audit.filter((a) => a.action === 'firmware.rollout.pause')).toHaveLength(1);
      await expect(rollouts.pause(id, ADMIN)).rejects.toMatchObject({
        code: 'CONFLICT',
        message: `rollout ${id} is completed: it cannot be paused`,
      });
      await expect(rollouts.resume('nope', ADMIN)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('aborts: cancels pushes in flight and skips the queued devices', async () => {
      addDevices(5);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 2 },
        ADMIN,
      );
      const [a, b] = [await push.next(), await push.next()];
      a.progress('installing', 30);
      const aborted = await rollouts.abort(id, ADMIN);
      expect(a.signal?.aborted).toBe(true);
      expect(b.signal?.aborted).toBe(true);
      expect(aborted.state).toBe('aborted');
      expect(aborted.devices.map((d) => [d.deviceId, d.status, d.reason])).toEqual([
        [
          'p01',
          'skipped',
          'rollout aborted while installing: the device may still finish the installation',
        ],
        ['p02', 'skipped', 'rollout aborted while transferring'],
        ['p03', 'skipped', 'rollout aborted'],
        ['p04', 'skipped', 'rollout aborted'],
        ['p05', 'skipped', 'rollout aborted'],
      ]);
      expect(await store.rollouts.get(id)).toMatchObject({ state: 'aborted' });
      expect((await store.rollouts.devices(id)).map((d) => d.status)).toEqual(
        Array(5).fill('skipped'),
      );
      expect(audit.at(-1)).toMatchObject({
        action: 'firmware.rollout.abort',
        actor: 'admin',
        details: { cancelled: ['p01', 'p02'] },
      });
      await expect(rollouts.resume(id, ADMIN)).rejects.toMatchObject({ code: 'CONFLICT' });
      // The devices are free for another rollout.
      const next = await rollouts.create({ packageId: PKG.id, selection: {} }, ADMIN);
      expect(next.total).toBe(5);
    });

    it('skips a device that went offline, and fails one that reports another version', async () => {
      addDevices(3);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 1, failureThreshold: 5 },
        ADMIN,
      );
      fleet.set('p02', fleetDevice('p02', { state: 'offline' }));
      (await push.next()).finish({ outcome: 'installed', reason: null, firmwareVersion: '4.2.9' });
      (await push.next()).install('4.3.0');
      const done = await waitForRollout(rollouts, id, (r) => r.state === 'completed');
      expect(done.devices.map((d) => [d.deviceId, d.status, d.reason])).toEqual([
        ['p01', 'failed', 'the device reports 4.2.9 after installing, not 4.3.0'],
        ['p02', 'skipped', 'offline when its turn came'],
        ['p03', 'done', null],
      ]);
    });
  });

  describe('restart', () => {
    it('queues the devices in flight again on stop and finishes after start', async () => {
      addDevices(3);
      const before = service();
      const { id } = await before.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 2 },
        ADMIN,
      );
      const [a] = [await push.next(), await push.next()];
      a.progress('installing', 50);
      await before.stop();
      expect((await store.rollouts.devices(id)).map((d) => d.status)).toEqual([
        'queued',
        'queued',
        'queued',
      ]);
      expect((await store.rollouts.get(id))?.state).toBe('running');

      push.auto = (deviceId) => {
        updated(deviceId);
        return { outcome: 'installed', reason: null, firmwareVersion: '4.3.0' };
      };
      const after = service();
      await after.start();
      const done = await waitForRollout(after, id, (r) => r.state === 'completed');
      expect(done.counts.done).toBe(3);
    });

    it('after a crash, pushes again to devices left in flight; a device already updated is done', async () => {
      addDevices(2);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 2 },
        ADMIN,
      );
      await push.next();
      await push.next();
      await rollouts.stop();
      // What a kill -9 leaves behind: devices still marked in flight.
      await store.rollouts.updateDevice(id, 'p01', { status: 'installing', progress: 80 });
      await store.rollouts.updateDevice(id, 'p02', { status: 'transferring', progress: 10 });
      // p01 had finished installing before the crash; the device refuses the same version again.
      push.auto = (deviceId) =>
        deviceId === 'p01'
          ? { outcome: 'refused', reason: 'FIRMWARE_ROLLBACK: not newer', firmwareVersion: '4.3.0' }
          : { outcome: 'installed', reason: null, firmwareVersion: '4.3.0' };
      const again = service();
      await again.start();
      const done = await waitForRollout(again, id, (r) => r.state === 'completed');
      expect(done.counts).toMatchObject({ done: 2, failed: 0 });
    });

    it('keeps a paused rollout paused across a restart', async () => {
      addDevices(2);
      const rollouts = service();
      const { id } = await rollouts.create(
        { packageId: PKG.id, selection: {}, canarySize: 0, concurrency: 1 },
        ADMIN,
      );
      await push.next();
      await rollouts.pause(id, ADMIN);
      await rollouts.stop();
      const again = service();
      await again.start();
      expect(await again.get(id)).toMatchObject({ state: 'paused', counts: { queued: 2 } });
      await expect(push.next(200)).rejects.toThrow(/no push started/);
      push.auto = () => ({ outcome: 'installed', reason: null, firmwareVersion: '4.3.0' });
      await again.resume(id, ADMIN);
      await waitForRollout(again, id, (r) => r.state === 'completed');
    });
  });

  it('lists rollouts newest first with their tallies', async () => {
    addDevices(2);
    let clock = Date.parse('2026-06-01T00:00:00Z');
    const rollouts = service({}, () => new Date((clock += 1000)));
    const first = await rollouts.create(
      { packageId: PKG.id, selection: { devices: ['p01'] } },
      ADMIN,
    );
    await rollouts.abort(first.id, ADMIN);
    const second = await rollouts.create({ packageId: PKG.id, selection: {} }, ADMIN);
    const page = await rollouts.list({ limit: 10, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.items.map((r) => [r.id, r.state, r.total])).toEqual([
      [second.id, 'running', 2],
      [first.id, 'aborted', 1],
    ]);
    expect(page.items[1]).toMatchObject({ toVersion: '4.3.0', counts: { skipped: 1 } });
    expect(page.items[0]).not.toHaveProperty('devices');
    expect(await rollouts.get('nope')).toBeUndefined();
  });
});
