// The one table of roles → permissions (DESIGN §1). Every route declares the permission it needs;
// extend the table here when a feature adds a permission.

import type { Role } from '../store/index.js';

export const PERMISSIONS = [
  /** Devices, their views and metric history, the live stream. */
  'fleet:read',
  /** Every job (without it, only jobs the user owns). */
  'jobs:read-all',
  /** Pause, resume and cancel jobs. */
  'jobs:act',
  'alerts:read',
  'alerts:ack',
  /** Add, approve and remove devices. */
  'devices:manage',
  /** Create, list and revoke one's own API tokens. */
  'tokens:manage',
  'users:manage',
  'settings:manage',
  /** Prometheus /metrics. */
  'metrics:read',
  /** The OpenAPI document and the interactive API docs. */
  'docs:read',
  /** The audit log. */
  'audit:read',
  /** Upload firmware packages and run rollouts. */
  'firmware:manage',
  /** Cloud enrollment, the uplink and data-sharing consent. */
  'cloud:manage',
  /** Run the network doctor and read its results. */
  'diagnostics:run',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * What a route declares: a permission; 'authenticated' for any valid credential (e.g. "who am I");
 * or 'public' for the few routes open to anyone.
 */
export type RoutePermission = Permission | 'authenticated' | 'public';

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  operator: [
    'fleet:read',
    'jobs:read-all',
    'jobs:act',
    'alerts:read',
    'alerts:ack',
    'tokens:manage',
    'docs:read',
  ],
  /** A read-only wall display or kiosk: no actions, no tokens. */
  dashboard: ['fleet:read', 'jobs:read-all', 'alerts:read'],
  /** Read-only; sees only the jobs it owns. */
  user: ['fleet:read', 'alerts:read', 'tokens:manage', 'docs:read'],
};

/**
 * Permissions over the whole organization rather than over devices: their records (the audit log,
 * settings, the cloud enrollment) are not divided by site, so a principal limited to some sites
 * does not hold them, whatever its role.
 */
export const ORGANIZATION_WIDE_PERMISSIONS: readonly Permission[] = [
  'audit:read',
  'settings:manage',
  'cloud:manage',
  'diagnostics:run',
];

/** What a principal of `role`, limited to `sites` (null: every site), may do. */
export function permissionsFor(role: Role, sites: readonly string[] | null): Permission[] {
  const all = ROLE_PERMISSIONS[role];
  return sites === null ? [...all] : all.filter((p) => !ORGANIZATION_WIDE_PERMISSIONS.includes(p));
}

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export function isRoutePermission(value: unknown): value is RoutePermission {
  return (
    value === 'public' ||
    value === 'authenticated' ||
    (PERMISSIONS as readonly unknown[]).includes(value)
  );
}
