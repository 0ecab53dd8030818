// Secrets scan (release checks, docs/security.md): every git-tracked file and every untracked file
// git does not ignore, checked by secret-rules.ts; findings a test fixture needs are allow-listed
// with a reason in secrets-allowlist.json. Run: `npx tsx scripts/security/scan-secrets.ts`.

import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isMainModule, REPO_ROOT } from './main-module.js';
import { scanFileName, scanText, type SecretFinding } from './secret-rules.js';

const ALLOWLIST_FILE = 'scripts/security/secrets-allowlist.json';
/** Larger files are not read (lockfiles and sources are far below; a big file is data or a build). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** A NUL byte in the first 8 KiB marks a binary file, as git itself decides. */
const BINARY_PROBE_BYTES = 8192;

export interface AllowEntry {
  /** Repository-relative path, or a folder prefix ending in `/`. */
  path: string;
  rule: string;
  /** Optional: the finding's line must contain this text (narrows the entry to one value). */
  contains?: string;
  reason: string;
}

export interface FileFinding extends SecretFinding {
  file: string;
}

export interface SecretsReport {
  scanned: number;
  skippedBinary: number;
  skippedLarge: string[];
  findings: FileFinding[];
  allowed: number;
  unusedAllowEntries: AllowEntry[];
}

/** Tracked files plus untracked files that .gitignore does not exclude. */
export function listRepositoryFiles(root: string): string[] {
  let out: string;
  try {
    out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString('utf8');
  } catch (err) {
    throw new Error(`the secrets scan needs a git checkout: git ls-files failed in ${root}`, {
      cause: err,
    });
  }
  return [...new Set(out.split('\0').filter(Boolean))];
}

function isBinary(buffer: Buffer): boolean {
  return buffer.subarray(0, BINARY_PROBE_BYTES).includes(0);
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function allowEntryMatches(entry: AllowEntry, finding: FileFinding): boolean {
  const pathMatches = entry.path.endsWith('/')
    ? finding.file.startsWith(entry.path)
    : finding.file === entry.path;
  return (
    pathMatches &&
    entry.rule === finding.rule &&
    (entry.contains === undefined || finding.text.includes(entry.contains))
  );
}

export function parseAllowList(value: unknown): AllowEntry[] {
  const entries = (value as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) throw new Error(`${ALLOWLIST_FILE}: expected { "entries": [...] }`);
  for (const e of entries as Partial<AllowEntry>[]) {
    if (
      typeof e.path !== 'string' ||
      typeof e.rule !== 'string' ||
      typeof e.reason !== 'string' ||
      e.reason.trim() === '' ||
      (e.contains !== undefined && typeof e.contains !== 'string')
    ) {
      throw new Error(`${ALLOWLIST_FILE}: every entry needs "path", "rule" and a "reason"`);
    }
  }
  return entries as AllowEntry[];
}

/** Scans the given repository-relative files under `root`. */
export function scanFiles(root: string, files: string[], allowList: AllowEntry[]): SecretsReport {
  const report: SecretsReport = {
    scanned: 0,
    skippedBinary: 0,
    skippedLarge: [],
    findings: [],
    allowed: 0,
    unusedAllowEntries: [],
  };
  const raw: FileFinding[] = [];
  for (const file of files) {
    const path = join(root, file);
    let stat;
    try {
      stat = lstatSync(path);
    } catch (err) {
      // Deleted in the working tree but still tracked: nothing on disk to leak.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (!stat.isFile()) continue; // symlinks, submodules
    const byName = scanFileName(file);
    if (byName) raw.push({ file, ...byName });
    if (stat.size > MAX_FILE_BYTES) {
      report.skippedLarge.push(file);
      continue;
    }
    if (isBinary(readHead(path, BINARY_PROBE_BYTES))) {
      report.skippedBinary += 1;
      continue;
    }
    report.scanned += 1;
    for (const finding of scanText(readFileSync(path, 'utf8'))) raw.push({ file, ...finding });
  }
  const used = new Set<AllowEntry>();
  for (const finding of raw) {
    const entry = allowList.find((e) => allowEntryMatches(e, finding));
    if (entry) {
      used.add(entry);
      report.allowed += 1;
    } else {
      report.findings.push(finding);
    }
  }
  report.unusedAllowEntries = allowList.filter((e) => !used.has(e));
  return report;
}

export function formatSecretsReport(report: SecretsReport): string[] {
  const lines = [
    `secrets: ${report.scanned} files scanned (${report.skippedBinary} binary skipped, ` +
      `${report.skippedLarge.length} over ${MAX_FILE_BYTES / 1024} KiB skipped), ` +
      `${report.allowed} allow-listed: ` +
      (report.findings.length === 0 ? 'ok' : `${report.findings.length} finding(s)`),
  ];
  for (const f of report.findings) lines.push(`  ${f.file}:${f.line}: ${f.rule}: ${f.excerpt}`);
  if (report.findings.length > 0) {
    lines.push(
      '  fix: remove the secret and rotate it (it is in the git history if it was committed); ' +
        `for a test fixture, build the value at run time or add an entry with its reason to ${ALLOWLIST_FILE}`,
    );
  }
  for (const file of report.skippedLarge) lines.push(`  warning: ${file} not scanned (too large)`);
  for (const e of report.unusedAllowEntries) {
    lines.push(`  warning: allow-list entry ${e.path} (${e.rule}) matches nothing; remove it`);
  }
  return lines;
}

/** Runs the scan on the repository; true when it finds nothing that is not allow-listed. */
export function runSecretsScan(root = REPO_ROOT): boolean {
  const allowList = parseAllowList(JSON.parse(readFileSync(join(root, ALLOWLIST_FILE), 'utf8')));
  const report = scanFiles(root, listRepositoryFiles(root), allowList);
  const out = formatSecretsReport(report).join('\n');
  if (report.findings.length === 0) process.stdout.write(`${out}\n`);
  else process.stderr.write(`${out}\n`);
  return report.findings.length === 0;
}

if (isMainModule(import.meta.url)) process.exitCode = runSecretsScan() ? 0 : 1;
