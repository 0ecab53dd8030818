// The firmware subsystem's public surface: the package format (DESIGN §4.5), vendor keys and trust,
// making and signing packages, and streamed verification with a reason for every refusal.

export {
  CHECK_NAMES,
  firmwareErrorOf,
  judgePackage,
  verifyPackage,
  type Check,
  type CheckName,
  type Verdict,
  type VerifyContext,
} from './verify-package.js';
export { FIRMWARE_ERROR_STATUS, FirmwareError, type FirmwareErrorCode } from './firmware-errors.js';
export {
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
  MAX_IMAGE_BYTES,
  SIGNATURE_FILE,
  isRfc3339Utc,
  modelNameProblem,
  parseManifest,
  serializeManifest,
  validateManifest,
  type FirmwareManifest,
  type ManifestResult,
} from './manifest.js';
export {
  MAX_SIGNATURES,
  decodeSignature,
  formatSignatureFile,
  parseSignatureFile,
  signManifest,
  verifyManifestSignature,
} from './manifest-signatures.js';
export {
  createTrustPolicy,
  generateVendorKeyPair,
  keyIdOf,
  loadVendorKeys,
  parseSigningKey,
  parseVendorKey,
  readSigningKey,
  writeVendorKeyPair,
  type TrustPolicy,
  type VendorKey,
  type VendorKeyPair,
  type VendorKeySource,
} from './vendor-keys.js';
export {
  addPackageSignature,
  packPackage,
  readPackageManifest,
  signPackage,
  type PackInput,
  type PackResult,
  type SignOptions,
  type SignResult,
  type WriteOptions,
} from './package-writer.js';
export { inspectPackage, type PackageContents, type PackageImage } from './package-reader.js';
export { compareVersions, isSemver, parseSemver, type SemVer } from './semver.js';
