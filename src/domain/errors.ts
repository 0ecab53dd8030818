// The one error type of the product: a stable code for programs and a message for people.
// The HTTP layer maps codes to status codes; nothing else should parse messages.

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  SESSION_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  SITE_NOT_FOUND: 404,
  INVITE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  SETUP_ALREADY_DONE: 409,
  DEVICE_EXISTS: 409,
  /** The change would leave no enabled administrator with access to every site. */
  LAST_ADMIN: 409,
  SITE_NOT_EMPTY: 409,
  /** An invitation link that was used already or has expired. */
  INVITE_EXPIRED: 410,
  INVITE_INVALID: 403,
  SETUP_TOKEN_INVALID: 403,
  RATE_LIMITED: 429,
  // A device's own Web Services answered badly or not at all (the server is the client here).
  DEVICE_UNREACHABLE: 502,
  DEVICE_TIMEOUT: 504,
  DEVICE_BAD_RESPONSE: 502,
  DEVICE_AUTH_FAILED: 502,
  DEVICE_CERTIFICATE_MISMATCH: 502,
  DEVICE_REJECTED: 409,
  DEVICE_NOT_APPROVED: 409,
  DEVICE_NO_WEB_SERVICES: 409,
  DEVICE_RESPONSE_TOO_LARGE: 502,
  // The API Proxy refused a call on its own checks, before anything reached the device.
  PROXY_BAD_TARGET: 400,
  PROXY_SCOPE_REQUIRED: 403,
  PROXY_DEVICE_FORBIDDEN: 403,
  PROXY_METHOD_FORBIDDEN: 403,
  PROXY_PATH_FORBIDDEN: 403,
  PROXY_MISDIRECTED: 421,
  PROXY_DEVICE_BUSY: 503,
  // The cloud uplink: enrollment and delivery to the vendor cloud.
  CLOUD_NOT_ENROLLED: 409,
  CLOUD_DISABLED: 409,
  CLOUD_ENROLLMENT_REFUSED: 422,
  CLOUD_UNREACHABLE: 502,
  CLOUD_BAD_RESPONSE: 502,
  // Firmware packages refused by verification (src/firmware, docs/firmware.md).
  FIRMWARE_PACKAGE_INVALID: 422,
  FIRMWARE_TOO_LARGE: 413,
  FIRMWARE_MANIFEST_INVALID: 422,
  FIRMWARE_SIGNATURE_INVALID: 422,
  FIRMWARE_KEY_UNTRUSTED: 422,
  FIRMWARE_THRESHOLD_NOT_MET: 422,
  FIRMWARE_IMAGE_MISMATCH: 422,
  FIRMWARE_MODEL_MISMATCH: 409,
  FIRMWARE_EXPIRED: 422,
  FIRMWARE_ROLLBACK: 409,
  /** A network doctor run is already in progress. */
  DIAGNOSTICS_RUNNING: 409,
  // The CLI could not reach the Command Center server itself.
  SERVER_UNREACHABLE: 502,
  CONFIG_INVALID: 500,
  PORT_RANGE_EXHAUSTED: 500,
  TLS_INVALID: 500,
  STORE_FAILED: 500,
  /** The data directory's disk is (nearly) full: writes are refused until space is freed. */
  STORAGE_FULL: 507,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class CcError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CcError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isCcError(err: unknown): err is CcError {
  return err instanceof CcError;
}
