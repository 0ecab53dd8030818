// The firmware refusal codes (a subset of domain/errors.ts's ERROR_STATUS) and the error that
// carries one, with the failed check's reason as its message.

import { CcError, ERROR_STATUS } from '../domain/index.js';

export const FIRMWARE_ERROR_STATUS = {
  /** Not a well-formed package: tar layout, entries, names, types, truncation. */
  FIRMWARE_PACKAGE_INVALID: 422,
  FIRMWARE_TOO_LARGE: 413,
  FIRMWARE_MANIFEST_INVALID: 422,
  /** Missing or malformed manifest.sig, or no signature verifies with a known key. */
  FIRMWARE_SIGNATURE_INVALID: 422,
  /** Valid signatures, but none by an active (non-retired) trusted key. */
  FIRMWARE_KEY_UNTRUSTED: 422,
  FIRMWARE_THRESHOLD_NOT_MET: 422,
  /** The image's size or SHA-256 differs from the signed manifest. */
  FIRMWARE_IMAGE_MISMATCH: 422,
  FIRMWARE_MODEL_MISMATCH: 409,
  FIRMWARE_EXPIRED: 422,
  /** Not newer than the installed version, and the manifest does not allow a downgrade. */
  FIRMWARE_ROLLBACK: 409,
} as const;

export type FirmwareErrorCode = keyof typeof FIRMWARE_ERROR_STATUS;

export class FirmwareError extends CcError {
  readonly firmwareCode: FirmwareErrorCode;

  constructor(code: FirmwareErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'FirmwareError';
    this.firmwareCode = code;
  }
}

/** Both tables agree: a status changed in one and not the other fails type-checking here. */
export const FIRMWARE_STATUS_CHECK: { [K in FirmwareErrorCode]: (typeof ERROR_STATUS)[K] } =
  FIRMWARE_ERROR_STATUS;
