// What a vendor repository offers: the package files it lists. Over https the repository publishes
// `index.json` beside its packages (docs/firmware.md#server-catalog):
//   { "packages": [ { "file": "fusion-fw-4.3.0.tar", "sha256": "<hex>", "size": 23040 } ] }
// `sha256` (of the whole package file) and `size` are optional; other fields are ignored, so the
// format can grow. Over FTP the directory listing stands in for it. Either way only plain `.tar`
// file names are taken: a repository cannot make the server fetch from elsewhere.

export interface RemotePackage {
  /** Plain file name in the repository directory. */
  file: string;
  sha256: string | null;
  size: number | null;
}

/** Largest index.json read, and most packages taken from it. */
export const MAX_INDEX_BYTES = 1024 * 1024;
export const MAX_INDEX_PACKAGES = 1000;

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,123}\.tar$/;
const SHA256 = /^[0-9a-f]{64}$/;

export function isPackageFileName(name: string): boolean {
  return FILE_NAME.test(name);
}

export type IndexResult = { ok: true; packages: RemotePackage[] } | { ok: false; reason: string };

/** Parses index.json; an entry that breaks the format refuses the whole index, saying which. */
export function parseRepositoryIndex(bytes: Buffer): IndexResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, reason: 'index.json is not valid JSON' };
  }
  const list = (parsed as { packages?: unknown } | null)?.packages;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(list)) {
    return { ok: false, reason: 'index.json must be an object with a "packages" array' };
  }
  if (list.length > MAX_INDEX_PACKAGES) {
    return { ok: false, reason: `index.json lists more than ${MAX_INDEX_PACKAGES} packages` };
  }
  const packages: RemotePackage[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of list.entries()) {
    const where = `index.json packages[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      return { ok: false, reason: `${where} is not an object` };
    }
    const { file, sha256, size } = entry as Record<string, unknown>;
    if (typeof file !== 'string' || !isPackageFileName(file)) {
      return {
        ok: false,
        reason: `${where}.file must be a plain file name ending in .tar (letters, digits, . _ -)`,
      };
    }
    if (sha256 !== undefined && (typeof sha256 !== 'string' || !SHA256.test(sha256))) {
      return { ok: false, reason: `${where}.sha256 must be 64 lowercase hex digits` };
    }
    if (
      size !== undefined &&
      (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1)
    ) {
      return { ok: false, reason: `${where}.size must be a positive whole number of bytes` };
    }
    if (seen.has(file)) return { ok: false, reason: `${where}.file ${file} is listed twice` };
    seen.add(file);
    packages.push({
      file,
      sha256: typeof sha256 === 'string' ? sha256 : null,
      size: typeof size === 'number' ? size : null,
    });
  }
  return { ok: true, packages };
}
