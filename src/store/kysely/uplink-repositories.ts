// The cloud uplink's persistent state: the enrollment, the consent history and the uplink's small
// state (last attempt, success and error, the sealed pseudonymization key).

import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import { toIso } from '../../domain/index.js';
import type { ConsentChange, UplinkRepository, UplinkState } from '../store.js';
import { withConstraints } from './constraint-errors.js';
import type { ConsentHistoryTable, Database } from './database.js';
import { fromMs, toMs } from './time-columns.js';
import type { WriteRunner } from './write-runner.js';

const ENROLLMENT_ID = 'current';

/** Keys of the uplink_state table, one per field of UplinkState. */
const STATE_KEYS = {
  lastAttemptAt: 'last_attempt_at',
  lastSuccessAt: 'last_success_at',
  lastError: 'last_error',
  sealedPseudonymKey: 'sealed_pseudonym_key',
} as const satisfies Record<keyof UplinkState, string>;

function rowToConsent(r: Selectable<ConsentHistoryTable>): ConsentChange {
  return {
    id: r.id,
    category: r.category,
    granted: r.granted === 1,
    at: fromMs(r.at),
    by: r.changed_by,
    source: r.source,
  };
}

/** RFC 3339 in, the normalized form out: what state() returns is what the contracts use. */
function normalizedTime(value: string, field: string): string {
  return toIso(toMs(value, field));
}

function parseLastError(text: string): UplinkState['lastError'] {
  try {
    const v = JSON.parse(text) as { message?: unknown; at?: unknown };
    if (typeof v.message === 'string' && typeof v.at === 'string') {
      return { message: v.message, at: v.at };
    }
  } catch {
    // Written by this module as JSON; an unreadable value means there is no usable last error.
  }
  return null;
}

export function createUplinkRepository(
  db: Kysely<Database>,
  runWrites: WriteRunner,
): UplinkRepository {
  const state = async (): Promise<UplinkState> => {
    const rows = await db.selectFrom('uplink_state').selectAll().execute();
    const values = new Map(rows.map((r) => [r.key, r.value]));
    const lastError = values.get(STATE_KEYS.lastError);
    return {
      lastAttemptAt: values.get(STATE_KEYS.lastAttemptAt) ?? null,
      lastSuccessAt: values.get(STATE_KEYS.lastSuccessAt) ?? null,
      lastError: lastError === undefined ? null : parseLastError(lastError),
      sealedPseudonymKey: values.get(STATE_KEYS.sealedPseudonymKey) ?? null,
    };
  };

  const encodeState = (changes: Partial<UplinkState>): [string, string | null][] => {
    const out: [string, string | null][] = [];
    const { lastAttemptAt, lastSuccessAt, lastError, sealedPseudonymKey } = changes;
    if (lastAttemptAt !== undefined) {
      out.push([
        STATE_KEYS.lastAttemptAt,
        lastAttemptAt && normalizedTime(lastAttemptAt, 'lastAttemptAt'),
      ]);
    }
    if (lastSuccessAt !== undefined) {
      out.push([
        STATE_KEYS.lastSuccessAt,
        lastSuccessAt && normalizedTime(lastSuccessAt, 'lastSuccessAt'),
      ]);
    }
    if (lastError !== undefined) {
      const value =
        lastError &&
        JSON.stringify({
          message: lastError.message,
          at: normalizedTime(lastError.at, 'lastError.at'),
        });
      out.push([STATE_KEYS.lastError, value]);
    }
    if (sealedPseudonymKey !== undefined) {
      out.push([STATE_KEYS.sealedPseudonymKey, sealedPseudonymKey]);
    }
    return out;
  };

  return {
    async enrollment() {
      const r = await db
        .selectFrom('uplink_enrollment')
        .selectAll()
        .where('id', '=', ENROLLMENT_ID)
        .executeTakeFirst();
      return (
        r && {
          organizationId: r.organization_id,
          siteId: r.site_id,
          kid: r.kid,
          sealedSecret: r.sealed_secret,
          endpoint: r.endpoint,
          enrolledAt: fromMs(r.enrolled_at),
          enrolledBy: r.enrolled_by,
        }
      );
    },
    async saveEnrollment(e) {
      const row = {
        id: ENROLLMENT_ID,
        organization_id: e.organizationId,
        site_id: e.siteId,
        kid: e.kid,
        sealed_secret: e.sealedSecret,
        endpoint: e.endpoint,
        enrolled_at: toMs(e.enrolledAt, 'enrolledAt'),
        enrolled_by: e.enrolledBy,
      };
      const { id: _id, ...changes } = row;
      await db
        .insertInto('uplink_enrollment')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(changes))
        .execute();
    },
    async clearEnrollment() {
      const r = await db
        .deleteFrom('uplink_enrollment')
        .where('id', '=', ENROLLMENT_ID)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async appendConsent(c) {
      const row = {
        id: c.id,
        category: c.category,
        granted: c.granted ? 1 : 0,
        at: toMs(c.at, 'at'),
        changed_by: c.by,
        source: c.source,
      };
      await withConstraints(`consent change ${c.id}`, () =>
        db.insertInto('consent_history').values(row).execute(),
      );
    },
    async consentHistory(category) {
      let q = db.selectFrom('consent_history').selectAll();
      if (category !== undefined) q = q.where('category', '=', category);
      const rows = await q.orderBy('n', 'desc').execute();
      return rows.map(rowToConsent);
    },
    async currentConsent() {
      const latest = db
        .selectFrom('consent_history')
        .select((eb) => eb.fn.max('n').as('n'))
        .groupBy('category');
      const rows = await db
        .selectFrom('consent_history')
        .selectAll()
        .where('n', 'in', latest)
        .orderBy('category')
        .execute();
      // fromEntries defines own properties: a category named `__proto__` stays a plain key.
      return Object.fromEntries(
        rows.map(rowToConsent).map((c) => [c.category, { granted: c.granted, at: c.at, by: c.by }]),
      );
    },
    state,
    async updateState(changes) {
      const queries = encodeState(changes).map(([key, value]): CompiledQuery => {
        if (value === null) return db.deleteFrom('uplink_state').where('key', '=', key).compile();
        return db
          .insertInto('uplink_state')
          .values({ key, value })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .compile();
      });
      await runWrites(queries);
      return state();
    },
  };
}
