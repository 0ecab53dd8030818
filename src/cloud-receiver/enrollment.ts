// POST /v1/enroll: a server proves it belongs to the organization with the enrollment token and gets
// a new site id, a fresh 32-byte site secret and its key id. Enrolling again supersedes the
// server's previous site, whose secret then stops working.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ReceiverError } from './receiver-errors.js';
import type { ReceiverStore } from './receiver-store.js';

export interface EnrollRequest {
  organizationId: string;
  enrollmentToken: string;
  server: { name: string; version: string };
}

export interface EnrollResponse {
  siteId: string;
  /** base64 of 32 random bytes; the uplink keys are derived from it (DESIGN §4.4). */
  siteSecret: string;
  kid: string;
  reportIntervalSeconds: number;
}

export const SITE_SECRET_BYTES = 32;

const LIMITS = { organizationId: 128, enrollmentToken: 512, name: 128, version: 64 } as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((k) => keys.includes(k));
}

function text(value: unknown, field: string, max: number): string {
  // Control characters would end up in listings and logs.
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > max ||
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    throw new ReceiverError(
      'BAD_REQUEST',
      `${field} must be a string of 1–${max} printable characters`,
    );
  }
  return value;
}

export function parseEnrollRequest(body: unknown): EnrollRequest {
  if (!isRecord(body) || !hasOnlyKeys(body, ['organizationId', 'enrollmentToken', 'server'])) {
    throw new ReceiverError(
      'BAD_REQUEST',
      'the body must be { organizationId, enrollmentToken, server: { name, version } }',
    );
  }
  const server = body.server;
  if (!isRecord(server) || !hasOnlyKeys(server, ['name', 'version'])) {
    throw new ReceiverError('BAD_REQUEST', 'server must be { name, version }');
  }
  return {
    organizationId: text(body.organizationId, 'organizationId', LIMITS.organizationId),
    enrollmentToken: text(body.enrollmentToken, 'enrollmentToken', LIMITS.enrollmentToken),
    server: {
      name: text(server.name, 'server.name', LIMITS.name),
      version: text(server.version, 'server.version', LIMITS.version),
    },
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export interface EnrollmentCredentials {
  organizationId: string;
  enrollmentToken: string;
}

/** Constant time: both comparisons always run, on digests of equal length. */
export function credentialsMatch(request: EnrollRequest, expected: EnrollmentCredentials): boolean {
  const orgOk = timingSafeEqual(digest(request.organizationId), digest(expected.organizationId));
  const tokenOk = timingSafeEqual(
    digest(request.enrollmentToken),
    digest(expected.enrollmentToken),
  );
  return orgOk && tokenOk;
}

export function enroll(
  store: ReceiverStore,
  request: EnrollRequest,
  options: EnrollmentCredentials & { reportIntervalSeconds: number; now: Date },
): { response: EnrollResponse; superseded: string[] } {
  if (!credentialsMatch(request, options)) {
    throw new ReceiverError(
      'ENROLLMENT_REFUSED',
      'the organization or the enrollment token is not valid',
    );
  }
  const secret = randomBytes(SITE_SECRET_BYTES);
  const siteId = `site-${randomBytes(10).toString('hex')}`;
  const kid = `k-${randomBytes(6).toString('hex')}`;
  const superseded = store.addSite({
    siteId,
    organizationId: options.organizationId,
    serverName: request.server.name,
    serverVersion: request.server.version,
    kid,
    secret,
    enrolledAt: options.now.toISOString(),
  });
  return {
    response: {
      siteId,
      siteSecret: secret.toString('base64'),
      kid,
      reportIntervalSeconds: options.reportIntervalSeconds,
    },
    superseded,
  };
}
