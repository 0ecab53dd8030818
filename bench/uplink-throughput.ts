// Sealing throughput of the uplink: sealReport beside the same encrypt-then-MAC written by hand with
// node:crypto, and beside AES-256-CBC alone, each stage of the seal also timed on its own, all over
// the same report in interleaved rounds, so load from other processes falls on every side alike.

import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { sealReport, type Envelope, type UplinkKeys } from '../src/uplink/index.js';

export const SITE_ID = 'bench-site';
export const KID = 'k1';

/** The same envelope as sealReport, by hand and without its checks or its size limit. */
export function sealByHand(report: unknown, seq: number, keys: UplinkKeys): Envelope {
  const plaintext = Buffer.from(JSON.stringify(report), 'utf8');
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keys.encKey, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', keys.macKey).update(iv).update(ct).digest();
  return {
    v: 1,
    siteId: SITE_ID,
    seq,
    kid: KID,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    mac: mac.toString('base64'),
  };
}

export const WAYS = ['aes', 'hand', 'seal', 'json', 'hmac', 'base64'] as const;
export type Way = (typeof WAYS)[number];

/** One operation per way; each returns a length, summed so no result goes unused. */
function operations(report: object, keys: UplinkKeys): Record<Way, () => number> {
  const meta = { siteId: SITE_ID, seq: 0, kid: KID };
  const plaintext = Buffer.from(JSON.stringify(report), 'utf8');
  const iv = randomBytes(16);
  const fixed = createCipheriv('aes-256-cbc', keys.encKey, iv);
  const ct = Buffer.concat([fixed.update(plaintext), fixed.final()]);
  return {
    aes: () => {
      const cipher = createCipheriv('aes-256-cbc', keys.encKey, iv);
      return cipher.update(plaintext).length + cipher.final().length;
    },
    hand: () => sealByHand(report, ++meta.seq, keys).ct.length,
    seal: () => {
      meta.seq += 1;
      return sealReport(report, meta, keys).ct.length;
    },
    json: () => Buffer.from(JSON.stringify(report), 'utf8').length,
    hmac: () => createHmac('sha256', keys.macKey).update(iv).update(ct).digest().length,
    base64: () => ct.toString('base64').length,
  };
}

export interface Budget {
  /** Rounds of every way in turn; the median round counts. */
  rounds: number;
  /** Time cap of one way in one round. */
  sliceMs: number;
  /** Iteration cap of one way in one round. */
  maxIterations: number;
  warmUpMs: number;
}

export interface WayResult {
  /** Median over the rounds. */
  perSecond: number;
  microsPerOp: number;
  iterations: number;
}

let sink = 0;

/** Runs `op` until the slice's time or iteration cap, reading the clock once per batch. */
function run(
  op: () => number,
  batch: number,
  sliceMs: number,
  maxIterations: number,
): { iterations: number; perSecond: number } {
  const started = performance.now();
  let iterations = 0;
  while (iterations < maxIterations && performance.now() - started < sliceMs) {
    for (let i = 0; i < batch; i++) sink += op();
    iterations += batch;
  }
  return { iterations, perSecond: iterations / ((performance.now() - started) / 1000) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function measureSealing(
  report: object,
  keys: UplinkKeys,
  budget: Budget,
  progress: (line: string) => void,
): Record<Way, WayResult> {
  const ops = operations(report, keys);
  // Warm-up: compiles the paths and sizes a batch to about 0.2 ms between clock reads.
  const batches = {} as Record<Way, number>;
  for (const way of WAYS) {
    const { perSecond } = run(ops[way], 1, budget.warmUpMs, budget.maxIterations);
    batches[way] = Math.max(1, Math.min(64, Math.floor(perSecond / 5000)));
  }
  const rates = Object.fromEntries(WAYS.map((w) => [w, [] as number[]])) as Record<Way, number[]>;
  const counts = Object.fromEntries(WAYS.map((w) => [w, 0])) as Record<Way, number>;
  for (let round = 0; round < budget.rounds; round++) {
    progress(`round ${round + 1}/${budget.rounds}`);
    // A different way goes first each round, so none always runs just after a costly one.
    for (let k = 0; k < WAYS.length; k++) {
      const way = WAYS[(k + round) % WAYS.length]!;
      const slice = run(ops[way], batches[way], budget.sliceMs, budget.maxIterations);
      rates[way].push(slice.perSecond);
      counts[way] += slice.iterations;
    }
  }
  if (sink <= 0) throw new Error('the sealing operations produced nothing');
  const out = {} as Record<Way, WayResult>;
  for (const way of WAYS) {
    const perSecond = median(rates[way]);
    out[way] = { perSecond, microsPerOp: 1e6 / perSecond, iterations: counts[way] };
  }
  return out;
}
