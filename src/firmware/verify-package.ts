// Verification of a firmware package (DESIGN §4.5): every check the server and the devices run
// before anything is installed, each with a reason people can act on. A package is accepted only
// when every check passes; a check that could not run is reported as failed, saying why.

import type { Readable } from 'node:stream';
import { CcError } from '../domain/index.js';
import { FirmwareError, type FirmwareErrorCode } from './firmware-errors.js';
import { parseManifest, type FirmwareManifest } from './manifest.js';
import { matchSignatures, parseSignatureFile } from './manifest-signatures.js';
import { inspectPackage, type PackageContents } from './package-reader.js';
import { compareVersions, parseSemver } from './semver.js';
import type { TrustPolicy, VendorKey } from './vendor-keys.js';

export const CHECK_NAMES = [
  'package-format',
  'manifest-schema',
  'signature',
  'known-key',
  'threshold',
  'image-size',
  'image-hash',
  'model',
  'expiry',
  'version',
] as const;

export type CheckName = (typeof CHECK_NAMES)[number];

export interface Check {
  name: CheckName;
  ok: boolean;
  detail: string;
  /** The refusal code of a failed check. */
  code?: FirmwareErrorCode;
}

export interface Verdict {
  ok: boolean;
  /** The manifest when it is well-formed — signed or not: look at `ok` before trusting it. */
  manifest: FirmwareManifest | null;
  /** Ids of the active trusted keys whose signatures verify. */
  signers: string[];
  checks: Check[];
}

export interface VerifyContext {
  now: Date;
  /** The target device's model; without it the model check passes for any model. */
  model?: string;
  /** The version installed on the target; without it the version check passes. */
  installedVersion?: string;
  /** The largest package accepted, in bytes; larger ones are refused before or while reading. */
  maxBytes: number;
  onProgress?: (bytes: number, total: number | null) => void;
  signal?: AbortSignal;
}

const CODE_OF: Record<Exclude<CheckName, 'package-format'>, FirmwareErrorCode> = {
  'manifest-schema': 'FIRMWARE_MANIFEST_INVALID',
  signature: 'FIRMWARE_SIGNATURE_INVALID',
  'known-key': 'FIRMWARE_KEY_UNTRUSTED',
  threshold: 'FIRMWARE_THRESHOLD_NOT_MET',
  'image-size': 'FIRMWARE_IMAGE_MISMATCH',
  'image-hash': 'FIRMWARE_IMAGE_MISMATCH',
  model: 'FIRMWARE_MODEL_MISMATCH',
  expiry: 'FIRMWARE_EXPIRED',
  version: 'FIRMWARE_ROLLBACK',
};

function pass(name: CheckName, detail: string): Check {
  return { name, ok: true, detail };
}

function refuse(name: Exclude<CheckName, 'package-format'>, detail: string): Check {
  return { name, ok: false, detail, code: CODE_OF[name] };
}

function keyList(keys: readonly VendorKey[]): string {
  return keys.length === 0 ? 'none' : keys.map((k) => k.id).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function formatCheck(contents: PackageContents, manifest: FirmwareManifest | null): Check {
  const fail = (detail: string, tooLarge = false): Check => ({
    name: 'package-format',
    ok: false,
    detail,
    code: tooLarge ? 'FIRMWARE_TOO_LARGE' : 'FIRMWARE_PACKAGE_INVALID',
  });
  if (contents.formatError) {
    return fail(contents.formatError.message, contents.formatError.kind === 'too-large');
  }
  if (contents.manifestBytes === null) return fail('the package has no manifest.json');
  if (contents.image === null) return fail('the package has no image file');
  if (manifest !== null && manifest.image !== contents.image.name) {
    return fail(
      `the image entry is ${JSON.stringify(contents.image.name)} but the manifest names ` +
        JSON.stringify(manifest.image),
    );
  }
  return pass(
    'package-format',
    `ustar archive of ${contents.bytes} bytes: ${contents.entries.join(', ')}` +
      (contents.signatureBytes === null ? ' (no manifest.sig)' : ''),
  );
}

interface SignatureOutcome {
  checks: [Check, Check, Check];
  signers: VendorKey[];
}

function signatureChecks(contents: PackageContents, trust: TrustPolicy): SignatureOutcome {
  const active = trust.keys.filter((k) => !k.retired);
  const threshold = trust.threshold;
  const unmet = (why: string): Check =>
    refuse('threshold', `0 of ${threshold} required signatures: ${why}`);
  const none = (detail: string): SignatureOutcome => ({
    checks: [
      refuse('signature', detail),
      refuse('known-key', 'no signature verifies with a trusted key'),
      unmet('no valid signature'),
    ],
    signers: [],
  });

  if (contents.manifestBytes === null)
    return none('not checked: there is no manifest.json to verify');
  if (contents.signatureBytes === null) {
    return none(
      contents.formatError
        ? 'not checked: manifest.sig was not read (the package is malformed)'
        : 'missing: the package has no manifest.sig (unsigned; sign it with `firmware sign`)',
    );
  }
  const parsed = parseSignatureFile(contents.signatureBytes);
  if (!parsed.ok) return none(`malformed: ${parsed.reason}`);
  if (trust.keys.length === 0) return none('no vendor keys are configured: nothing can verify');

  const matches = matchSignatures(contents.manifestBytes, parsed.signatures, trust.keys);
  const verified = matches.filter((m) => m.key !== null);
  const count = plural(parsed.signatures.length, 'signature');
  if (verified.length === 0) {
    return none(
      `none of ${count} verifies with the ${plural(trust.keys.length, 'known key')} ` +
        `(${keyList(trust.keys)}): the manifest was changed after signing, or it was signed ` +
        'by a key that is not trusted here',
    );
  }
  const signers = active.filter((k) => verified.some((m) => m.key === k));
  const retired = trust.keys.filter((k) => k.retired && verified.some((m) => m.key === k));
  const ignored = matches.length - verified.length;
  const signature = pass(
    'signature',
    `${verified.length} of ${count} verif${verified.length === 1 ? 'ies' : 'y'} (` +
      verified.map((m) => `${m.key?.id ?? ''}${m.key?.retired ? ' retired' : ''}`).join(', ') +
      ')' +
      (ignored > 0
        ? `; ignored: ${ignored} that verif${ignored === 1 ? 'ies' : 'y'} with no known key`
        : ''),
  );
  const retiredNote =
    retired.length > 0
      ? `; retired key${retired.length === 1 ? '' : 's'} ${keyList(retired)} also signed but ` +
        'signatures by retired keys do not count'
      : '';
  const knownKey =
    signers.length > 0
      ? pass(
          'known-key',
          `signed by active key${signers.length === 1 ? '' : 's'} ${keyList(signers)}${retiredNote}`,
        )
      : refuse(
          'known-key',
          `only retired key${retired.length === 1 ? '' : 's'} ${keyList(retired)} signed this ` +
            'manifest; signatures by retired keys do not count',
        );
  const thresholdCheck =
    signers.length >= threshold
      ? pass(
          'threshold',
          `${signers.length} of ${threshold} required signatures from distinct active keys`,
        )
      : refuse(
          'threshold',
          `${signers.length} of ${threshold} required signatures from distinct active keys` +
            (threshold > active.length
              ? ` (cannot be met: only ${plural(active.length, 'active key')} configured)`
              : ''),
        );
  return { checks: [signature, knownKey, thresholdCheck], signers };
}

function imageChecks(contents: PackageContents, manifest: FirmwareManifest | null): [Check, Check] {
  const image = contents.image;
  if (manifest === null || image === null) {
    const why =
      manifest === null
        ? 'not checked: no valid manifest'
        : 'not checked: the image was not read to its end';
    return [refuse('image-size', why), refuse('image-hash', why)];
  }
  const size =
    image.size === manifest.size
      ? pass('image-size', `${image.size} bytes, as the manifest says`)
      : refuse(
          'image-size',
          `the image is ${image.size} bytes; the manifest says ${manifest.size}`,
        );
  const hash =
    image.sha256 === manifest.sha256
      ? pass('image-hash', `sha256 ${image.sha256} matches the manifest`)
      : refuse(
          'image-hash',
          `the image's sha256 is ${image.sha256}; the manifest says ${manifest.sha256}`,
        );
  return [size, hash];
}

function modelCheck(manifest: FirmwareManifest, model: string | undefined): Check {
  const models = manifest.models.join(', ');
  if (model === undefined)
    return pass('model', `no device model given; the package is for ${models}`);
  return manifest.models.includes(model)
    ? pass('model', `${JSON.stringify(model)} is one of ${models}`)
    : refuse('model', `the package is for ${models}, not for ${JSON.stringify(model)}`);
}

function expiryCheck(manifest: FirmwareManifest, now: Date): Check {
  const left = Date.parse(manifest.expiresAt) - now.getTime();
  if (left <= 0) {
    return refuse(
      'expiry',
      `the manifest expired at ${manifest.expiresAt} (now ${now.toISOString()})`,
    );
  }
  const days = Math.floor(left / 86_400_000);
  return pass(
    'expiry',
    `valid until ${manifest.expiresAt} (${days >= 1 ? plural(days, 'day') : 'less than a day'} left)`,
  );
}

function versionCheck(manifest: FirmwareManifest, installed: string | undefined): Check {
  if (installed === undefined) {
    return pass('version', `${manifest.version}; no installed version given`);
  }
  const order = compareVersions(manifest.version, installed);
  if (order > 0)
    return pass('version', `${manifest.version} is newer than the installed ${installed}`);
  const relation = order === 0 ? 'the same as' : 'older than';
  if (manifest.allowDowngrade === true) {
    return pass(
      'version',
      `${manifest.version} is ${relation} the installed ${installed}; the signed manifest allows ` +
        'a downgrade (allowDowngrade)',
    );
  }
  return refuse(
    'version',
    `${manifest.version} is ${relation} the installed ${installed}: refused as a rollback ` +
      '(the manifest does not set allowDowngrade)',
  );
}

/** Runs every check on contents already read. */
export function judgePackage(
  contents: PackageContents,
  trust: TrustPolicy,
  context: VerifyContext,
): Verdict {
  const parsed = contents.manifestBytes === null ? null : parseManifest(contents.manifestBytes);
  const manifest = parsed?.ok ? parsed.manifest : null;
  const schema =
    parsed === null
      ? refuse('manifest-schema', 'not checked: there is no manifest.json')
      : parsed.ok
        ? pass(
            'manifest-schema',
            `${parsed.manifest.name} ${parsed.manifest.version} for ${parsed.manifest.models.join(', ')}`,
          )
        : refuse('manifest-schema', parsed.reason);
  const signatures = signatureChecks(contents, trust);
  const noManifest = (name: 'model' | 'expiry' | 'version'): Check =>
    refuse(name, 'not checked: no valid manifest');
  const checks: Check[] = [
    formatCheck(contents, manifest),
    schema,
    ...signatures.checks,
    ...imageChecks(contents, manifest),
    manifest ? modelCheck(manifest, context.model) : noManifest('model'),
    manifest ? expiryCheck(manifest, context.now) : noManifest('expiry'),
    manifest ? versionCheck(manifest, context.installedVersion) : noManifest('version'),
  ];
  return {
    ok: checks.every((c) => c.ok),
    manifest,
    signers: signatures.signers.map((k) => k.id),
    checks,
  };
}

function checkContext(trust: TrustPolicy, context: VerifyContext): void {
  if (!Number.isSafeInteger(context.maxBytes) || context.maxBytes < 1) {
    throw new CcError(
      'BAD_REQUEST',
      `maxBytes must be a positive whole number (got ${context.maxBytes})`,
    );
  }
  if (!Number.isSafeInteger(trust.threshold) || trust.threshold < 1) {
    throw new CcError(
      'BAD_REQUEST',
      `the signature threshold must be a whole number ≥ 1 (got ${trust.threshold})`,
    );
  }
  if (Number.isNaN(context.now.getTime()))
    throw new CcError('BAD_REQUEST', 'now is not a valid time');
  if (context.installedVersion !== undefined && parseSemver(context.installedVersion) === null) {
    throw new CcError(
      'BAD_REQUEST',
      `the installed version ${JSON.stringify(context.installedVersion)} is not a semantic version`,
    );
  }
}

/**
 * Verifies a package streamed from `source` (a file path or a stream) with bounded memory.
 * Returns the verdict with every check; throws only for I/O errors and an invalid context.
 */
export async function verifyPackage(
  source: string | Readable,
  trust: TrustPolicy,
  context: VerifyContext,
): Promise<Verdict> {
  checkContext(trust, context);
  const contents = await inspectPackage(source, {
    maxBytes: context.maxBytes,
    onProgress: context.onProgress,
    signal: context.signal,
  });
  return judgePackage(contents, trust, context);
}

/** The error to answer a refused package with (the first failed check decides), or null if accepted. */
export function firmwareErrorOf(verdict: Verdict): FirmwareError | null {
  const failed = verdict.checks.filter((c) => !c.ok);
  const first = failed[0];
  if (verdict.ok || first === undefined) return null;
  const what = verdict.manifest
    ? `${verdict.manifest.name} ${verdict.manifest.version}`
    : 'firmware package';
  const more =
    failed.length > 1
      ? ` (${failed.length - 1} more check${failed.length > 2 ? 's' : ''} failed)`
      : '';
  return new FirmwareError(
    first.code ?? 'FIRMWARE_PACKAGE_INVALID',
    `${what} refused: ${first.name}: ${first.detail}${more}`,
    { checks: failed.map(({ name, detail }) => ({ name, detail })) },
  );
}
