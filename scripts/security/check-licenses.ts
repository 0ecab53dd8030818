// Licence allow-list (release checks, docs/security.md): every package package-lock.json names,
// production and dev, declares a licence whose SPDX expression the allow-list satisfies, or has a
// reasoned per-package exception. Run: `npx tsx scripts/security/check-licenses.ts`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainModule, REPO_ROOT } from './main-module.js';
import { parseSpdx, SpdxSyntaxError, unmetLicenses } from './spdx-expression.js';

const POLICY_FILE = 'scripts/security/license-allowlist.json';

export interface LicenseException {
  /** A package name, or a prefix ending in `*` for a family of platform packages. */
  package: string;
  /** The exact licence string the exception covers: a changed licence needs a new review. */
  license: string;
  reason: string;
}

export interface LicensePolicy {
  allowed: string[];
  exceptions: LicenseException[];
}

export interface InstalledPackage {
  /** Lockfile key, e.g. node_modules/a/node_modules/b. */
  path: string;
  name: string;
  version: string;
  dev: boolean;
  /** The declared licence, normalized to one SPDX string; undefined when none is declared. */
  license: string | undefined;
  /** Where the licence was read: the installed package.json or, for an optional platform package
   *  not installed on this machine, the licence npm recorded in the lockfile. */
  source: 'package.json' | 'lockfile';
}

export interface LicenseProblem {
  pkg: InstalledPackage;
  problem: string;
  fix: string;
}

export interface LicenseReport {
  checked: number;
  fromLockfile: number;
  byException: number;
  problems: LicenseProblem[];
  /** Exceptions that matched no package: stale, to be removed. */
  unusedExceptions: LicenseException[];
}

/** The licence a package.json declares: `license` (string or legacy object) or legacy `licenses`. */
export function declaredLicense(manifest: unknown): string | undefined {
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const { license, licenses } = manifest as { license?: unknown; licenses?: unknown };
  const typeOf = (value: unknown): string | undefined =>
    typeof value === 'string'
      ? value
      : typeof value === 'object' &&
          value !== null &&
          typeof (value as { type?: unknown }).type === 'string'
        ? (value as { type: string }).type
        : undefined;
  const single = typeOf(license);
  if (single !== undefined && single.trim() !== '') return single.trim();
  if (Array.isArray(licenses)) {
    // The legacy list means "any of these".
    const ids = licenses.map(typeOf).filter((id): id is string => id !== undefined);
    if (ids.length === 1) return ids[0];
    if (ids.length > 1) return `(${ids.join(' OR ')})`;
  }
  return undefined;
}

function exceptionMatches(exception: LicenseException, pkg: InstalledPackage): boolean {
  const nameMatches = exception.package.endsWith('*')
    ? pkg.name.startsWith(exception.package.slice(0, -1))
    : pkg.name === exception.package;
  return nameMatches && exception.license === pkg.license;
}

export function checkLicenses(packages: InstalledPackage[], policy: LicensePolicy): LicenseReport {
  const allowed = new Set(policy.allowed);
  const used = new Set<LicenseException>();
  const report: LicenseReport = {
    checked: 0,
    fromLockfile: 0,
    byException: 0,
    problems: [],
    unusedExceptions: [],
  };
  const exceptionFix = (pkg: InstalledPackage): string =>
    `replace the dependency, or after review add an exception to ${POLICY_FILE}: ` +
    `{ "package": "${pkg.name}", "license": "${pkg.license ?? ''}", "reason": "<why it is acceptable>" }`;
  for (const pkg of packages) {
    report.checked += 1;
    if (pkg.source === 'lockfile') report.fromLockfile += 1;
    const exception = policy.exceptions.find((e) => exceptionMatches(e, pkg));
    if (exception) {
      used.add(exception);
      report.byException += 1;
      continue;
    }
    if (pkg.license === undefined) {
      report.problems.push({
        pkg,
        problem: 'declares no licence',
        fix: `read the package's LICENSE file; then ${exceptionFix(pkg)}`,
      });
      continue;
    }
    let unmet: string[];
    try {
      unmet = unmetLicenses(parseSpdx(pkg.license), allowed);
    } catch (err) {
      if (!(err instanceof SpdxSyntaxError)) throw err;
      report.problems.push({
        pkg,
        problem: `licence "${pkg.license}" is not an SPDX expression`,
        fix: `read the licence text; then ${exceptionFix(pkg)}`,
      });
      continue;
    }
    if (unmet.length > 0) {
      report.problems.push({
        pkg,
        problem: `licence "${pkg.license}" is not allowed (${unmet.join(', ')} not on the allow-list)`,
        fix:
          `if legal review accepts ${unmet.join(', ')} for every package, add it to "allowed" in ` +
          `${POLICY_FILE}; otherwise ${exceptionFix(pkg)}`,
      });
    }
  }
  report.unusedExceptions = policy.exceptions.filter((e) => !used.has(e));
  return report;
}

interface LockEntry {
  name?: unknown;
  version?: unknown;
  license?: unknown;
  dev?: unknown;
  optional?: unknown;
  link?: unknown;
}

function nameFromKey(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/**
 * The packages the lockfile names, with the licence from each installed package.json. An optional
 * package that is not installed (another platform's binary) is judged by the lockfile's record;
 * any other missing package is an error (run `npm ci` first).
 */
export function readInstalledPackages(root: string, lock: unknown): InstalledPackage[] {
  const packages = (lock as { packages?: Record<string, LockEntry> }).packages ?? {};
  const out: InstalledPackage[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    // The root is our own (UNLICENSED) package; links and workspace folders are our own source.
    if (key === '' || entry.link === true || !key.includes('node_modules/')) continue;
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(join(root, key, 'package.json'), 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      if (entry.optional !== true) {
        throw new Error(`${key} is in package-lock.json but not installed: run npm ci first`);
      }
      out.push({
        path: key,
        name: typeof entry.name === 'string' ? entry.name : nameFromKey(key),
        version: typeof entry.version === 'string' ? entry.version : '?',
        dev: entry.dev === true,
        license: typeof entry.license === 'string' ? entry.license : undefined,
        source: 'lockfile',
      });
      continue;
    }
    const m = manifest as { name?: unknown; version?: unknown };
    out.push({
      path: key,
      name: typeof m.name === 'string' ? m.name : nameFromKey(key),
      version: typeof m.version === 'string' ? m.version : '?',
      dev: entry.dev === true,
      license: declaredLicense(manifest),
      source: 'package.json',
    });
  }
  return out;
}

export function parsePolicy(value: unknown): LicensePolicy {
  const doc = value as { allowed?: unknown; exceptions?: unknown };
  const isStrings = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((id) => typeof id === 'string');
  const { allowed, exceptions } = doc;
  if (!isStrings(allowed) || !Array.isArray(exceptions)) {
    throw new Error(`${POLICY_FILE}: expected { "allowed": [ids], "exceptions": [...] }`);
  }
  for (const e of exceptions as Partial<LicenseException>[]) {
    if (
      typeof e.package !== 'string' ||
      typeof e.license !== 'string' ||
      typeof e.reason !== 'string' ||
      e.reason.trim() === ''
    ) {
      throw new Error(`${POLICY_FILE}: every exception needs "package", "license" and a "reason"`);
    }
  }
  return { allowed, exceptions: exceptions as LicenseException[] };
}

export function formatLicenseReport(report: LicenseReport): string[] {
  const lines = [
    `licences: ${report.checked} packages checked (${report.fromLockfile} optional platform ` +
      `packages not installed here, judged by the lockfile), ${report.byException} by exception: ` +
      (report.problems.length === 0 ? 'ok' : `${report.problems.length} problem(s)`),
  ];
  for (const { pkg, problem, fix } of report.problems) {
    lines.push(
      `  ${pkg.name}@${pkg.version} (${pkg.dev ? 'dev' : 'production'}, ${pkg.path}): ${problem}`,
      `    fix: ${fix}`,
    );
  }
  for (const e of report.unusedExceptions) {
    lines.push(
      `  warning: exception for ${e.package} (${e.license}) matches no package; remove it`,
    );
  }
  return lines;
}

/** Runs the check on the repository; true when it passes. */
export function runLicenseCheck(root = REPO_ROOT): boolean {
  const lock: unknown = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const policy = parsePolicy(JSON.parse(readFileSync(join(root, POLICY_FILE), 'utf8')));
  const report = checkLicenses(readInstalledPackages(root, lock), policy);
  const out = formatLicenseReport(report).join('\n');
  if (report.problems.length === 0) process.stdout.write(`${out}\n`);
  else process.stderr.write(`${out}\n`);
  return report.problems.length === 0;
}

if (isMainModule(import.meta.url)) process.exitCode = runLicenseCheck() ? 0 : 1;
