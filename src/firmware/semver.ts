// Strict Semantic Versioning 2.0.0 (https://semver.org): parsing and precedence, which decides
// whether a firmware version is newer than the installed one. Build metadata is kept but, as the
// spec says, never affects precedence: 1.0.0+a and 1.0.0+b are the same version.

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers: numbers for numeric identifiers, strings otherwise. */
  prerelease: ReadonlyArray<number | string>;
  build: readonly string[];
}

export const MAX_VERSION_LENGTH = 64;

const NUMERIC = /^(?:0|[1-9]\d*)$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

function numberOf(text: string): number | null {
  if (!NUMERIC.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The version, or null when `text` is not a strict semver 2.0.0 string (no `v` prefix, no spaces). */
export function parseSemver(text: string): SemVer | null {
  if (text.length === 0 || text.length > MAX_VERSION_LENGTH) return null;
  const plus = text.indexOf('+');
  const core = plus < 0 ? text : text.slice(0, plus);
  const buildText = plus < 0 ? null : text.slice(plus + 1);
  const dash = core.indexOf('-');
  const release = dash < 0 ? core : core.slice(0, dash);
  const preText = dash < 0 ? null : core.slice(dash + 1);

  const parts = release.split('.');
  if (parts.length !== 3) return null;
  const [major, minor, patch] = parts.map(numberOf);
  if (major == null || minor == null || patch == null) return null;

  const prerelease: Array<number | string> = [];
  if (preText !== null) {
    for (const id of preText.split('.')) {
      if (!IDENTIFIER.test(id)) return null;
      if (/^\d+$/.test(id)) {
        const n = numberOf(id);
        if (n === null) return null; // leading zero, or beyond 2^53
        prerelease.push(n);
      } else {
        prerelease.push(id);
      }
    }
  }
  const build: string[] = [];
  if (buildText !== null) {
    for (const id of buildText.split('.')) {
      if (!IDENTIFIER.test(id)) return null;
      build.push(id);
    }
  }
  return { major, minor, patch, prerelease, build };
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== null;
}

function compareIdentifiers(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  // Numeric identifiers always have lower precedence than alphanumeric ones (spec item 11.4.3).
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  // ASCII order, not the locale's.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence of two parsed versions: negative, zero or positive. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const core =
    Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch);
  if (core !== 0) return core;
  // A version without pre-release identifiers is newer than any of its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return Math.sign(b.prerelease.length - a.prerelease.length);
  }
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i += 1) {
    const c = compareIdentifiers(
      a.prerelease[i] as number | string,
      b.prerelease[i] as number | string,
    );
    if (c !== 0) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/** Precedence of two version strings; throws when either is not strict semver. */
export function compareVersions(a: string, b: string): number {
  const pa = parseSemver(a);
  const pb = parseSemver(b);
  if (pa === null || pb === null) {
    throw new RangeError(`not a semantic version: ${JSON.stringify(pa === null ? a : b)}`);
  }
  return compareSemver(pa, pb);
}
