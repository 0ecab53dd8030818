// Authentication and authorization: users, roles and permissions, setup, sessions, API tokens.
export {
  createAuth,
  DEFAULT_LOCKOUT,
  type Auth,
  type AuthConfig,
  type AuthDeps,
  type Credentials,
} from './auth.js';
export { DEFAULT_AUDIT_THROTTLE, type AuditThrottleOptions } from './audit-trail.js';
export {
  DEFAULT_INVITE_HOURS,
  MAX_INVITE_HOURS,
  type CreatedInvite,
  type InviteRequest,
  type InviteView,
} from './invites.js';
export { SITE_ID_PATTERN } from './site-checks.js';
export { DEFAULT_ORGANIZATION_NAME, type SiteRequest } from './sites.js';
export type { RequestOrigin, UserUpdate, UserView } from './users.js';
export type { ApiTokens, CreatedToken, TokenRequest, TokenSummary } from './api-tokens.js';
export { MAX_TOKEN_DAYS } from './api-tokens.js';
export { DEFAULT_LOGIN_LIMITS, type LoginLimiterOptions } from './login-limiter.js';
export {
  checkPasswordPolicy,
  hashPassword,
  verifyPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_PATTERN,
} from './passwords.js';
export {
  ORGANIZATION_WIDE_PERMISSIONS,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  isRoutePermission,
  permissionsFor,
  roleHasPermission,
  type Permission,
  type RoutePermission,
} from './permissions.js';
export {
  actorName,
  intersectSites,
  siteVisible,
  type Principal,
  type UserSummary,
} from './principal.js';
export { SESSION_COOKIE, type LoginResult, type Resolution } from './sessions.js';
export type { SetupRequest } from './setup.js';
export { createSecretBox, loadSecretKey, type SecretBox } from './secret-box.js';
