// Contract: the cloud enrollment, the consent history and current consent, the uplink state, and
// the outbox — seqs strictly increasing and never reused, order, stats and the bound policy.

import { describe, expect, it } from 'vitest';
import type {
  ConsentChange,
  OutboxDropResult,
  OutboxKind,
  Store,
  UplinkEnrollment,
} from '../store.js';
import { HOSTILE_STRINGS, T0, at } from './fixtures.js';

function enrollment(over: Partial<UplinkEnrollment> = {}): UplinkEnrollment {
  return {
    organizationId: 'org-1',
    siteId: 'site-a',
    kid: 'k-2024-03',
    sealedSecret: 'v1.iv.tag.data',
    endpoint: 'https://cloud.example.com/uplink',
    enrolledAt: at(0),
    enrolledBy: 'alice',
    ...over,
  };
}

function consent(over: Partial<ConsentChange> = {}): ConsentChange {
  return {
    id: 'c1',
    category: 'fleet-health',
    granted: true,
    at: at(0),
    by: 'alice',
    source: '10.0.0.1',
    ...over,
  };
}

const when = (seconds: number): Date => new Date(T0 + seconds * 1000);

/** Appends items of the given kinds and body sizes; the body names its seq. */
async function fill(
  store: Store,
  items: readonly (readonly [OutboxKind, number])[],
): Promise<number[]> {
  const seqs: number[] = [];
  for (const [i, [kind, size]] of items.entries()) {
    const { seq } = await store.outbox.append(
      (s) => ({ kind, body: `${String(s)}:`.padEnd(size, 'x') }),
      when(i),
    );
    seqs.push(seq);
  }
  return seqs;
}

export function uplinkContract(store: () => Store): void {
  describe('uplink enrollment', () => {
    it('has none, then saves, replaces and clears the one enrollment', async () => {
      expect(await store().uplink.enrollment()).toBeUndefined();
      await store().uplink.saveEnrollment(enrollment());
      expect(await store().uplink.enrollment()).toEqual(enrollment());
      const next = enrollment({ kid: 'k-2', endpoint: 'https://eu.cloud.example.com' });
      await store().uplink.saveEnrollment(next);
      expect(await store().uplink.enrollment()).toEqual(next);
      expect(await store().uplink.clearEnrollment()).toBe(true);
      expect(await store().uplink.enrollment()).toBeUndefined();
      expect(await store().uplink.clearEnrollment()).toBe(false);
    });

    it('keeps hostile text verbatim and normalizes the time', async () => {
      const hostile = HOSTILE_STRINGS.join('|');
      const e = enrollment({ siteId: hostile, sealedSecret: hostile, enrolledBy: hostile });
      await store().uplink.saveEnrollment({ ...e, enrolledAt: '2024-03-01T13:00:00+01:00' });
      expect(await store().uplink.enrollment()).toEqual(e);
    });

    it('refuses an enrollment time that is not RFC 3339', async () => {
      await expect(
        store().uplink.saveEnrollment(enrollment({ enrolledAt: 'yesterday' })),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await store().uplink.enrollment()).toBeUndefined();
    });
  });

  describe('consent', () => {
    it('has no consent before any change', async () => {
      expect(await store().uplink.currentConsent()).toEqual({});
      expect(await store().uplink.consentHistory()).toEqual([]);
    });

    it('takes the last change recorded per category, even with an earlier time', async () => {
      await store().uplink.appendConsent(consent({ id: 'c1', at: at(10) }));
      await store().uplink.appendConsent(consent({ id: 'c2', category: 'job-details' }));
      await store().uplink.appendConsent(
        consent({ id: 'c3', granted: false, at: at(5), by: 'bob', source: null }),
      );
      expect(await store().uplink.currentConsent()).toEqual({
        'fleet-health': { granted: false, at: at(5), by: 'bob' },
        'job-details': { granted: true, at: at(0), by: 'alice' },
      });
    });

    it('lists the history newest first, for all categories or one', async () => {
      await store().uplink.appendConsent(consent({ id: 'c1' }));
      await store().uplink.appendConsent(consent({ id: 'c2', category: 'job-details' }));
      await store().uplink.appendConsent(consent({ id: 'c3', granted: false, at: at(1) }));
      expect((await store().uplink.consentHistory()).map((c) => c.id)).toEqual(['c3', 'c2', 'c1']);
      expect(await store().uplink.consentHistory('fleet-health')).toEqual([
        consent({ id: 'c3', granted: false, at: at(1) }),
        consent({ id: 'c1' }),
      ]);
      expect(await store().uplink.consentHistory('nothing')).toEqual([]);
    });

    it('refuses a second change with the same id with CONFLICT', async () => {
      await store().uplink.appendConsent(consent());
      await expect(store().uplink.appendConsent(consent({ granted: false }))).rejects.toMatchObject(
        { code: 'CONFLICT' },
      );
      expect(await store().uplink.consentHistory()).toHaveLength(1);
    });

    it('keeps hostile category names as plain keys', async () => {
      const categories = ['__proto__', 'constructor', ...HOSTILE_STRINGS];
      for (const [i, category] of categories.entries()) {
        await store().uplink.appendConsent(consent({ id: `c${i}`, category }));
      }
      const current = await store().uplink.currentConsent();
      expect(Object.keys(current).sort()).toEqual([...categories].sort());
      expect(Object.getPrototypeOf(current)).toBe(Object.prototype);
      expect(Object.hasOwn(current, '__proto__')).toBe(true);
    });
  });

  describe('uplink state', () => {
    const empty = {
      lastAttemptAt: null,
      lastSuccessAt: null,
      lastError: null,
      sealedPseudonymKey: null,
    };

    it('starts empty, sets only the fields given and clears with null', async () => {
      expect(await store().uplink.state()).toEqual(empty);
      const set = await store().uplink.updateState({
        lastAttemptAt: '2024-03-01T13:00:00+01:00',
        lastError: { message: 'proxy refused: 407', at: at(1) },
        sealedPseudonymKey: 'v1.a.b.c',
      });
      expect(set).toEqual({
        ...empty,
        lastAttemptAt: at(0),
        lastError: { message: 'proxy refused: 407', at: at(1) },
        sealedPseudonymKey: 'v1.a.b.c',
      });
      const next = await store().uplink.updateState({ lastSuccessAt: at(2), lastError: null });
      expect(next).toEqual({
        ...empty,
        lastAttemptAt: at(0),
        lastSuccessAt: at(2),
        sealedPseudonymKey: 'v1.a.b.c',
      });
      expect(await store().uplink.state()).toEqual(next);
    });

    it('refuses an invalid time and changes nothing', async () => {
      await store().uplink.updateState({ sealedPseudonymKey: 'k1' });
      await expect(
        store().uplink.updateState({ sealedPseudonymKey: 'k2', lastSuccessAt: 'soon' }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((await store().uplink.state()).sealedPseudonymKey).toBe('k1');
    });
  });

  describe('outbox', () => {
    it('gives each append the next seq, to the builder and in the result', async () => {
      expect(await store().outbox.lastSeq()).toBe(0);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await store().outbox.append((seq) => {
          seen.push(seq);
          return { kind: 'periodic', body: `{"seq":${seq}}` };
        }, when(i));
        expect(r.seq).toBe(i + 1);
      }
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(await store().outbox.lastSeq()).toBe(5);
    });

    it('returns items oldest first with their kind, body, size and time', async () => {
      const body = 'Drücker 🖨️ ✓';
      const r = await store().outbox.append(() => ({ kind: 'critical', body }), when(3));
      expect(r).toEqual({ seq: 1, bytes: Buffer.byteLength(body, 'utf8') });
      await fill(store(), [['periodic', 10]]);
      const items = await store().outbox.peek(10);
      expect(items[0]).toEqual({
        seq: 1,
        kind: 'critical',
        body,
        bytes: Buffer.byteLength(body, 'utf8'),
        createdAt: at(3),
      });
      expect(items.map((i) => i.seq)).toEqual([1, 2]);
      expect(await store().outbox.peek(1)).toHaveLength(1);
      expect(await store().outbox.peek(0)).toEqual([]);
    });

    it('never reuses a seq after removals and clear', async () => {
      await fill(store(), [
        ['periodic', 10],
        ['periodic', 10],
        ['critical', 10],
      ]);
      expect(await store().outbox.remove(3)).toBe(true);
      expect(await store().outbox.remove(3)).toBe(false);
      expect(await store().outbox.count()).toBe(2);
      expect(await fill(store(), [['periodic', 10]])).toEqual([4]);
      expect(await store().outbox.clear()).toBe(3);
      expect(await store().outbox.count()).toBe(0);
      expect(await store().outbox.peek(10)).toEqual([]);
      expect(await fill(store(), [['critical', 10]])).toEqual([5]);
      expect(await store().outbox.lastSeq()).toBe(5);
    });

    it('gives concurrent appends distinct consecutive seqs and keeps every item', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store().outbox.append(
            (seq) => ({ kind: 'periodic', body: `item ${i} seq ${seq}` }),
            when(i),
          ),
        ),
      );
      const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const items = await store().outbox.peek(100);
      expect(items.map((i) => i.seq)).toEqual(seqs);
      for (const item of items) expect(item.body.endsWith(` seq ${item.seq}`)).toBe(true);
    });

    it('stores nothing and spends no seq when the builder throws or the input is bad', async () => {
      const boom = () => {
        throw new Error('sealing failed');
      };
      await expect(store().outbox.append(boom, when(0))).rejects.toThrow('sealing failed');
      await expect(
        store().outbox.append(() => ({ kind: 'urgent' as OutboxKind, body: 'x' }), when(0)),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(
        store().outbox.append(() => ({ kind: 'periodic', body: 'x' }), new Date(Number.NaN)),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await store().outbox.stats()).toMatchObject({ count: 0 });
      expect(await fill(store(), [['periodic', 1]])).toEqual([1]);
    });

    it('keeps hostile bodies verbatim', async () => {
      for (const body of HOSTILE_STRINGS) {
        await store().outbox.append(() => ({ kind: 'periodic', body }), when(0));
      }
      expect((await store().outbox.peek(100)).map((i) => i.body)).toEqual(HOSTILE_STRINGS);
    });

    it('counts items, bytes, criticals and the oldest time', async () => {
      expect(await store().outbox.stats()).toEqual({
        count: 0,
        bytes: 0,
        oldestAt: null,
        criticalCount: 0,
      });
      await fill(store(), [
        ['periodic', 100],
        ['critical', 50],
        ['periodic', 7],
      ]);
      expect(await store().outbox.stats()).toEqual({
        count: 3,
        bytes: 157,
        oldestAt: at(0),
        criticalCount: 1,
      });
    });

    it('refuses a negative peek limit or bound with VALIDATION_FAILED', async () => {
      await expect(store().outbox.peek(-1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(store().outbox.dropForBound(-1, 10)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(store().outbox.dropForBound(10, 1.5)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    describe('bound policy', () => {
      const P = 'periodic';
      const C = 'critical';
      const cases: {
        name: string;
        items: (readonly [OutboxKind, number])[];
        maxBytes: number;
        maxItems: number;
        kept: number[];
        result: OutboxDropResult;
      }[] = [
        {
          name: 'drops nothing within both bounds',
          items: [
            [P, 10],
            [C, 10],
            [P, 10],
          ],
          maxBytes: 30,
          maxItems: 3,
          kept: [1, 2, 3],
          result: { dropped: 0, droppedBytes: 0, criticalDropped: 0 },
        },
        {
          name: 'drops the oldest periodic items first when over the item count',
          items: [
            [P, 10],
            [C, 10],
            [P, 10],
            [P, 10],
            [C, 10],
          ],
          maxBytes: 1000,
          maxItems: 3,
          kept: [2, 4, 5],
          result: { dropped: 2, droppedBytes: 20, criticalDropped: 0 },
        },
        {
          name: 'drops the oldest periodic items first when over the byte bound',
          items: [
            [C, 40],
            [P, 30],
            [P, 20],
            [C, 40],
            [P, 10],
          ],
          maxBytes: 100,
          maxItems: 100,
          kept: [1, 4, 5],
          result: { dropped: 2, droppedBytes: 50, criticalDropped: 0 },
        },
        {
          name: 'keeps every critical item while periodic ones can make room',
          items: [
            [C, 10],
            [C, 10],
            [P, 10],
            [C, 10],
          ],
          maxBytes: 30,
          maxItems: 10,
          kept: [1, 2, 4],
          result: { dropped: 1, droppedBytes: 10, criticalDropped: 0 },
        },
        {
          name: 'drops the oldest critical items only when critical items alone exceed',
          items: [
            [C, 10],
            [P, 10],
            [C, 10],
            [C, 10],
            [P, 10],
          ],
          maxBytes: 1000,
          maxItems: 2,
          kept: [3, 4],
          result: { dropped: 3, droppedBytes: 30, criticalDropped: 1 },
        },
        {
          name: 'drops an item bigger than the byte bound by itself, and only it',
          items: [
            [P, 10],
            [C, 10],
            [P, 500],
          ],
          maxBytes: 100,
          maxItems: 10,
          kept: [1, 2],
          result: { dropped: 1, droppedBytes: 500, criticalDropped: 0 },
        },
        {
          name: 'drops an oversized critical item too',
          items: [
            [P, 10],
            [C, 500],
            [C, 10],
          ],
          maxBytes: 100,
          maxItems: 10,
          kept: [1, 3],
          result: { dropped: 1, droppedBytes: 500, criticalDropped: 1 },
        },
        {
          name: 'drops everything under a zero item bound',
          items: [
            [P, 10],
            [C, 10],
          ],
          maxBytes: 1000,
          maxItems: 0,
          kept: [],
          result: { dropped: 2, droppedBytes: 20, criticalDropped: 1 },
        },
      ];

      for (const c of cases) {
        it(c.name, async () => {
          await fill(store(), c.items);
          expect(await store().outbox.dropForBound(c.maxBytes, c.maxItems)).toEqual(c.result);
          expect((await store().outbox.peek(100)).map((i) => i.seq)).toEqual(c.kept);
          const stats = await store().outbox.stats();
          expect(stats.count).toBeLessThanOrEqual(c.maxItems);
          expect(stats.bytes).toBeLessThanOrEqual(c.maxBytes);
        });
      }

      it('drops nothing from an empty outbox', async () => {
        expect(await store().outbox.dropForBound(0, 0)).toEqual({
          dropped: 0,
          droppedBytes: 0,
          criticalDropped: 0,
        });
      });
    });
  });
}
