// Schemas shared by the account routes (users, invites, sites, organization).

import { Type } from 'typebox';
import { RoleSchema } from '../schemas.js';

const time = Type.String({ format: 'date-time' });
const nullableTime = Type.Union([time, Type.Null()]);

export const SiteIdSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'A site id (slug)',
});

/** A site scope as accepted: distinct existing site ids, or null for every site. */
export const SitesInputSchema = Type.Union([
  Type.Array(SiteIdSchema, { minItems: 1, maxItems: 500 }),
  Type.Null(),
]);

export const SitesOutputSchema = Type.Union([Type.Array(Type.String()), Type.Null()], {
  description: 'Site ids; null for every site',
});

export const UserViewSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  sites: SitesOutputSchema,
  createdAt: time,
  disabledAt: nullableTime,
  lastLoginAt: nullableTime,
  lockedUntil: Type.Union([time, Type.Null()], {
    description: 'End of a login lockout in force (POST …/unlock lifts it)',
  }),
});

export const InviteViewSchema = Type.Object({
  id: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
  sites: SitesOutputSchema,
  createdBy: Type.String(),
  createdAt: time,
  expiresAt: time,
});

export const SiteSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  createdAt: time,
  devices: Type.Integer({ description: 'Devices in the site now' }),
});

export const OrganizationSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: time,
  updatedAt: time,
});

/** Printable text without control characters. */
export const textOf = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
