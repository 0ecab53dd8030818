// The organization this server belongs to and its sites: what users, API tokens and devices are
// scoped to. Anyone may read the sites they can see; changing them needs `settings:manage` and
// access to every site (a site-scoped administrator cannot create or remove sites).

import { randomUUID } from 'node:crypto';
import { CcError, nowIso } from '../domain/index.js';
import type { Organization, Site, SiteChanges, Store } from '../store/index.js';
import type { AuditTrail } from './audit-trail.js';
import { actorName, type Principal } from './principal.js';
import { SITE_ID_PATTERN } from './site-checks.js';

export const DEFAULT_ORGANIZATION_NAME = 'My organization';

export interface SiteRequest {
  id: string;
  name: string;
  description?: string | null | undefined;
  timezone?: string | null | undefined;
}

export interface Sites {
  organization(): Promise<Organization>;
  renameOrganization(by: Principal, name: string, source: string | null): Promise<Organization>;
  list(by: Principal): Promise<Site[]>;
  create(by: Principal, request: SiteRequest, source: string | null): Promise<Site>;
  update(by: Principal, id: string, changes: SiteChanges, source: string | null): Promise<Site>;
  /** `devicesInSite` is how many devices are in the site now; more than none is SITE_NOT_EMPTY. */
  remove(by: Principal, id: string, devicesInSite: number, source: string | null): Promise<void>;
}

/** Creates the organization with the default name when there is none (setup, older databases). */
export async function ensureOrganization(store: Store): Promise<Organization> {
  const existing = await store.organization.get();
  if (existing) return existing;
  const now = nowIso();
  const organization = {
    id: randomUUID(),
    name: DEFAULT_ORGANIZATION_NAME,
    createdAt: now,
    updatedAt: now,
  };
  await store.organization.put(organization);
  return (await store.organization.get()) ?? organization;
}

function checkText(field: string, value: string, max: number): string {
  const trimmed = value.trim();

  if (trimmed.length === 0 || trimmed.length > max || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new CcError('VALIDATION_FAILED', `${field} is 1–${max} printable characters`, { field });
  }
  return trimmed;
}

function checkTimezone(timezone: string | null | undefined): string | null | undefined {
  if (timezone === null || timezone === undefined) return timezone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return timezone;
  } catch {
    throw new CcError(
      'VALIDATION_FAILED',
      `${timezone} is not an IANA time zone (e.g. Europe/Berlin)`,
      {
        field: 'timezone',
      },
    );
  }
}

function checkDescription(text: string | null | undefined): string | null | undefined {
  return text === null || text === undefined ? text : checkText('description', text, 1000);
}

function assertManagesAll(by: Principal): void {
  if (by.sites !== null) {
    throw new CcError(
      'FORBIDDEN',
      'changing sites and the organization needs access to every site',
    );
  }
}

export function createSites(deps: { store: Store; audit: AuditTrail }): Sites {
  const { store, audit } = deps;

  function notFound(id: string): CcError {
    return new CcError('SITE_NOT_FOUND', `no site with id ${id}`);
  }

  async function record(
    by: Principal,
    action: string,
    target: string,
    source: string | null,
    details: Record<string, unknown>,
  ): Promise<void> {
    await audit.record({ actor: actorName(by), action, target, outcome: 'ok', source, details });
  }

  return {
    organization: () => ensureOrganization(store),

    async renameOrganization(by, name, source) {
      assertManagesAll(by);
      const current = await ensureOrganization(store);
      const next = { ...current, name: checkText('name', name, 200), updatedAt: nowIso() };
      await store.organization.put(next);
      await record(by, 'organization.update', current.id, source, {
        name: next.name,
        previousName: current.name,
      });
      return next;
    },

    async list(by) {
      const sites = await store.sites.list();
      return by.sites === null ? sites : sites.filter((s) => by.sites?.includes(s.id));
    },

    async create(by, request, source) {
      assertManagesAll(by);
      if (!SITE_ID_PATTERN.test(request.id)) {
        throw new CcError(
          'VALIDATION_FAILED',
          'a site id is 1–64 of A-Z a-z 0-9 . _ - and starts with a letter or digit',
          { field: 'id' },
        );
      }
      const site: Site = {
        id: request.id,
        name: checkText('name', request.name, 200),
        description: checkDescription(request.description) ?? null,
        timezone: checkTimezone(request.timezone) ?? null,
        createdAt: nowIso(),
      };
      await store.sites.create(site);
      await record(by, 'site.create', site.id, source, {
        name: site.name,
        timezone: site.timezone,
      });
      return site;
    },

    async update(by, id, changes, source) {
      assertManagesAll(by);
      if (!(await store.sites.get(id))) throw notFound(id);
      const next: SiteChanges = {
        ...(changes.name !== undefined ? { name: checkText('name', changes.name, 200) } : {}),
        ...(changes.description !== undefined
          ? { description: checkDescription(changes.description) ?? null }
          : {}),
        ...(changes.timezone !== undefined
          ? { timezone: checkTimezone(changes.timezone) ?? null }
          : {}),
      };
      const site = await store.sites.update(id, next);
      if (!site) throw notFound(id);
      await record(by, 'site.update', id, source, { ...next });
      return site;
    },

    async remove(by, id, devicesInSite, source) {
      assertManagesAll(by);
      const site = await store.sites.get(id);
      if (!site) throw notFound(id);
      if (devicesInSite > 0) {
        throw new CcError(
          'SITE_NOT_EMPTY',
          `site ${id} still has ${devicesInSite} device(s); move or remove them first`,
          { devices: devicesInSite },
        );
      }
      await store.sites.remove(id);
      await record(by, 'site.delete', id, source, { name: site.name });
    },
  };
}
