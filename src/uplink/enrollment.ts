// Enrollment with the vendor cloud: the admin gives the organization id and a one-time enrollment
// token; the cloud answers with this server's site id, the site secret and its key id. The secret
// is sealed with the data directory's secret box before it is stored and is never logged.

import { hostname } from 'node:os';
import type { SecretBox } from '../auth/index.js';
import { CcError } from '../domain/index.js';
import type { UplinkEnrollment } from '../store/index.js';
import { postJson, type SendPolicy, type SendResult } from './sender/index.js';
import { describeSendFailure } from './send-failure.js';

export interface EnrollRequest {
  organizationId: string;
  enrollmentToken: string;
  /** The cloud base URL; the configured uplink.endpoint when absent. */
  endpoint: string;
}

/** What the cloud hands back at enrollment. */
export interface EnrollAnswer {
  siteId: string;
  siteSecret: Buffer;
  kid: string;
  reportIntervalSeconds: number | null;
}

const SECRET_CONTEXT = 'uplink-site-secret';
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** `base` + `path`, keeping base's own path (`https://h/cc` + `v1/enroll` → `https://h/cc/v1/enroll`). */
export function cloudUrl(base: string, path: string): string {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).href;
}

function parseAnswer(result: SendResult): EnrollAnswer {
  const body = result.body as Record<string, unknown> | null;
  const siteId = body?.siteId;
  const kid = body?.kid;
  const secret = body?.siteSecret;
  const interval = body?.reportIntervalSeconds;
  const secretBytes =
    typeof secret === 'string' && /^[A-Za-z0-9+/]{43,}={0,2}$/.test(secret)
      ? Buffer.from(secret, 'base64')
      : null;
  if (
    typeof siteId !== 'string' ||
    !ID.test(siteId) ||
    typeof kid !== 'string' ||
    !ID.test(kid) ||
    secretBytes === null ||
    secretBytes.length < 32 ||
    secretBytes.length > 64
  ) {
    throw new CcError(
      'CLOUD_BAD_RESPONSE',
      'the cloud accepted the enrollment but its answer lacks a valid site id, key id or secret',
    );
  }
  return {
    siteId,
    kid,
    siteSecret: secretBytes,
    reportIntervalSeconds:
      typeof interval === 'number' && Number.isInteger(interval) && interval > 0 ? interval : null,
  };
}

/** Asks the cloud to enroll this server. Throws CLOUD_* errors with what to do. */
export async function requestEnrollment(
  request: EnrollRequest,
  policy: SendPolicy,
  version: string,
  signal?: AbortSignal,
): Promise<EnrollAnswer> {
  let result: SendResult;
  try {
    result = await postJson(
      cloudUrl(request.endpoint, 'v1/enroll'),
      {
        organizationId: request.organizationId,
        enrollmentToken: request.enrollmentToken,
        server: { name: hostname(), version },
      },
      policy,
      signal,
    );
  } catch (err) {
    throw new CcError('CLOUD_UNREACHABLE', `cannot reach the cloud: ${describeSendFailure(err)}`);
  }
  if (result.status === 401 || result.status === 403) {
    throw new CcError(
      'CLOUD_ENROLLMENT_REFUSED',
      'the cloud refused the organization id or the enrollment token: check both, or ask the vendor for a new token',
    );
  }
  if (result.status < 200 || result.status > 299) {
    throw new CcError(
      'CLOUD_BAD_RESPONSE',
      `the cloud answered the enrollment with HTTP ${result.status}`,
    );
  }
  return parseAnswer(result);
}

export function sealEnrollment(
  secrets: SecretBox,
  request: EnrollRequest,
  answer: EnrollAnswer,
  by: string,
  at: Date,
): UplinkEnrollment {
  return {
    organizationId: request.organizationId,
    siteId: answer.siteId,
    kid: answer.kid,
    sealedSecret: secrets.seal(
      answer.siteSecret.toString('base64'),
      `${SECRET_CONTEXT}:${answer.siteId}`,
    ),
    endpoint: request.endpoint,
    enrolledAt: at.toISOString(),
    enrolledBy: by,
  };
}

export function openSiteSecret(secrets: SecretBox, enrollment: UplinkEnrollment): Buffer {
  return Buffer.from(
    secrets.open(enrollment.sealedSecret, `${SECRET_CONTEXT}:${enrollment.siteId}`),
    'base64',
  );
}
