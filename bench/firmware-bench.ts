// Firmware benchmark: `verifyPackage` over a signed package on disk (strict tar reading, SHA-256 of
// the image while streaming, Ed25519 over the manifest, every check) beside the baseline of the
// same run — streaming the same file through a bare SHA-256 — for images of 16, 128 and 512 MiB;
// plus the peak growth of the resident set while verifying, which must not grow with the image.

import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createTrustPolicy,
  generateVendorKeyPair,
  packPackage,
  parseVendorKey,
  signPackage,
  verifyPackage,
} from '../src/firmware/index.js';

const MIB = 2 ** 20;

/** A full garbage collection, so the memory figure starts from live data only. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function progress(line: string): void {
  process.stderr.write(`firmware: ${line}\n`);
}

async function writeImage(path: string, bytes: number): Promise<void> {
  const chunk = randomBytes(MIB);
  let left = bytes;
  await pipeline(
    Readable.from(
      (function* () {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          yield n === chunk.length ? chunk : chunk.subarray(0, n);
        }
      })(),
    ),
    createWriteStream(path),
  );
}

async function bareSha256(path: string): Promise<void> {
  const hash = createHash('sha256');
  // The verifier reads in 256 KiB chunks; the baseline reads the same way.
  await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), hash);
  hash.digest();
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function runFirmwareBench(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const sizes = quick ? [8] : [16, 128, 512];
  const runs = quick ? 2 : 5;
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-firmware-'));
  try {
    const vendor = generateVendorKeyPair();
    const trust = createTrustPolicy([parseVendorKey(vendor.publicKeyPem)]);
    const privateKey = createPrivateKey(vendor.privateKeyPem);
    const rows: string[][] = [
      ['image', 'sha256 only (MB/s)', 'verifyPackage (MB/s)', 'verify / sha256', 'peak RSS growth'],
    ];
    for (const mib of sizes) {
      progress(`writing and signing a ${mib} MiB package`);
      const image = join(dir, `image-${mib}.bin`);
      const pkg = join(dir, `package-${mib}.tar`);
      await writeImage(image, mib * MIB);
      await packPackage(
        {
          imagePath: image,
          name: 'bench-fw',
          version: '2.0.0',
          models: ['Fusion P5'],
          expiresAt: new Date(Date.now() + 86_400_000),
          imageName: 'firmware.bin',
        },
        pkg,
      );
      await signPackage(pkg, privateKey);
      const context = {
        now: new Date(),
        model: 'Fusion P5',
        installedVersion: '1.0.0',
        maxBytes: 2 * 1024 * MIB,
      };
      progress(`timing ${runs} runs of each`);
      // Interleaved so load from elsewhere falls on both alike.
      const bare: number[] = [];
      const verify: number[] = [];
      for (let r = 0; r < runs; r++) {
        bare.push(await timed(() => bareSha256(pkg), 1));
        verify.push(
          await timed(async () => {
            const verdict = await verifyPackage(pkg, trust, context);
            if (!verdict.ok) throw new Error('the benchmark package was refused');
          }, 1),
        );
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      // Peak growth of the resident set while verifying, sampled every 5 ms after a full GC:
      // bounded memory means it does not grow with the image.
      collectGarbage();
      const base = process.memoryUsage.rss();
      let peak = base;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 5);
      await verifyPackage(pkg, trust, context);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      const growth = peak - base;
      const mbps = (ms: number) => (mib * MIB) / 1e6 / (ms / 1000);
      rows.push([
        `${mib} MiB`,
        mbps(median(bare)).toFixed(0),
        mbps(median(verify)).toFixed(0),
        (median(bare) / median(verify)).toFixed(2),
        `${(growth / MIB).toFixed(1)} MiB`,
      ]);
      await rm(image, { force: true });
      await rm(pkg, { force: true });
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    process.stdout.write('firmware package verification (median of interleaved runs)\n');
    for (const row of rows) {
      process.stdout.write(
        `${row
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
