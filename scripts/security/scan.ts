// `npm run scan`: the offline release checks — lockfile origins and integrity, the licence
// allow-list, the secrets scan. All three run (one failure does not hide another); the exit code
// is 1 when any fails or cannot run. The online dependency audit is separate: `npm run audit:deps`.

import { runLicenseCheck } from './check-licenses.js';
import { runLockfileCheck } from './check-lockfile.js';
import { runSecretsScan } from './scan-secrets.js';

const CHECKS: ReadonlyArray<[name: string, run: () => boolean]> = [
  ['lockfile', runLockfileCheck],
  ['licences', runLicenseCheck],
  ['secrets', runSecretsScan],
];

const started = performance.now();
let failed = 0;
for (const [name, run] of CHECKS) {
  try {
    if (!run()) failed += 1;
  } catch (err) {
    failed += 1;
    process.stderr.write(
      `${name}: could not run: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  failed === 0
    ? `scan: ${CHECKS.length} checks passed in ${seconds} s\n`
    : `scan: ${failed} of ${CHECKS.length} checks FAILED (${seconds} s)\n`,
);
process.exitCode = failed === 0 ? 0 : 1;
