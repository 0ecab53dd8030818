// Cloud, Firmware, Network diagnostics and Settings (with the organization and its sites): in the
// navigation now, each showing what is real today (sites) and, for what is not built yet, a clear
// "not configured yet" with what it will do and what to do meanwhile. The cloud uplink
// (cloud-page.tsx), firmware (firmware-page.tsx), network diagnostics (network-page.tsx) and users
// (users-page.tsx) have pages of their own.

import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { deleteVia, patchVia } from '../api/api-client';
import type { Organization, ServerInfo, Site } from '../api/types';
import { useApp, useTitle } from '../app-context';
import { formatDateTime, formatDuration } from '../format/time-format';
import { CloudPage } from './cloud-page';
import { FirmwarePage } from './firmware-page';
import { NetworkPage } from './network-page';

export type AdminPageName = 'cloud' | 'firmware' | 'network' | 'settings';

const TITLES: Record<AdminPageName, string> = {
  cloud: 'Cloud',
  firmware: 'Firmware',
  network: 'Network diagnostics',
  settings: 'Settings',
};

function useInfo(): ServerInfo | null {
  const { api } = useApp();
  const [info, setInfo] = useState<ServerInfo | null>(null);
  useEffect(() => {
    api.get<ServerInfo>('/api/v1/info').then(setInfo, () => undefined);
  }, [api]);
  return info;
}

function NotConfigured({ what, children }: { what: string; children: ComponentChildren }) {
  return (
    <section class="panel" aria-label={`${what}: not configured yet`}>
      <p>
        <span class="not-configured">Not configured yet</span>
      </p>
      {children}
    </section>
  );
}

export function AdminPage({ which }: { which: AdminPageName }) {
  useTitle(TITLES[which]);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">{TITLES[which]}</h1>
      </div>
      {which === 'cloud' ? <CloudPage /> : null}
      {which === 'firmware' ? <FirmwarePage /> : null}
      {which === 'network' ? <NetworkPage /> : null}
      {which === 'settings' ? <SettingsPage /> : null}
    </section>
  );
}

function SettingsPage() {
  const info = useInfo();
  return (
    <>
      <section class="panel" aria-labelledby="settings-server">
        <h2 id="settings-server">Server</h2>
        {info ? (
          <dl class="status-list">
            <dt>Version</dt>
            <dd>{info.version}</dd>
            <dt>Running since</dt>
            <dd>
              {formatDateTime(info.startedAt)} ({formatDuration(info.uptimeSeconds * 1000)})
            </dd>
            <dt>API documentation</dt>
            <dd>
              <a href="/api/docs">/api/docs</a>
            </dd>
          </dl>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </section>
      <SitesSection />
      <NotConfigured what="Settings in the dashboard">
        <p>
          Settings are read at start-up from the configuration file and <code>CC_*</code>{' '}
          environment variables; check a file with{' '}
          <code>command-center config check config.yaml</code> and restart to apply it. Editing them
          here arrives with the administration release.
        </p>
      </NotConfigured>
    </>
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The organization's name and its sites; changed by those with settings:manage on every site. */
function SitesSection() {
  const { api, can, me, notify } = useApp();
  const manage = can('settings:manage') && (me.user.sites ?? null) === null;
  const [org, setOrg] = useState<Organization | null>(null);
  const [orgName, setOrgName] = useState('');
  const [sites, setSites] = useState<Site[] | null>(null);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [timezone, setTimezone] = useState('');
  const reload = useCallback(() => {
    api.get<Organization>('/api/v1/organization').then(
      (o) => {
        setOrg(o);
        setOrgName(o.name);
      },
      () => undefined,
    );
    api.get<{ items: Site[] }>('/api/v1/sites').then(
      (r) => setSites(r.items),
      (err: unknown) => notify(`Sites could not be loaded: ${errorText(err)}`, 'error'),
    );
  }, [api, notify]);
  useEffect(reload, [reload]);

  async function run(done: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      notify(done, 'success');
    } catch (err) {
      notify(`Not done: ${errorText(err)}`, 'error');
    } finally {
      reload();
    }
  }

  return (
    <section class="panel" aria-labelledby="settings-sites">
      <h2 id="settings-sites">Organization and sites</h2>
      {manage ? (
        <form
          class="filters"
          aria-label="Organization"
          onSubmit={(e) => {
            e.preventDefault();
            void run('Organization renamed.', () =>
              patchVia(api, '/api/v1/organization', { name: orgName }),
            );
          }}
        >
          <div class="field grow">
            <label for="org-name">Organization name</label>
            <input
              id="org-name"
              required
              maxLength={200}
              value={orgName}
              onInput={(e) => setOrgName(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="button">
            Rename
          </button>
        </form>
      ) : (
        <p>Organization: {org?.name ?? '…'}</p>
      )}
      {sites === null ? (
        <p class="muted">Loading…</p>
      ) : sites.length === 0 ? (
        <p class="muted">
          No sites yet. Devices and users can be limited to sites once they exist.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label="Sites">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Time zone</th>
                <th scope="col" class="num">
                  Devices
                </th>
                {manage ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {sites.map((s) => (
                <tr key={s.id} data-site-id={s.id}>
                  <td>
                    <code>{s.id}</code>
                  </td>
                  <td>{s.name}</td>
                  <td>{s.timezone ?? '—'}</td>
                  <td class="num">{s.devices}</td>
                  {manage ? (
                    <td>
                      <button
                        type="button"
                        disabled={s.devices > 0}
                        title={s.devices > 0 ? 'Move or remove its devices first' : undefined}
                        onClick={() =>
                          void run(`Site ${s.id} removed.`, () =>
                            deleteVia(api, `/api/v1/sites/${encodeURIComponent(s.id)}`),
                          )
                        }
                      >
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {manage ? (
        <form
          class="filters"
          aria-label="Add a site"
          onSubmit={(e) => {
            e.preventDefault();
            void run(`Site ${id} added.`, () =>
              api.post('/api/v1/sites', {
                id,
                name,
                ...(timezone.trim() === '' ? {} : { timezone: timezone.trim() }),
              }),
            ).then(() => {
              setId('');
              setName('');
            });
          }}
        >
          <div class="field">
            <label for="site-id">Site id</label>
            <input
              id="site-id"
              required
              maxLength={64}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
              value={id}
              onInput={(e) => setId(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="site-name">Site name</label>
            <input
              id="site-name"
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="site-timezone">Time zone (optional)</label>
            <input
              id="site-timezone"
              placeholder="Europe/Berlin"
              value={timezone}
              onInput={(e) => setTimezone(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="button primary">
            Add site
          </button>
        </form>
      ) : null}
    </section>
  );
}
