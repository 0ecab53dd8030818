// Shared by the release-check scripts: where the repository is, and whether a module is the script
// that node/tsx was asked to run (so a test or scan.ts can import it without running it).

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above scripts/security/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
