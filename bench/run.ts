// `npm run bench -- <name> [options]`: runs a benchmark and prints its figures beside a baseline
// measured in the same run. Benchmarks: ingest, poll, dashboard, uplink, firmware, http.

import { runDashboardBench } from './dashboard-bench.js';
import { runFirmwareBench } from './firmware-bench.js';
import { runHttpBench } from './http-bench.js';
import { runIngestBench } from './ingest-bench.js';
import { runPollBench } from './poll-bench.js';
import { runUplinkBench } from './uplink-bench.js';

const BENCHES: Record<string, (args: string[]) => Promise<void>> = {
  ingest: runIngestBench,
  poll: runPollBench,
  dashboard: runDashboardBench,
  uplink: runUplinkBench,
  firmware: runFirmwareBench,
  http: runHttpBench,
};

async function main(): Promise<void> {
  const [name = 'ingest', ...args] = process.argv.slice(2);
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(
      `unknown benchmark "${name}"; available: ${Object.keys(BENCHES).join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  await bench(args);
}

await main();
