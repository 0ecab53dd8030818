// Contract: device registrations, commands and the audit log.

import { describe, expect, it } from 'vitest';
import type { DeviceCommand } from '../../domain/index.js';
import type { AuditEntry, DeviceRegistration, Store } from '../store.js';
import { HOSTILE_STRINGS, at, device } from './fixtures.js';

function registration(over: Partial<DeviceRegistration> = {}): DeviceRegistration {
  return {
    deviceId: 'dev-1',
    baseUrl: 'https://127.0.0.11:443',
    pinState: 'pending',
    fingerprint256: null,
    presentedFingerprint256: 'AA:BB',
    credentialSealed: 'v1.iv.tag.data',
    displayName: null,
    siteId: null,
    createdAt: at(0),
    updatedAt: at(0),
    approvedBy: null,
    approvedAt: null,
    ...over,
  };
}

function command(over: Partial<DeviceCommand> = {}): DeviceCommand {
  return {
    id: 'cmd-1',
    deviceId: 'dev-1',
    action: 'pause',
    targetId: 'job-1',
    channel: 'web-services',
    status: 'pending',
    message: null,
    requestedBy: 'alice',
    requestedAt: at(0),
    completedAt: null,
    ...over,
  };
}

function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 'a1',
    at: at(0),
    actor: 'alice',
    action: 'device.add',
    target: 'dev-1',
    outcome: 'ok',
    source: '127.0.0.1',
    details: { fingerprint: 'AA:BB', nested: { n: 1 } },
    ...over,
  };
}

export function registryContract(store: () => Store): void {
  describe('device registrations', () => {
    it('puts, reads, replaces and removes a registration', async () => {
      const reg = registration();
      await store().registrations.put(reg);
      expect(await store().registrations.get('dev-1')).toEqual(reg);
      const pinned = registration({
        pinState: 'pinned',
        fingerprint256: 'AA:BB',
        presentedFingerprint256: null,
        displayName: 'Left printer',
        siteId: 'site-a',
        updatedAt: at(5),
        approvedBy: 'alice',
        approvedAt: at(5),
      });
      await store().registrations.put(pinned);
      expect(await store().registrations.get('dev-1')).toEqual(pinned);
      await store().registrations.put(registration({ deviceId: 'dev-0', baseUrl: null }));
      expect((await store().registrations.all()).map((r) => r.deviceId)).toEqual([
        'dev-0',
        'dev-1',
      ]);
      await store().registrations.remove('dev-1');
      expect(await store().registrations.get('dev-1')).toBeUndefined();
    });

    it('is forgotten with the device', async () => {
      await store().devices.upsert(device());
      await store().registrations.put(registration());
      await store().devices.remove('dev-1');
      expect(await store().registrations.get('dev-1')).toBeUndefined();
    });

    it('keeps hostile names verbatim', async () => {
      for (const [i, name] of HOSTILE_STRINGS.entries()) {
        await store().registrations.put(registration({ deviceId: `d${i}`, displayName: name }));
        expect((await store().registrations.get(`d${i}`))?.displayName).toBe(name);
      }
    });
  });

  describe('commands', () => {
    it('creates, completes once, and lists newest first', async () => {
      await store().commands.create(command());
      await store().commands.create(command({ id: 'cmd-2', requestedAt: at(10) }));
      await store().commands.create(
        command({ id: 'cmd-3', deviceId: 'dev-2', requestedAt: at(20), channel: 'mqtt' }),
      );
      const done = await store().commands.complete('cmd-1', {
        status: 'rejected',
        message: 'job is paused',
        completedAt: at(1),
      });
      expect(done).toMatchObject({ status: 'rejected', message: 'job is paused' });
      expect(done?.completedAt).toBe(at(1));
      // The first outcome stands: a late answer does not overwrite it.
      const late = await store().commands.complete('cmd-1', {
        status: 'accepted',
        message: null,
        completedAt: at(2),
      });
      expect(late?.status).toBe('rejected');
      expect(
        await store().commands.complete('nope', {
          status: 'accepted',
          message: null,
          completedAt: at(2),
        }),
      ).toBeUndefined();

      const all = await store().commands.list({ limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      expect(all.items.map((c) => c.id)).toEqual(['cmd-3', 'cmd-2', 'cmd-1']);
      const dev1 = await store().commands.list({ limit: 1, offset: 0, deviceId: 'dev-1' });
      expect(dev1).toMatchObject({ total: 2, limit: 1, offset: 0 });
      expect(dev1.items.map((c) => c.id)).toEqual(['cmd-2']);
      const pending = await store().commands.list({ limit: 10, offset: 0, status: 'pending' });
      expect(pending.items.map((c) => c.id)).toEqual(['cmd-3', 'cmd-2']);
      expect((await store().commands.pending()).map((c) => c.id)).toEqual(['cmd-2', 'cmd-3']);
      expect(await store().commands.get('cmd-3')).toEqual(
        command({ id: 'cmd-3', deviceId: 'dev-2', requestedAt: at(20), channel: 'mqtt' }),
      );
    });

    it('refuses a duplicate id', async () => {
      await store().commands.create(command());
      await expect(store().commands.create(command())).rejects.toThrow();
    });
  });

  describe('audit log', () => {
    it('appends and lists newest first with filters', async () => {
      await store().audit.append(entry());
      await store().audit.append(
        entry({ id: 'a2', at: at(10), action: 'job.pause', target: 'cmd-1', details: {} }),
      );
      await store().audit.append(
        entry({ id: 'a3', at: at(20), actor: 'bob', outcome: 'refused', source: null }),
      );
      const all = await store().audit.list({ limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      expect(all.items.map((e) => e.id)).toEqual(['a3', 'a2', 'a1']);
      expect(all.items[2]).toEqual(entry());
      expect((await store().audit.list({ limit: 10, offset: 0, actor: 'bob' })).total).toBe(1);
      expect(
        (await store().audit.list({ limit: 10, offset: 0, action: 'device.add' })).items.map(
          (e) => e.id,
        ),
      ).toEqual(['a3', 'a1']);
      const window = await store().audit.list({
        limit: 10,
        offset: 0,
        since: at(5),
        until: at(20),
      });
      expect(window.items.map((e) => e.id)).toEqual(['a2']);
      expect((await store().audit.list({ limit: 10, offset: 0, target: 'cmd-1' })).total).toBe(1);
    });

    it('refuses bad time filters with a validation error', async () => {
      await expect(
        store().audit.list({ limit: 10, offset: 0, since: 'yesterday' }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });
}
