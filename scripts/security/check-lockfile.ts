// Lockfile check (release checks, docs/security.md): every package in package-lock.json comes from
// the npm registry over HTTPS and carries a sha512 integrity hash, so `npm ci` installs exactly the
// bytes that were reviewed. Run: `npx tsx scripts/security/check-lockfile.ts`.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainModule, REPO_ROOT } from './main-module.js';

export const REGISTRY = 'https://registry.npmjs.org/';

export interface LockfileProblem {
  /** The lockfile key (`node_modules/a/node_modules/b`) or `package.json`/`.npmrc`. */
  where: string;
  problem: string;
  fix: string;
}

export interface LockfileReport {
  /** Registry packages checked (resolved URL or omitted registry URL, integrity). */
  checked: number;
  /** Entries whose `resolved` is omitted: npm fetches name@version from the configured registry. */
  omittedResolved: number;
  /** Packages shipped inside another package's tarball, covered by that tarball's integrity. */
  bundled: number;
  /** Workspace links and the workspace folders they point to: our own source, nothing downloaded. */
  workspaces: number;
  problems: LockfileProblem[];
}

interface LockEntry {
  name?: unknown;
  version?: unknown;
  resolved?: unknown;
  integrity?: unknown;
  link?: unknown;
  inBundle?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
  optionalDependencies?: unknown;
  peerDependencies?: unknown;
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
/** Dependency specs that bypass the registry (git, GitHub shorthand, local paths, tarball URLs). */
const NON_REGISTRY_SPEC =
  /^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:|file:|link:|https?:|\.{0,2}\/|~\/)/;
/** `user/repo` is GitHub shorthand for npm; `npm:name@range` aliases stay on the registry. */
const GITHUB_SHORTHAND = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:#.*)?$/;

function packageName(key: string, entry: LockEntry): string {
  if (typeof entry.name === 'string') return entry.name;
  const at = key.lastIndexOf('node_modules/');
  return at === -1 ? key : key.slice(at + 'node_modules/'.length);
}

function isInsideRepository(relativePath: string): boolean {
  return !relativePath.startsWith('/') && !relativePath.split('/').includes('..');
}

function checkRootSpecs(root: LockEntry, problems: LockfileProblem[]): void {
  for (const field of [
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
  ] as const) {
    const specs = root[field];
    if (typeof specs !== 'object' || specs === null) continue;
    for (const [name, spec] of Object.entries(specs as Record<string, unknown>)) {
      if (typeof spec !== 'string') continue;
      if (NON_REGISTRY_SPEC.test(spec) || GITHUB_SHORTHAND.test(spec)) {
        problems.push({
          where: 'package.json',
          problem: `${field}.${name} is "${spec}", not a registry version range`,
          fix: `depend on a published release instead: npm install ${name}@<version>`,
        });
      }
    }
  }
}

function checkIntegrity(key: string, entry: LockEntry, problems: LockfileProblem[]): void {
  const name = packageName(key, entry);
  const version = typeof entry.version === 'string' ? entry.version : '<version>';
  if (typeof entry.integrity !== 'string' || entry.integrity.trim() === '') {
    problems.push({
      where: key,
      problem: 'has no integrity hash',
      fix: `remove the entry from package-lock.json and run npm install ${name}@${version} so npm records its sha512`,
    });
    return;
  }
  // An SRI string may list several hashes; npm verifies the strongest, so one sha512 must be there.
  if (!entry.integrity.split(/\s+/).some((hash) => hash.startsWith('sha512-'))) {
    problems.push({
      where: key,
      problem: `integrity is "${entry.integrity.split('-')[0] ?? ''}" only, not sha512`,
      fix: `reinstall a release the registry serves with sha512 (npm install ${name}@latest), or replace the package`,
    });
  }
}

function checkEntry(key: string, entry: LockEntry, report: LockfileReport, registry: string): void {
  const problems = report.problems;
  if (entry.link === true) {
    // A workspace: node_modules/<name> links to a folder of this repository (listed too, below).
    const target = typeof entry.resolved === 'string' ? entry.resolved : '';
    if (!isInsideRepository(target) || target === '') {
      problems.push({
        where: key,
        problem: `links to "${target}", outside the repository`,
        fix: 'publish the package to the registry and depend on a release',
      });
    }
    report.workspaces += 1;
    return;
  }
  if (!key.includes('node_modules/')) {
    // The folder of a workspace (e.g. "packages/x"): our own source, linked above.
    if (!isInsideRepository(key)) {
      problems.push({
        where: key,
        problem: 'is a package folder outside the repository',
        fix: 'publish the package to the registry and depend on a release',
      });
    }
    report.workspaces += 1;
    return;
  }
  if (entry.inBundle === true) {
    // Shipped inside its parent's tarball: the parent's integrity covers these bytes.
    report.bundled += 1;
    return;
  }
  report.checked += 1;
  const name = packageName(key, entry);
  if (typeof entry.resolved === 'string') {
    if (!entry.resolved.startsWith(registry)) {
      problems.push({
        where: key,
        problem: `is resolved from ${entry.resolved}, not ${registry}`,
        fix: `depend on the registry release instead (npm install ${name}@<version> --registry ${registry})`,
      });
    }
  } else if (entry.resolved === undefined) {
    // With omit-lockfile-registry-resolved (this machine's npmrc) npm leaves out `resolved` for
    // registry packages and fetches name@version from the configured registry (checked below).
    report.omittedResolved += 1;
    if (typeof entry.version !== 'string' || !SEMVER.test(entry.version)) {
      problems.push({
        where: key,
        problem: `has no resolved URL and version "${String(entry.version)}" is not a registry version`,
        fix: `reinstall it from the registry: npm install ${name}@<version>`,
      });
    }
  } else {
    problems.push({
      where: key,
      problem: 'has a resolved field that is not a URL string',
      fix: 'regenerate package-lock.json with npm install',
    });
  }
  checkIntegrity(key, entry, problems);
}

/** Checks a parsed package-lock.json. `registry` is the only origin packages may come from. */
export function checkLockfile(lock: unknown, registry = REGISTRY): LockfileReport {
  const report: LockfileReport = {
    checked: 0,
    omittedResolved: 0,
    bundled: 0,
    workspaces: 0,
    problems: [],
  };
  const doc = (typeof lock === 'object' && lock !== null ? lock : {}) as {
    lockfileVersion?: unknown;
    packages?: unknown;
  };
  if (doc.lockfileVersion !== 3) {
    report.problems.push({
      where: 'package-lock.json',
      problem: `lockfileVersion is ${String(doc.lockfileVersion)}, expected 3`,
      fix: 'regenerate it with npm 9 or newer (npm install --lockfile-version 3)',
    });
  }
  if (typeof doc.packages !== 'object' || doc.packages === null) {
    report.problems.push({
      where: 'package-lock.json',
      problem: 'has no "packages" section',
      fix: 'regenerate it with npm install',
    });
    return report;
  }
  for (const [key, value] of Object.entries(doc.packages as Record<string, unknown>)) {
    const entry = (typeof value === 'object' && value !== null ? value : {}) as LockEntry;
    if (key === '') checkRootSpecs(entry, report.problems);
    else checkEntry(key, entry, report, registry);
  }
  return report;
}

/** A project .npmrc may not send installs to another registry (omitted `resolved` relies on it). */
export function checkNpmrc(text: string, registry = REGISTRY): LockfileProblem[] {
  const problems: LockfileProblem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*((?:@[\w.-]+:)?registry)\s*=\s*(\S+)/.exec(line);
    if (!m) continue;
    const url = (m[2] ?? '').endsWith('/') ? (m[2] ?? '') : `${m[2] ?? ''}/`;
    if (url !== registry) {
      problems.push({
        where: '.npmrc',
        problem: `sets ${m[1] ?? 'registry'} to ${m[2] ?? ''}`,
        fix: `remove the line; packages come from ${registry}`,
      });
    }
  }
  return problems;
}

export function formatLockfileReport(report: LockfileReport): string[] {
  const lines = report.problems.map((p) => `  ${p.where}: ${p.problem}\n    fix: ${p.fix}`);
  const summary =
    `lockfile: ${report.checked} packages checked (registry ${REGISTRY} over https, sha512 ` +
    `integrity; ${report.omittedResolved} with the registry URL omitted), ` +
    `${report.bundled} bundled, ${report.workspaces} workspace entries`;
  return report.problems.length === 0
    ? [`${summary}: ok`]
    : [`${summary}: ${report.problems.length} problem(s)`, ...lines];
}

/** Runs the check on the repository; true when it passes. */
export function runLockfileCheck(root = REPO_ROOT): boolean {
  const lock: unknown = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const report = checkLockfile(lock);
  const npmrc = join(root, '.npmrc');
  if (existsSync(npmrc)) report.problems.push(...checkNpmrc(readFileSync(npmrc, 'utf8')));
  const out = formatLockfileReport(report).join('\n');
  if (report.problems.length === 0) process.stdout.write(`${out}\n`);
  else process.stderr.write(`${out}\n`);
  return report.problems.length === 0;
}

if (isMainModule(import.meta.url)) process.exitCode = runLockfileCheck() ? 0 : 1;
