// Contract: the firmware catalog (filters, paging, one package per id, removal held by unfinished
// rollouts) and staged rollouts (atomic creation, device order, partial updates, a device in at
// most one unfinished rollout, resuming after a restart).

import { describe, expect, it } from 'vitest';
import type { FirmwarePackage, Rollout, RolloutDevice, Store } from '../store.js';
import { HOSTILE_STRINGS, PAGE, at } from './fixtures.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_C = 'c'.repeat(64);

function pkg(over: Partial<FirmwarePackage> = {}): FirmwarePackage {
  return {
    id: SHA_A,
    name: 'jet-fusion',
    version: '2.1.0',
    models: ['HP Jet Fusion 5200', 'HP Jet Fusion 5210'],
    imageSize: 52_428_800,
    imageSha256: 'd'.repeat(64),
    releasedAt: at(-86_400),
    expiresAt: at(86_400 * 365),
    allowDowngrade: false,
    signers: ['vendor-2024'],
    packageBytes: 52_430_000,
    file: `${SHA_A}.tar`,
    source: 'upload',
    addedAt: at(0),
    addedBy: 'alice',
    checks: [
      { name: 'signature', ok: true, detail: 'signed by vendor-2024' },
      { name: 'expiry', ok: true, detail: 'expires in 365 days' },
    ],
    ...over,
  };
}

function rollout(over: Partial<Rollout> = {}): Rollout {
  return {
    id: 'r1',
    packageId: SHA_A,
    state: 'running',
    pausedReason: null,
    canarySize: 1,
    concurrency: 2,
    failureThreshold: 1,
    selection: { models: ['HP Jet Fusion 5200'], sites: ['hall-a'] },
    createdAt: at(0),
    createdBy: 'alice',
    updatedAt: at(0),
    finishedAt: null,
    ...over,
  };
}

function member(deviceId: string, order: number, over: Partial<RolloutDevice> = {}): RolloutDevice {
  return {
    rolloutId: 'r1',
    deviceId,
    stage: order === 0 ? 'canary' : 'rest',
    order,
    status: 'queued',
    reason: null,
    fromVersion: '2.0.0',
    toVersion: '2.1.0',
    progress: null,
    updatedAt: at(0),
    ...over,
  };
}

/** Devices dev-1 … dev-n of rollout `rolloutId`, in order. */
function members(rolloutId: string, n: number): RolloutDevice[] {
  return Array.from({ length: n }, (_, i) => member(`dev-${i + 1}`, i, { rolloutId }));
}

export function firmwareContract(store: () => Store): void {
  describe('firmware catalog', () => {
    it('adds a package and reads it back, with times normalized', async () => {
      expect(await store().firmware.get(SHA_A)).toBeUndefined();
      await store().firmware.add({ ...pkg(), addedAt: '2024-03-01T13:00:00+01:00' });
      expect(await store().firmware.get(SHA_A)).toEqual(pkg());
      const downgrade = pkg({ id: SHA_B, allowDowngrade: true, models: [], signers: [] });
      await store().firmware.add({ ...downgrade, checks: [] });
      expect(await store().firmware.get(SHA_B)).toEqual({ ...downgrade, checks: [] });
    });

    it('refuses a second package with the same id with CONFLICT and keeps the first', async () => {
      await store().firmware.add(pkg());
      await expect(store().firmware.add(pkg({ name: 'other' }))).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      expect(await store().firmware.get(SHA_A)).toEqual(pkg());
      expect((await store().firmware.list(PAGE)).total).toBe(1);
    });

    it('refuses invalid times and sizes with VALIDATION_FAILED and stores nothing', async () => {
      for (const bad of [
        pkg({ expiresAt: 'next year' }),
        pkg({ imageSize: -1 }),
        pkg({ packageBytes: 1.5 }),
      ]) {
        await expect(store().firmware.add(bad)).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      }
      expect((await store().firmware.list(PAGE)).total).toBe(0);
    });

    it('lists newest first, filtered by model and name, in pages', async () => {
      await store().firmware.add(pkg({ id: SHA_A, addedAt: at(0) }));
      await store().firmware.add(
        pkg({ id: SHA_B, version: '2.2.0', models: ['HP Jet Fusion 5210'], addedAt: at(20) }),
      );
      await store().firmware.add(
        pkg({ id: SHA_C, name: 'post-processing', models: ['%'], addedAt: at(10) }),
      );
      const ids = async (filter: { model?: string; name?: string }, limit = 10, offset = 0) => {
        const page = await store().firmware.list({ ...filter, limit, offset });
        return { ids: page.items.map((p) => p.id), total: page.total };
      };
      expect(await ids({})).toEqual({ ids: [SHA_B, SHA_C, SHA_A], total: 3 });
      expect(await ids({ model: 'HP Jet Fusion 5210' })).toEqual({ ids: [SHA_B, SHA_A], total: 2 });
      expect(await ids({ model: 'HP Jet Fusion 5200' })).toEqual({ ids: [SHA_A], total: 1 });
      // Models match exactly: no case folding, no LIKE patterns.
      expect(await ids({ model: 'hp jet fusion 5200' })).toEqual({ ids: [], total: 0 });
      expect(await ids({ model: '%' })).toEqual({ ids: [SHA_C], total: 1 });
      expect(await ids({ name: 'jet-fusion' })).toEqual({ ids: [SHA_B, SHA_A], total: 2 });
      expect(await ids({ name: 'jet-fusion', model: 'HP Jet Fusion 5200' })).toEqual({
        ids: [SHA_A],
        total: 1,
      });
      expect(await ids({}, 1, 1)).toEqual({ ids: [SHA_C], total: 3 });
      expect(await ids({}, 2, 2)).toEqual({ ids: [SHA_A], total: 3 });
      expect(await ids({}, 0, 0)).toEqual({ ids: [], total: 3 });
      const page = await store().firmware.list({ limit: 2, offset: 1 });
      expect({ limit: page.limit, offset: page.offset }).toEqual({ limit: 2, offset: 1 });
      await expect(store().firmware.list({ limit: -1, offset: 0 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('finds every package of a name and version, newest first', async () => {
      await store().firmware.add(pkg({ id: SHA_A, addedAt: at(0) }));
      await store().firmware.add(pkg({ id: SHA_B, addedAt: at(5) }));
      await store().firmware.add(pkg({ id: SHA_C, version: '2.1.1' }));
      const found = await store().firmware.findByNameVersion('jet-fusion', '2.1.0');
      expect(found.map((p) => p.id)).toEqual([SHA_B, SHA_A]);
      expect(await store().firmware.findByNameVersion('jet-fusion', '2.1')).toEqual([]);
      expect(await store().firmware.findByNameVersion('Jet-Fusion', '2.1.0')).toEqual([]);
    });

    it('removes a package, and says false for an unknown one', async () => {
      await store().firmware.add(pkg());
      expect(await store().firmware.remove(SHA_A)).toBe(true);
      expect(await store().firmware.get(SHA_A)).toBeUndefined();
      expect((await store().firmware.list({ ...PAGE, model: 'HP Jet Fusion 5200' })).total).toBe(0);
      expect(await store().firmware.remove(SHA_A)).toBe(false);
      // The same bytes may be added again.
      await store().firmware.add(pkg());
      expect(await store().firmware.get(SHA_A)).toEqual(pkg());
    });

    it('refuses to remove a package while a running or paused rollout uses it', async () => {
      await store().firmware.add(pkg());
      await store().rollouts.create(rollout(), members('r1', 2));
      await expect(store().firmware.remove(SHA_A)).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('r1') as unknown,
      });
      await store().rollouts.update('r1', { state: 'paused', pausedReason: 'operator' });
      await expect(store().firmware.remove(SHA_A)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store().firmware.get(SHA_A)).toEqual(pkg());
    });

    it.each(['completed', 'aborted'] as const)(
      'removes a package once its rollout is %s, keeping the rollout as history',
      async (state) => {
        await store().firmware.add(pkg());
        await store().rollouts.create(rollout(), members('r1', 1));
        await store().rollouts.update('r1', { state, finishedAt: at(60) });
        expect(await store().firmware.remove(SHA_A)).toBe(true);
        expect(await store().rollouts.get('r1')).toEqual(rollout({ state, finishedAt: at(60) }));
        expect(await store().rollouts.devices('r1')).toEqual(members('r1', 1));
        // A finished rollout cannot come back without its package.
        await expect(store().rollouts.update('r1', { state: 'running' })).rejects.toMatchObject({
          code: 'CONFLICT',
        });
        expect((await store().rollouts.get('r1'))?.state).toBe(state);
      },
    );

    it('keeps hostile text verbatim', async () => {
      const hostile = HOSTILE_STRINGS.join('|');
      const p = pkg({
        id: `${SHA_A}${hostile}`,
        name: hostile,
        version: hostile,
        models: [...HOSTILE_STRINGS],
        imageSha256: hostile,
        signers: [...HOSTILE_STRINGS, '__proto__'],
        file: hostile,
        source: hostile,
        addedBy: hostile,
        checks: HOSTILE_STRINGS.map((s, i) => ({ name: s, ok: i % 2 === 0, detail: hostile })),
      });
      await store().firmware.add(p);
      expect(await store().firmware.get(p.id)).toEqual(p);
      for (const model of HOSTILE_STRINGS) {
        const page = await store().firmware.list({ ...PAGE, model, name: hostile });
        expect(page.items).toEqual([p]);
      }
      expect(await store().firmware.findByNameVersion(hostile, hostile)).toEqual([p]);
      expect(await store().firmware.remove(p.id)).toBe(true);
    });
  });

  describe('firmware rollouts', () => {
    const withPackage = async () => {
      await store().firmware.add(pkg());
    };

    it('creates a rollout with its devices and lists the devices by order', async () => {
      await withPackage();
      const devices = [
        member('dev-c', 2),
        member('dev-a', 0),
        member('dev-b', 1, { fromVersion: null }),
      ];
      await store().rollouts.create(rollout(), devices);
      expect(await store().rollouts.get('r1')).toEqual(rollout());
      expect(await store().rollouts.devices('r1')).toEqual([
        member('dev-a', 0),
        member('dev-b', 1, { fromVersion: null }),
        member('dev-c', 2),
      ]);
      expect(await store().rollouts.get('nope')).toBeUndefined();
      expect(await store().rollouts.devices('nope')).toEqual([]);
    });

    it('stores nothing when a device insert fails', async () => {
      await withPackage();
      await store().rollouts.create(rollout({ id: 'r1' }), [member('dev-9', 0)]);
      // dev-9 is last: the rollout row and the first devices were written before it failed.
      const devices = [...members('r2', 3), member('dev-9', 3, { rolloutId: 'r2' })];
      await expect(store().rollouts.create(rollout({ id: 'r2' }), devices)).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('dev-9') as unknown,
      });
      expect(await store().rollouts.get('r2')).toBeUndefined();
      expect(await store().rollouts.devices('r2')).toEqual([]);
      expect(await store().rollouts.activeForDevice('dev-1')).toBeUndefined();
      expect((await store().rollouts.list(PAGE)).total).toBe(1);
    });

    it('refuses a taken id with CONFLICT and keeps the stored rollout', async () => {
      await withPackage();
      await store().rollouts.create(rollout(), members('r1', 2));
      await expect(
        store().rollouts.create(rollout({ createdBy: 'bob', state: 'completed' }), [
          member('dev-7', 0),
        ]),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store().rollouts.get('r1')).toEqual(rollout());
      expect(await store().rollouts.devices('r1')).toEqual(members('r1', 2));
    });

    it('refuses a package not in the catalog and bad device lists with VALIDATION_FAILED', async () => {
      await expect(store().rollouts.create(rollout(), members('r1', 1))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining(SHA_A) as unknown,
      });
      await withPackage();
      for (const devices of [
        [member('dev-1', 0, { rolloutId: 'r2' })],
        [member('dev-1', 0), member('dev-1', 1)],
        [member('dev-1', 0), member('dev-2', 0)],
        [member('dev-1', -1)],
        [member('dev-1', 0, { progress: 101 })],
        [member('dev-1', 0, { updatedAt: 'now' })],
      ]) {
        await expect(store().rollouts.create(rollout(), devices)).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      }
      await expect(
        store().rollouts.create(rollout({ concurrency: 0.5 }), members('r1', 1)),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((await store().rollouts.list(PAGE)).total).toBe(0);
    });

    it('lists newest first, filtered by state, in pages', async () => {
      await withPackage();
      await store().rollouts.create(rollout({ id: 'r1', createdAt: at(0) }), []);
      await store().rollouts.create(rollout({ id: 'r2', createdAt: at(20), state: 'paused' }), []);
      await store().rollouts.create(
        rollout({ id: 'r3', createdAt: at(10), state: 'completed', finishedAt: at(30) }),
        [],
      );
      const ids = async (state?: Rollout['state'], limit = 10, offset = 0) => {
        const page = await store().rollouts.list({ state, limit, offset });
        return { ids: page.items.map((r) => r.id), total: page.total };
      };
      expect(await ids()).toEqual({ ids: ['r2', 'r3', 'r1'], total: 3 });
      expect(await ids('running')).toEqual({ ids: ['r1'], total: 1 });
      expect(await ids('completed')).toEqual({ ids: ['r3'], total: 1 });
      expect(await ids('aborted')).toEqual({ ids: [], total: 0 });
      expect(await ids(undefined, 1, 1)).toEqual({ ids: ['r3'], total: 3 });
    });

    it('updates only the fields given', async () => {
      await withPackage();
      await store().rollouts.create(rollout(), members('r1', 1));
      const reason = 'failure threshold reached: 2 of 20 failed';
      const paused = await store().rollouts.update('r1', {
        state: 'paused',
        pausedReason: reason,
        updatedAt: '2024-03-01T13:00:10+01:00',
      });
      const expected = rollout({ state: 'paused', pausedReason: reason, updatedAt: at(10) });
      expect(paused).toEqual(expected);
      expect(await store().rollouts.update('r1', {})).toEqual(expected);
      expect(await store().rollouts.update('r1', { finishedAt: at(20) })).toEqual({
        ...expected,
        finishedAt: at(20),
      });
      expect(
        await store().rollouts.update('r1', {
          state: 'running',
          pausedReason: null,
          finishedAt: null,
        }),
      ).toEqual({ ...expected, state: 'running', pausedReason: null });
      expect(await store().rollouts.update('nope', { state: 'aborted' })).toBeUndefined();
      await expect(store().rollouts.update('r1', { updatedAt: 'later' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect((await store().rollouts.get('r1'))?.state).toBe('running');
    });

    it('updates only the device fields given', async () => {
      await withPackage();
      await store().rollouts.create(rollout(), members('r1', 2));
      const moving = await store().rollouts.updateDevice('r1', 'dev-1', {
        status: 'transferring',
        progress: 42.5,
        updatedAt: at(5),
      });
      expect(moving).toEqual(
        member('dev-1', 0, { status: 'transferring', progress: 42.5, updatedAt: at(5) }),
      );
      const failed = await store().rollouts.updateDevice('r1', 'dev-1', {
        status: 'failed',
        reason: 'image hash differs',
        progress: null,
        fromVersion: '1.9.9',
      });
      expect(failed).toEqual(
        member('dev-1', 0, {
          status: 'failed',
          reason: 'image hash differs',
          fromVersion: '1.9.9',
          updatedAt: at(5),
        }),
      );
      expect(await store().rollouts.updateDevice('r1', 'dev-1', {})).toEqual(failed);
      expect(await store().rollouts.devices('r1')).toEqual([failed, member('dev-2', 1)]);
      expect(
        await store().rollouts.updateDevice('r1', 'dev-9', { status: 'done' }),
      ).toBeUndefined();
      expect(
        await store().rollouts.updateDevice('r9', 'dev-1', { status: 'done' }),
      ).toBeUndefined();
      await expect(
        store().rollouts.updateDevice('r1', 'dev-2', { progress: Number.NaN }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((await store().rollouts.devices('r1'))[1]).toEqual(member('dev-2', 1));
    });

    it('lists the unfinished rollouts, oldest first', async () => {
      await withPackage();
      expect(await store().rollouts.unfinished()).toEqual([]);
      await store().rollouts.create(rollout({ id: 'r1', createdAt: at(10) }), []);
      await store().rollouts.create(rollout({ id: 'r2', createdAt: at(0), state: 'paused' }), []);
      await store().rollouts.create(rollout({ id: 'r3', createdAt: at(5) }), []);
      await store().rollouts.create(rollout({ id: 'r4', state: 'completed' }), []);
      await store().rollouts.update('r3', { state: 'aborted', finishedAt: at(6) });
      expect((await store().rollouts.unfinished()).map((r) => r.id)).toEqual(['r2', 'r1']);
    });

    it('finds the unfinished rollout a device is in, and frees the device when it ends', async () => {
      await withPackage();
      expect(await store().rollouts.activeForDevice('dev-2')).toBeUndefined();
      await store().rollouts.create(rollout(), members('r1', 3));
      expect(await store().rollouts.activeForDevice('dev-2')).toEqual({
        rollout: rollout(),
        device: member('dev-2', 1),
      });
      await store().rollouts.update('r1', { state: 'paused' });
      expect((await store().rollouts.activeForDevice('dev-2'))?.rollout.state).toBe('paused');
      await store().rollouts.update('r1', { state: 'completed', finishedAt: at(60) });
      expect(await store().rollouts.activeForDevice('dev-2')).toBeUndefined();

      // A freed device may join a new rollout; the old one can then not be resumed.
      await store().rollouts.create(rollout({ id: 'r2' }), [
        member('dev-2', 0, { rolloutId: 'r2' }),
      ]);
      expect((await store().rollouts.activeForDevice('dev-2'))?.rollout.id).toBe('r2');
      await expect(store().rollouts.update('r1', { state: 'running' })).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('dev-2') as unknown,
      });
      expect((await store().rollouts.get('r1'))?.state).toBe('completed');
      expect(await store().rollouts.activeForDevice('dev-1')).toBeUndefined();
    });

    it('creates a finished rollout without holding its devices', async () => {
      await withPackage();
      await store().rollouts.create(
        rollout({ id: 'old', state: 'completed', finishedAt: at(1) }),
        members('old', 2),
      );
      expect(await store().rollouts.activeForDevice('dev-1')).toBeUndefined();
      await store().rollouts.create(rollout(), members('r1', 2));
      expect((await store().rollouts.activeForDevice('dev-1'))?.rollout.id).toBe('r1');
    });

    it('keeps hostile text verbatim', async () => {
      await withPackage();
      const hostile = HOSTILE_STRINGS.join('|');
      const r = rollout({
        id: hostile,
        pausedReason: hostile,
        createdBy: hostile,
        state: 'paused',
        selection: { models: [...HOSTILE_STRINGS], sites: [], devices: [...HOSTILE_STRINGS] },
      });
      const devices = HOSTILE_STRINGS.map((s, i) =>
        member(s, i, { rolloutId: hostile, reason: hostile, fromVersion: s, toVersion: hostile }),
      );
      await store().rollouts.create(r, devices);
      expect(await store().rollouts.get(hostile)).toEqual(r);
      expect(await store().rollouts.devices(hostile)).toEqual(devices);
      for (const [i, s] of HOSTILE_STRINGS.entries()) {
        expect(await store().rollouts.activeForDevice(s)).toEqual({
          rollout: r,
          device: devices[i],
        });
      }
      const updated = await store().rollouts.updateDevice(hostile, HOSTILE_STRINGS[0] ?? '', {
        reason: `${hostile}!`,
      });
      expect(updated?.reason).toBe(`${hostile}!`);
      expect((await store().rollouts.list({ ...PAGE, state: 'paused' })).items).toEqual([r]);
    });
  });
}
