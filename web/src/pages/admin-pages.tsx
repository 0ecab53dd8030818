// Cloud, Firmware, Network diagnostics, Users and Settings: in the navigation now, each showing
// what is real today (ports, versions, the logged-in user) and, for what is not built yet, a clear
// "not configured yet" with what it will do and what to do meanwhile.

import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ServerInfo } from '../api/types';
import { useApp, useFleetVersion, useTitle } from '../app-context';
import { formatDateTime, formatDuration } from '../format/time-format';

export type AdminPageName = 'cloud' | 'firmware' | 'network' | 'users' | 'settings';

const TITLES: Record<AdminPageName, string> = {
  cloud: 'Cloud',
  firmware: 'Firmware',
  network: 'Network diagnostics',
  users: 'Users',
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
      {which === 'users' ? <UsersPage /> : null}
      {which === 'settings' ? <SettingsPage /> : null}
    </section>
  );
}

function CloudPage() {
  return (
    <NotConfigured what="Cloud uplink">
      <p>
        The cloud uplink sends a small encrypted status and health report to the vendor cloud every
        5 minutes — outgoing HTTPS only, through the system proxy, to allow-listed endpoints, and
        sharing non-anonymous data only with your recorded consent.
      </p>
      <p>
        It arrives with the cloud uplink release (enrollment, consent and proxy settings on this
        page). Until then <strong>nothing leaves this site</strong>; there is nothing to do.
      </p>
    </NotConfigured>
  );
}

function FirmwarePage() {
  const { fleet } = useApp();
  const version = useFleetVersion(fleet);
  const rows = useMemo(() => {
    const byKey = new Map<string, { model: string; firmware: string; count: number }>();
    for (const d of fleet.devices.values()) {
      const key = `${d.model}\u0000${d.firmwareVersion}`;
      const row = byKey.get(key) ?? { model: d.model, firmware: d.firmwareVersion, count: 0 };
      row.count += 1;
      byKey.set(key, row);
    }
    return [...byKey.values()].sort(
      (a, b) => a.model.localeCompare(b.model) || a.firmware.localeCompare(b.firmware),
    );
  }, [fleet, version]);
  return (
    <>
      <section class="panel" aria-labelledby="fw-installed">
        <h2 id="fw-installed">Installed firmware</h2>
        {rows.length === 0 ? (
          <p class="muted">No devices yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Firmware version</th>
                  <th scope="col" class="num">
                    Devices
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.model}/${r.firmware}`}>
                    <td>{r.model || '—'}</td>
                    <td>{r.firmware || '—'}</td>
                    <td class="num">{r.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <NotConfigured what="Firmware rollouts">
        <p>
          Vendor-signed firmware packages, verified by this server and by each device before
          installation, and staged rollouts arrive with the firmware release. Until then, update
          devices with the vendor's tools; the versions above update by themselves.
        </p>
      </NotConfigured>
    </>
  );
}

function NetworkPage() {
  const info = useInfo();
  const host = window.location.hostname;
  return (
    <>
      <section class="panel" aria-labelledby="net-ports">
        <h2 id="net-ports">Ports in use</h2>
        {info ? (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Address</th>
                  <th scope="col">Who connects</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td>Client API and dashboard (HTTPS)</td>
                  <td>
                    <code>
                      https://{host}:{info.ports.https}
                    </code>
                  </td>
                  <td>browsers, the CLI, integrations</td>
                </tr>
                <tr>
                  <td>Plain HTTP (redirect, health, CA certificate)</td>
                  <td>
                    <code>
                      http://{host}:{info.ports.http}
                    </code>
                  </td>
                  <td>browsers (redirected), monitoring</td>
                </tr>
                <tr>
                  <td>MQTT broker</td>
                  <td>
                    <code>
                      mqtt://{host}:{info.ports.mqtt}
                    </code>
                  </td>
                  <td>devices, read-only integrations</td>
                </tr>
              </tbody>
            </table>
          </div>
        ) : (
          <p class="muted">Loading…</p>
        )}
        <p class="muted small">
          Open these ports to the device and client networks in the site firewall. Nothing needs an
          incoming port from the internet.
        </p>
      </section>
      <NotConfigured what="Network doctor">
        <p>
          The network doctor will test every required endpoint and port (cloud, firmware catalog,
          proxy, device networks) and name exactly what is blocked. It arrives with the network
          diagnostics release. Meanwhile, a device that cannot connect is counted in{' '}
          <code>cc_mqtt_auth_failures_total</code> and a device that stops answering shows{' '}
          <code>offline</code> on the Fleet page.
        </p>
      </NotConfigured>
    </>
  );
}

function UsersPage() {
  const { me } = useApp();
  return (
    <>
      <section class="panel" aria-labelledby="users-me">
        <h2 id="users-me">You</h2>
        <dl class="status-list">
          <dt>User name</dt>
          <dd>{me.user.username}</dd>
          <dt>Role</dt>
          <dd>{me.user.role}</dd>
          <dt>Signed in with</dt>
          <dd>{me.via === 'session' ? 'password (browser session)' : 'API token'}</dd>
          <dt>Session ends</dt>
          <dd>{formatDateTime(me.expiresAt)}</dd>
          <dt>Permissions</dt>
          <dd>{me.permissions.join(', ')}</dd>
        </dl>
      </section>
      <NotConfigured what="User management">
        <p>
          Adding operators, wall-display accounts and read-only users, and scoping them to sites,
          arrives with user management. Roles: <strong>admin</strong> (everything),{' '}
          <strong>operator</strong> (watch, act on jobs, acknowledge alerts),{' '}
          <strong>dashboard</strong> (read-only wall display), <strong>user</strong> (read-only, own
          jobs). Scripts use API tokens (<code>POST /api/v1/tokens</code>, see the API docs).
        </p>
      </NotConfigured>
    </>
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
