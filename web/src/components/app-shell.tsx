// The frame around every page of a logged-in session: skip link, header with the connection
// indicator and the user, navigation, the storage banner and the main landmark.

import type { ComponentChildren } from 'preact';
import { useApp, useFleetVersion } from '../app-context';
import type { Route } from '../router';
import { ConnectionIndicator } from './connection-indicator';
import { Link } from './link';
import { StorageBanner } from './storage-banner';

interface NavItem {
  href: string;
  label: string;
  route: Route['name'];
  permission?: string;
}

const OPERATE: NavItem[] = [
  { href: '/fleet', label: 'Fleet', route: 'fleet' },
  { href: '/jobs', label: 'Jobs', route: 'jobs' },
  { href: '/alerts', label: 'Alerts', route: 'alerts', permission: 'alerts:read' },
  { href: '/wall', label: 'Wall display', route: 'wall' },
];

const ADMINISTER: NavItem[] = [
  { href: '/cloud', label: 'Cloud', route: 'cloud' },
  { href: '/firmware', label: 'Firmware', route: 'firmware' },
  { href: '/network', label: 'Network diagnostics', route: 'network' },
  { href: '/users', label: 'Users', route: 'users' },
  { href: '/audit', label: 'Audit log', route: 'audit', permission: 'audit:read' },
  { href: '/settings', label: 'Settings', route: 'settings' },
];

export function AppShell({ route, children }: { route: Route; children: ComponentChildren }) {
  const app = useApp();
  useFleetVersion(app.fleet);
  let openAlerts = 0;
  for (const d of app.fleet.devices.values()) openAlerts += d.openAlerts.length;
  const active = route.name === 'device' ? 'fleet' : route.name;
  const item = (n: NavItem) =>
    n.permission && !app.can(n.permission) ? null : (
      <li key={n.href}>
        <Link href={n.href} current={active === n.route} class="nav-link">
          {n.label}
          {n.route === 'alerts' && openAlerts > 0 ? (
            <span class="nav-count" aria-label={`${openAlerts} open`}>
              {openAlerts}
            </span>
          ) : null}
        </Link>
      </li>
    );
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/fleet" class="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>Command Center</span>
        </Link>
        <ConnectionIndicator status={app.connection} onRetry={app.reconnect} />
        <div class="user">
          <span class="user-name" title={app.me.permissions.join(', ')}>
            {app.me.user.username} <span class="role">{app.me.user.role}</span>
          </span>
          <button type="button" class="button secondary" onClick={app.logout}>
            Log out
          </button>
        </div>
      </header>
      <nav class="sidenav" aria-label="Main">
        <ul>{OPERATE.map(item)}</ul>
        <p class="nav-heading" id="nav-admin">
          Administration
        </p>
        <ul aria-labelledby="nav-admin">{ADMINISTER.map(item)}</ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <StorageBanner />
        {children}
      </main>
    </div>
  );
}
