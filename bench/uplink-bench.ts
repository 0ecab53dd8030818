// Uplink benchmark: sealing throughput of sealReport beside the same encrypt-then-MAC written by hand
// with node:crypto and beside AES-256-CBC alone, measured in the same run; then the periodic report's
// build time and size for fleets of 10, 1,000 and 10,000 busy printers, and the parts it is sent in:
// how many, how long splitting and sealing them takes, their envelopes against the receiver's limit.

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { deriveUplinkKeys } from '../src/uplink/index.js';
import { DEFAULT_BODY_LIMIT } from '../src/cloud-receiver/cloud-receiver.js';
import { MAX_PART_BYTES } from '../src/uplink/report/index.js';
import { MAX_CIPHERTEXT_BYTES, MAX_REPORT_BYTES } from '../src/uplink/seal.js';
import { createReportSizer, type Consent, type SizeRow } from './uplink-report-size.js';
import { measureSealing, type Budget, type Way, type WayResult } from './uplink-throughput.js';

const FLEETS = [10, 1_000, 10_000];
/** Report sizes sealed for throughput: the nearest whole fleet, and the largest that seals. */
const TARGETS = [
  { label: '1 KiB', bytes: 1024 },
  { label: '64 KiB', bytes: 64 * 1024 },
  { label: '512 KiB', bytes: MAX_REPORT_BYTES },
];

interface Plan {
  quick: boolean;
  budget: Budget;
  buildRuns: number;
}

function planOf(args: string[]): Plan {
  const quick = args.includes('--quick');
  return quick
    ? {
        quick,
        budget: { rounds: 2, sliceMs: 60, maxIterations: 20_000, warmUpMs: 30 },
        buildRuns: 2,
      }
    : {
        quick,
        budget: { rounds: 7, sliceMs: 300, maxIterations: 200_000, warmUpMs: 200 },
        buildRuns: 7,
      };
}

function progress(line: string): void {
  process.stderr.write(`uplink: ${line}\n`);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function size(bytes: number): string {
  if (bytes < 10_000) return `${int(bytes)} B`;
  if (bytes < 10_000_000) return `${fixed(bytes / 1024, 1)} KiB`;
  return `${fixed(bytes / 2 ** 20, 1)} MiB`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  for (const row of rows) {
    process.stdout.write(
      `${row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

/** The whole fleet whose report is nearest `target` bytes of JSON (at least one device). */
function fleetNear(target: number, sizer: ReturnType<typeof createReportSizer>): number {
  const empty = sizer.jsonBytes(0, 'none');
  const perDevice = (sizer.jsonBytes(100, 'none') - empty) / 100;
  return Math.max(1, Math.round((target - empty) / perDevice));
}

function throughputRows(
  cases: Array<{ label: string; devices: number; bytes: number; r: Record<Way, WayResult> }>,
): { rates: string[][]; stages: string[][] } {
  const mbps = (w: WayResult, bytes: number) => (w.perSecond * bytes) / 1e6;
  const cell = (w: WayResult, bytes: number) =>
    `${fixed(mbps(w, bytes), 1)} MB/s, ${int(w.perSecond)}/s`;
  const rates = [
    ['report (JSON)', 'AES-256-CBC only', 'by hand', 'sealReport', 'seal / hand', 'seal / AES'],
  ];
  const stages = [
    [
      'µs per report',
      'JSON.stringify',
      'AES-256-CBC',
      'HMAC-SHA256',
      'base64 ct',
      'sum',
      'by hand',
      'sealReport',
    ],
  ];
  for (const { label, devices, bytes, r } of cases) {
    const name = `${label}: ${int(devices)} dev, ${size(bytes)}`;
    const { aes, hand, seal, json, hmac, base64 } = r;
    rates.push([
      name,
      cell(aes, bytes),
      cell(hand, bytes),
      cell(seal, bytes),
      fixed(seal.perSecond / hand.perSecond, 2),
      fixed(seal.perSecond / aes.perSecond, 2),
    ]);
    const sum = json.microsPerOp + aes.microsPerOp + hmac.microsPerOp + base64.microsPerOp;
    stages.push([
      name,
      ...[json, aes, hmac, base64].map((w) => fixed(w.microsPerOp, 1)),
      fixed(sum, 1),
      fixed(hand.microsPerOp, 1),
      fixed(seal.microsPerOp, 1),
    ]);
  }
  return { rates, stages };
}

/** Whether one request body fits the receiver's body limit. */
const fitsBody = (row: SizeRow) => row.largestEnvelopeBytes <= DEFAULT_BODY_LIMIT;

function sizeTable(rows: SizeRow[]): string[][] {
  const ms = (n: number) => fixed(n, n < 10 ? 2 : 0);
  const out = [
    [
      'devices',
      'consent',
      'build (ms)',
      'JSON',
      'bytes/device',
      'parts',
      'split+seal (ms)',
      'sealed',
      'largest envelope',
      '≤ 1 MiB body',
      'wire bytes/device',
    ],
  ];
  for (const row of rows) {
    out.push([
      int(row.devices),
      row.consent,
      ms(row.buildMs),
      int(row.jsonBytes),
      fixed(row.bytesPerDevice, 0),
      int(row.parts),
      ms(row.splitSealMs),
      int(row.envelopeBytes),
      int(row.largestEnvelopeBytes),
      fitsBody(row) ? '✓' : 'FAIL: over the body limit',
      fixed(row.wireBytesPerDevice, 0),
    ]);
  }
  return out;
}

export function runUplinkBench(args: string[]): Promise<void> {
  const plan = planOf(args);
  const started = performance.now();
  const keys = deriveUplinkKeys(randomBytes(32));
  const sizer = createReportSizer(keys, randomBytes(32));
  process.stdout.write(
    `uplink benchmark${plan.quick ? ' (--quick)' : ''}: sealReport (JSON, AES-256-CBC, ` +
      `HMAC-SHA256, base64) beside the same work by hand with node:crypto and AES-256-CBC alone, ` +
      `${plan.budget.rounds} interleaved rounds of ≤ ${plan.budget.sliceMs} ms each, median; then ` +
      `periodic reports of busy printers, median of ${plan.buildRuns} builds and of ` +
      `${plan.buildRuns} splits and seals of every part ` +
      `(Node ${process.version}, ${availableParallelism()} cores)\n`,
  );

  progress('choosing the report sizes');
  const largest = { none: sizer.largestSealing('none'), all: sizer.largestSealing('all') };
  const cases = TARGETS.map(({ label, bytes }) => {
    const devices = bytes >= MAX_REPORT_BYTES ? largest.none.devices : fleetNear(bytes, sizer);
    const report = sizer.sealedForm(devices, 'none');
    const json = Buffer.byteLength(JSON.stringify(report), 'utf8');
    progress(`sealing the ${label} report (${int(devices)} device(s), ${int(json)} bytes)`);
    const r = measureSealing(report, keys, plan.budget, (line) =>
      progress(`sealing ${label}: ${line}`),
    );
    return { label, devices, bytes: json, r };
  });
  const { rates, stages } = throughputRows(cases);
  process.stdout.write('\nsealing throughput (MB/s of report JSON, reports/s)\n');
  printTable(rates);
  process.stdout.write('\nwhere the time goes\n');
  printTable(stages);

  const rows: SizeRow[] = [];
  for (const devices of FLEETS) {
    for (const consent of ['none', 'all'] as Consent[]) {
      progress(`report of ${int(devices)} devices, consent ${consent}`);
      rows.push(sizer.measure(devices, consent, plan.buildRuns));
    }
  }
  process.stdout.write('\nperiodic report of N busy printers, sent in parts\n');
  printTable(sizeTable(rows));
  const fullest = (consent: Consent) =>
    Math.max(...rows.filter((r) => r.consent === consent).map((r) => r.maxPartDevices));
  process.stdout.write(
    `\nparts: splitReport, at most ${int(MAX_PART_BYTES)} bytes of JSON each, every part ` +
      `sealed as { ...part, seq, siteId } with consecutive seqs, as the uplink service does; ` +
      `the fullest part holds ${int(fullest('none'))} devices without consent, ` +
      `${int(fullest('all'))} with every consent\n` +
      `one envelope holds at most ${int(MAX_CIPHERTEXT_BYTES)} bytes of ciphertext ` +
      `(${int(MAX_REPORT_BYTES)} bytes of report JSON): ${int(largest.none.devices)} devices ` +
      `without consent, ${int(largest.all.devices)} with every consent\n` +
      `receiver body limit: ${int(DEFAULT_BODY_LIMIT)} bytes; the largest envelope of any part: ` +
      `${int(Math.max(...rows.map((r) => r.largestEnvelopeBytes)))} bytes\n`,
  );
  for (const row of rows.filter((r) => !fitsBody(r))) {
    process.stdout.write(
      `FAIL: ${int(row.devices)} devices, consent ${row.consent}: a part's envelope is ` +
        `${int(row.largestEnvelopeBytes)} bytes, over the receiver's ${int(DEFAULT_BODY_LIMIT)}\n`,
    );
    process.exitCode = 1;
  }
  process.stdout.write(
    "bytes/device: (JSON of N devices − JSON of none) / N; sealed: every part's envelope as " +
      'JSON, as the outbox stores it and the sender posts it, summed; wire bytes/device: ' +
      'sealed / N; MB = 10^6 bytes\n',
  );
  progress(`done in ${fixed((performance.now() - started) / 1000, 1)} s`);
  return Promise.resolve();
}
