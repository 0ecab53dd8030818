// The device registry, remote commands and the append-only audit log.

import type { Kysely, Selectable } from 'kysely';
import type {
  CommandAction,
  CommandChannel,
  CommandStatus,
  DeviceCommand,
} from '../../domain/index.js';
import type {
  AuditEntry,
  AuditRepository,
  CommandRepository,
  DeviceRegistration,
  DeviceRegistrationRepository,
  PinState,
} from '../store.js';
import type {
  AuditLogTable,
  CommandsTable,
  Database,
  DeviceRegistrationsTable,
} from './database.js';
import { inDevices } from './fleet-repositories.js';
import { checkPage, countOf, startsWithLiteral } from './paging.js';
import { fromMs, fromMsOrNull, toMs, toMsOrNull } from './time-columns.js';

function rowToRegistration(r: Selectable<DeviceRegistrationsTable>): DeviceRegistration {
  return {
    deviceId: r.device_id,
    baseUrl: r.base_url,
    pinState: r.pin_state as PinState,
    fingerprint256: r.fingerprint256,
    presentedFingerprint256: r.presented_fingerprint256,
    credentialSealed: r.credential_sealed,
    displayName: r.display_name,
    siteId: r.site_id,
    createdAt: fromMs(r.created_at),
    updatedAt: fromMs(r.updated_at),
    approvedBy: r.approved_by,
    approvedAt: fromMsOrNull(r.approved_at),
  };
}

function rowToCommand(r: Selectable<CommandsTable>): DeviceCommand {
  return {
    id: r.id,
    deviceId: r.device_id,
    action: r.action as CommandAction,
    targetId: r.target_id,
    channel: r.channel as CommandChannel,
    status: r.status as CommandStatus,
    message: r.message,
    requestedBy: r.requested_by,
    requestedAt: fromMs(r.requested_at),
    completedAt: fromMsOrNull(r.completed_at),
  };
}

function rowToAudit(r: Selectable<AuditLogTable>): AuditEntry {
  let details: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.details);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      details = parsed as Record<string, unknown>;
    }
  } catch {
    // Written by this module as JSON; an unreadable row still shows who did what.
  }
  return {
    id: r.id,
    at: fromMs(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditEntry['outcome'],
    source: r.source,
    details,
  };
}

export function createRegistrationRepository(db: Kysely<Database>): DeviceRegistrationRepository {
  return {
    async get(deviceId) {
      const r = await db
        .selectFrom('device_registrations')
        .selectAll()
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      return r && rowToRegistration(r);
    },
    async all() {
      const rows = await db
        .selectFrom('device_registrations')
        .selectAll()
        .orderBy('device_id')
        .execute();
      return rows.map(rowToRegistration);
    },
    async put(reg) {
      const values = {
        device_id: reg.deviceId,
        base_url: reg.baseUrl,
        pin_state: reg.pinState,
        fingerprint256: reg.fingerprint256,
        presented_fingerprint256: reg.presentedFingerprint256,
        credential_sealed: reg.credentialSealed,
        display_name: reg.displayName,
        site_id: reg.siteId,
        created_at: toMs(reg.createdAt, 'createdAt'),
        updated_at: toMs(reg.updatedAt, 'updatedAt'),
        approved_by: reg.approvedBy,
        approved_at: toMsOrNull(reg.approvedAt, 'approvedAt'),
      };
      await db
        .insertInto('device_registrations')
        .values(values)
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet({
            base_url: values.base_url,
            pin_state: values.pin_state,
            fingerprint256: values.fingerprint256,
            presented_fingerprint256: values.presented_fingerprint256,
            credential_sealed: values.credential_sealed,
            display_name: values.display_name,
            site_id: values.site_id,
            updated_at: values.updated_at,
            approved_by: values.approved_by,
            approved_at: values.approved_at,
          }),
        )
        .execute();
    },
    async remove(deviceId) {
      await db.deleteFrom('device_registrations').where('device_id', '=', deviceId).execute();
    },
  };
}

export function createCommandRepository(db: Kysely<Database>): CommandRepository {
  const get = async (id: string): Promise<DeviceCommand | undefined> => {
    const r = await db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToCommand(r);
  };
  return {
    get,
    async create(c) {
      await db
        .insertInto('commands')
        .values({
          id: c.id,
          device_id: c.deviceId,
          action: c.action,
          target_id: c.targetId,
          channel: c.channel,
          status: c.status,
          message: c.message,
          requested_by: c.requestedBy,
          requested_at: toMs(c.requestedAt, 'requestedAt'),
          completed_at: toMsOrNull(c.completedAt, 'completedAt'),
        })
        .execute();
    },
    async complete(id, outcome) {
      await db
        .updateTable('commands')
        .set({
          status: outcome.status,
          message: outcome.message,
          completed_at: toMs(outcome.completedAt, 'completedAt'),
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      return get(id);
    },
    async list(filter) {
      const page = checkPage(filter);
      let q = db.selectFrom('commands');
      if (filter.deviceId !== undefined) q = q.where('device_id', '=', filter.deviceId);
      const ids = filter.deviceIds;
      if (ids !== undefined) q = q.where((eb) => inDevices(eb, ids));
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      const rows = await q
        .selectAll()
        .orderBy('requested_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToCommand), total: countOf(total), ...page };
    },
    async pending() {
      const rows = await db
        .selectFrom('commands')
        .selectAll()
        .where('status', '=', 'pending')
        .orderBy('requested_at')
        .execute();
      return rows.map(rowToCommand);
    },
  };
}

export function createAuditRepository(db: Kysely<Database>): AuditRepository {
  return {
    async append(e) {
      await db
        .insertInto('audit_log')
        .values({
          id: e.id,
          at: toMs(e.at, 'at'),
          actor: e.actor,
          action: e.action,
          target: e.target,
          outcome: e.outcome,
          source: e.source,
          details: JSON.stringify(e.details),
        })
        .execute();
    },
    async list(filter) {
      const page = checkPage(filter);
      let q = db.selectFrom('audit_log');
      if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
      const action = filter.action;
      if (action?.endsWith('*')) {
        q = q.where(() => startsWithLiteral('action', action.slice(0, -1)));
      } else if (action !== undefined) {
        q = q.where('action', '=', action);
      }
      if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
      if (filter.target !== undefined) q = q.where('target', '=', filter.target);
      if (filter.since !== undefined) q = q.where('at', '>=', toMs(filter.since, 'since'));
      if (filter.until !== undefined) q = q.where('at', '<', toMs(filter.until, 'until'));
      const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      const rows = await q
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { items: rows.map(rowToAudit), total: countOf(total), ...page };
    },
  };
}
