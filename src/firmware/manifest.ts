// The firmware manifest (DESIGN §4.5): its strict schema, and the canonical bytes the vendor signs.
// Verifiers parse the exact signed bytes; anything unexpected — an extra or duplicate key, a BOM,
// invalid UTF-8 — is refused, so that no two parsers (server, device) can read one manifest
// differently.

import { parseSemver } from './semver.js';
import { SAFE_ENTRY_NAME } from './tar-format.js';

export interface FirmwareManifest {
  name: string;
  models: string[];
  version: string;
  /** Size of the image in bytes. */
  size: number;
  /** SHA-256 of the image, lowercase hex. */
  sha256: string;
  /** The image's file name inside the package. */
  image: string;
  releasedAt: string;
  expiresAt: string;
  /** Lets this version install over a newer or equal one (a deliberate, signed downgrade). */
  allowDowngrade?: boolean;
}

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const MAX_MANIFEST_BYTES = 16 * 1024;
export const MAX_MODELS = 64;
/** The ustar size field's limit (8 GiB - 1). */
export const MAX_IMAGE_BYTES = 0o77777777777;

/** Names become file names (`name-version.tar`): letters, digits, `.`, `_`, `-`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;
const KEYS = [
  'name',
  'models',
  'version',
  'size',
  'sha256',
  'image',
  'releasedAt',
  'expiresAt',
  'allowDowngrade',
] as const;
const REQUIRED = KEYS.filter((k) => k !== 'allowDowngrade');

export type ManifestResult =
  { ok: true; manifest: FirmwareManifest } | { ok: false; reason: string };

/** Why `model` cannot be a device model name, or null: printable ASCII, no comma, trimmed, ≤ 64. */
export function modelNameProblem(model: string): string | null {
  if (model.length === 0 || model.length > 64) return 'must be 1 to 64 characters';
  if (!/^[\x20-\x7e]+$/.test(model) || model.includes(',')) {
    return 'must be printable ASCII without commas';
  }
  if (model.trim() !== model) return 'must not start or end with a space';
  return null;
}

/** True for an RFC 3339 UTC time (`Z`) naming a real calendar date and time. */
export function isRfc3339Utc(text: string): boolean {
  const m = RFC3339_UTC.exec(text);
  if (!m) return false;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}

/**
 * The name of a top-level key that appears twice in a JSON object text, or null. JSON.parse keeps
 * the last value silently; another parser may keep the first. `text` must be valid JSON.
 */
export function duplicateTopLevelKey(text: string): string | null {
  const keys = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const token = text.slice(i, j + 1);
      i = j;
      if (depth !== 1) continue;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k] as string)) k += 1;
      if (text[k] !== ':') continue;
      const key = JSON.parse(token) as string;
      if (keys.has(key)) return key;
      keys.add(key);
    }
  }
  return null;
}

function fail(reason: string): ManifestResult {
  return { ok: false, reason };
}

/** Validates a parsed JSON value against the manifest schema. */
export function validateManifest(value: unknown): ManifestResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('the manifest is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(KEYS as readonly string[]).includes(key))
      return fail(`unexpected field ${JSON.stringify(key)}`);
  }
  for (const key of REQUIRED) {
    if (!Object.hasOwn(record, key)) return fail(`missing field "${key}"`);
  }
  const { name, models, version, size, sha256, image, releasedAt, expiresAt, allowDowngrade } =
    record;
  if (typeof name !== 'string' || !NAME.test(name)) {
    return fail(
      '"name" must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  if (!Array.isArray(models) || models.length === 0 || models.length > MAX_MODELS) {
    return fail(`"models" must be a list of 1 to ${MAX_MODELS} device models`);
  }
  for (const model of models as unknown[]) {
    if (typeof model !== 'string') return fail('"models" must hold strings');
    const problem = modelNameProblem(model);
    if (problem !== null) return fail(`model ${JSON.stringify(model.slice(0, 80))} ${problem}`);
  }
  if (new Set(models).size !== models.length) return fail('"models" lists a model twice');
  if (typeof version !== 'string' || parseSemver(version) === null) {
    return fail('"version" must be a semantic version such as 4.2.0 or 5.0.0-rc.1 (at most 64)');
  }
  if (
    typeof size !== 'number' ||
    !Number.isSafeInteger(size) ||
    size < 1 ||
    size > MAX_IMAGE_BYTES
  ) {
    return fail(`"size" must be a whole number of bytes from 1 to ${MAX_IMAGE_BYTES}`);
  }
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    return fail('"sha256" must be 64 lowercase hexadecimal digits');
  }
  if (
    typeof image !== 'string' ||
    !SAFE_ENTRY_NAME.test(image) ||
    image === MANIFEST_FILE ||
    image === SIGNATURE_FILE
  ) {
    return fail(
      '"image" must be a plain file name (letters, digits, ".", "_", "-"), not manifest.*',
    );
  }
  if (typeof releasedAt !== 'string' || !isRfc3339Utc(releasedAt)) {
    return fail('"releasedAt" must be an RFC 3339 UTC time such as 2026-01-31T12:00:00Z');
  }
  if (typeof expiresAt !== 'string' || !isRfc3339Utc(expiresAt)) {
    return fail('"expiresAt" must be an RFC 3339 UTC time such as 2027-01-31T12:00:00Z');
  }
  if (Date.parse(expiresAt) <= Date.parse(releasedAt)) {
    return fail('"expiresAt" must be later than "releasedAt"');
  }
  if (allowDowngrade !== undefined && typeof allowDowngrade !== 'boolean') {
    return fail('"allowDowngrade" must be true or false');
  }
  return {
    ok: true,
    manifest: {
      name,
      models: [...(models as string[])],
      version,
      size,
      sha256,
      image,
      releasedAt,
      expiresAt,
      ...(allowDowngrade !== undefined ? { allowDowngrade } : {}),
    },
  };
}

/** Parses the exact bytes of manifest.json: UTF-8 JSON, no BOM, no duplicate keys, the schema. */
export function parseManifest(bytes: Buffer): ManifestResult {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    return fail(`manifest.json is ${bytes.length} bytes; at most ${MAX_MANIFEST_BYTES}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('manifest.json is not valid UTF-8');
  }
  if (text.startsWith('\uFEFF')) return fail('manifest.json starts with a byte order mark');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`manifest.json is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const duplicate = duplicateTopLevelKey(text);
  if (duplicate !== null) return fail(`field ${JSON.stringify(duplicate)} appears twice`);
  return validateManifest(value);
}

/** The canonical bytes of a manifest: fixed key order, two-space indent, final newline. */
export function serializeManifest(manifest: FirmwareManifest): Buffer {
  const checked = validateManifest(manifest);
  if (!checked.ok) throw new RangeError(`invalid manifest: ${checked.reason}`);
  const ordered: Record<string, unknown> = {};
  for (const key of KEYS) {
    if (checked.manifest[key] !== undefined) ordered[key] = checked.manifest[key];
  }
  return Buffer.from(`${JSON.stringify(ordered, null, 2)}\n`, 'utf8');
}
