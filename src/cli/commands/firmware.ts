// `command-center firmware keygen|pack|sign|manifest|verify`: the vendor's tooling for firmware
// packages (docs/firmware.md) — make a key pair, pack an image with its manifest, sign it (with the
// key, or add a signature made with openssl), and verify a package as a server or device would.

import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { CommanderError, type Command } from 'commander';
import { CcError, isCcError } from '../../domain/index.js';
import {
  addPackageSignature,
  createTrustPolicy,
  decodeSignature,
  firmwareErrorOf,
  loadVendorKeys,
  packPackage,
  parseVendorKey,
  readPackageManifest,
  readSigningKey,
  signPackage,
  verifyPackage,
  writeVendorKeyPair,
  type Verdict,
} from '../../firmware/index.js';
import { parseIntegerOption } from '../parse-options.js';

const DAY_MS = 86_400_000;
const DEFAULT_MAX_BYTES = '4G';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface Progress {
  update(done: number, total: number | null): void;
  stop(): void;
}

/** A progress bar on standard error, shown only on a terminal and only once work takes a second. */
function progressBar(label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  let bar: SingleBar | null = null;
  return {
    update(done, total) {
      if (total === null || total <= 0) return;
      if (bar !== null) {
        bar.update(done);
      } else if (Date.now() - started >= 1000) {
        bar = new SingleBar(
          { format: `${label} [{bar}] {percentage}% | ETA {eta_formatted}`, clearOnComplete: true },
          Presets.shades_classic,
        );
        bar.start(total, done);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

async function withProgress<T>(label: string, run: (p: Progress) => Promise<T>): Promise<T> {
  const progress = progressBar(label);
  try {
    return await run(progress);
  } finally {
    progress.stop();
  }
}

/** `--expires`: an RFC 3339 time, or a number of days from now such as `365d`. */
function parseWhen(flag: string, value: string, now: Date): Date {
  const days = /^(\d{1,5})d$/.exec(value);
  if (days) return new Date(now.getTime() + Number(days[1]) * DAY_MS);
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) {
    throw new CcError(
      'BAD_REQUEST',
      `${flag} must be an RFC 3339 time (2027-01-31T00:00:00Z) or days from now (365d); got "${value.slice(0, 40)}"`,
    );
  }
  return date;
}

/** `--max-bytes`: bytes, or with a K, M or G suffix (powers of 1024). */
function parseSize(flag: string, value: string): number {
  const m = /^(\d{1,13})([KMG]?)$/i.exec(value.trim());
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m?.[2] ?? '').toUpperCase()];
  const n = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new CcError('BAD_REQUEST', `${flag} must be a size such as 2G, 512M or 1048576`);
  }
  return n;
}

function modelsOf(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes} bytes` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** An externally made signature: 64 raw bytes (openssl's output) or its base64. */
async function readSignature(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  if (bytes.length === 64) return bytes;
  const decoded = decodeSignature(bytes.toString('latin1').trim());
  if (decoded === null) {
    throw new CcError(
      'BAD_REQUEST',
      `${file}: not an Ed25519 signature (64 raw bytes, or their base64 on one line)`,
    );
  }
  return decoded;
}

export function describeVerdict(verdict: Verdict): string {
  const width = Math.max(...verdict.checks.map((c) => c.name.length));
  const lines = verdict.checks.map(
    (c) => `  ${c.ok ? '✓' : '✗'} ${c.name.padEnd(width)}  ${c.detail}`,
  );
  const m = verdict.manifest;
  if (verdict.ok && m) {
    lines.push(
      `verdict: ACCEPTED — ${m.name} ${m.version}, signed by ${verdict.signers.join(', ')}`,
    );
  } else {
    const error = firmwareErrorOf(verdict);
    const failed = verdict.checks.filter((c) => !c.ok).map((c) => c.name);
    lines.push(
      `verdict: REFUSED — ${failed.length} of ${verdict.checks.length} checks failed ` +
        `(${failed.join(', ')}); ${error?.code ?? 'FIRMWARE_PACKAGE_INVALID'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface VerifyOptions {
  pubkey?: string[];
  retiredPubkey?: string[];
  threshold: string;
  model?: string;
  installed?: string;
  maxBytes: string;
  json?: boolean;
}

async function runVerify(file: string, options: VerifyOptions): Promise<number> {
  const active = options.pubkey ?? [];
  const retired = options.retiredPubkey ?? [];
  if (active.length === 0) {
    throw new CcError('BAD_REQUEST', 'give at least one trusted vendor key with --pubkey <file>');
  }
  const keys = await loadVendorKeys([
    ...active.map((f) => ({ file: f })),
    ...retired.map((f) => ({ file: f, retired: true })),
  ]);
  const threshold = parseIntegerOption('--threshold', options.threshold, 1, 16);
  const trust = createTrustPolicy(keys, threshold);
  const maxBytes = parseSize('--max-bytes', options.maxBytes);
  const verdict = await withProgress(`verifying ${basename(file)}`, (progress) =>
    verifyPackage(file, trust, {
      now: new Date(),
      maxBytes,
      ...(options.model !== undefined ? { model: options.model } : {}),
      ...(options.installed !== undefined ? { installedVersion: options.installed } : {}),
      onProgress: (done, total) => progress.update(done, total),
    }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  } else {
    const retiredNote = retired.length > 0 ? ` (${retired.length} retired)` : '';
    process.stdout.write(
      `${file}: ${keys.length} vendor key${keys.length === 1 ? '' : 's'}${retiredNote}, ` +
        `threshold ${threshold}\n${describeVerdict(verdict)}`,
    );
  }
  return verdict.ok ? 0 : 1;
}

export function registerFirmwareCommands(program: Command): void {
  const firmware = program
    .command('firmware')
    .description('vendor tooling for signed firmware packages: keygen, pack, sign, verify');

  firmware
    .command('keygen')
    .description('make an Ed25519 vendor key pair: <prefix>.key (0600) and <prefix>.pub.pem')
    .requiredOption('--out <prefix>', 'file name prefix, e.g. vendor or keys/vendor-2026')
    .action(async (options: { out: string }) => {
      const pair = await writeVendorKeyPair(options.out);
      process.stdout.write(
        [
          `wrote ${pair.keyPath} (private key, mode 0600: keep it secret, off servers and devices)`,
          `wrote ${pair.publicKeyPath} (public key: give it to servers and devices)`,
          `key id ${pair.keyId}`,
          '',
        ].join('\n'),
      );
    });

  firmware
    .command('pack')
    .description('write an unsigned package (manifest.json + image) to sign next')
    .requiredOption('--image <file>', 'the firmware image')
    .requiredOption('--name <name>', 'firmware name (letters, digits, . _ -)')
    .option('--version <semver>', 'firmware version, e.g. 4.3.0 or 5.0.0-rc.1')
    .option('--firmware-version <semver>', 'the same as --version')
    .requiredOption(
      '--models <list>',
      'device models it installs on, comma-separated (repeatable)',
      collect,
    )
    .option('--expires <when>', 'RFC 3339 time, or days from now such as 365d', '365d')
    .option('--released <time>', 'release time (RFC 3339); default now')
    .option('--allow-downgrade', 'let this version install over a newer one (signed rollback)')
    .option('--image-name <name>', 'the image file name inside the package; default its base name')
    .option('--out <file>', 'package file; default <name>-<version>.tar')
    .option('--force', 'replace an existing package file')
    .action(
      async (options: {
        image: string;
        name: string;
        version?: string;
        firmwareVersion?: string;
        models: string[];
        expires: string;
        released?: string;
        allowDowngrade?: boolean;
        imageName?: string;
        out?: string;
        force?: boolean;
      }) => {
        const version = options.version ?? options.firmwareVersion;
        if (version === undefined) {
          throw new CcError('BAD_REQUEST', 'give the firmware version with --version, e.g. 4.3.0');
        }
        const now = new Date();
        const out = options.out ?? `${options.name}-${version}.tar`;
        const released =
          options.released !== undefined ? parseWhen('--released', options.released, now) : now;
        const result = await withProgress(`packing ${basename(out)}`, (progress) =>
          packPackage(
            {
              imagePath: options.image,
              name: options.name,
              version,
              models: modelsOf(options.models),
              releasedAt: released,
              expiresAt: parseWhen('--expires', options.expires, released),
              allowDowngrade: options.allowDowngrade === true,
              ...(options.imageName !== undefined ? { imageName: options.imageName } : {}),
            },
            out,
            { overwrite: options.force === true, onProgress: (d, t) => progress.update(d, t) },
          ),
        );
        const m = result.manifest;
        process.stdout.write(
          [
            `wrote ${out} (unsigned)`,
            `  ${m.name} ${m.version} for ${m.models.join(', ')}`,
            `  image ${m.image}, ${mib(m.size)}, sha256 ${m.sha256}`,
            `  released ${m.releasedAt}, expires ${m.expiresAt}` +
              (m.allowDowngrade ? ', allows downgrade' : ''),
            `next: command-center firmware sign --key <vendor.key> ${out}`,
            '',
          ].join('\n'),
        );
      },
    );

  firmware
    .command('sign')
    .description('add a signature to the package (several keys may sign, for a threshold)')
    .argument('<package>', 'package file (replaced unless --out is given)')
    .option('--key <file>', 'vendor private key (PEM) to sign with')
    .option('--signature <file>', 'a signature made elsewhere (openssl: raw 64 bytes, or base64)')
    .option('--pubkey <file>', 'with --signature: the public key it must verify with')
    .option('--out <file>', 'write the signed package here instead')
    .action(
      async (
        file: string,
        options: { key?: string; signature?: string; pubkey?: string; out?: string },
      ) => {
        const byKey = options.key !== undefined;
        const bySignature = options.signature !== undefined;
        if (byKey === bySignature) {
          throw new CcError(
            'BAD_REQUEST',
            'give either --key <file> or --signature <file> --pubkey <file>',
          );
        }
        const signOptions = {
          ...(options.out !== undefined ? { out: options.out } : {}),
        };
        const result = await withProgress(`signing ${basename(file)}`, async (progress) => {
          const withProgressOptions = {
            ...signOptions,
            onProgress: (d: number, t: number) => progress.update(d, t),
          };
          if (options.key !== undefined) {
            return signPackage(file, await readSigningKey(options.key), withProgressOptions);
          }
          if (options.pubkey === undefined) {
            throw new CcError(
              'BAD_REQUEST',
              '--signature needs --pubkey <file> to check it before it is added',
            );
          }
          const key = parseVendorKey(await readFile(options.pubkey, 'utf8'), {
            source: options.pubkey,
          });
          const signature = await readSignature(options.signature as string);
          return addPackageSignature(file, signature, key.publicKey, withProgressOptions);
        });
        const m = result.manifest;
        process.stdout.write(
          result.added
            ? `signed ${m.name} ${m.version} with key ${result.keyId}: ${result.path} holds ${result.signatures} signature${result.signatures === 1 ? '' : 's'}\n`
            : `${m.name} ${m.version} is already signed by key ${result.keyId}; nothing changed\n`,
        );
      },
    );

  firmware
    .command('manifest')
    .description('print the exact bytes of the package manifest.json (what is signed)')
    .argument('<package>', 'package file')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (file: string, options: { out?: string }) => {
      const { manifestBytes } = await readPackageManifest(file);
      if (options.out !== undefined) await writeFile(options.out, manifestBytes, { flag: 'wx' });
      else process.stdout.write(manifestBytes);
    });

  firmware
    .command('verify')
    .description(
      'verify a package as a server or device does; prints every check. Exit 0 accepted, 1 refused, 2 usage or I/O error',
    )
    .argument('<package>', 'package file')
    .option('--pubkey <file>', 'a trusted vendor public key (PEM; repeatable)', collect)
    .option(
      '--retired-pubkey <file>',
      'a retired vendor key: known, but its signatures do not count (repeatable)',
      collect,
    )
    .option('--threshold <k>', 'signatures from distinct active keys required', '1')
    .option('--model <model>', 'the target device model')
    .option('--installed <version>', 'the version installed on the target (refuses rollbacks)')
    .option('--max-bytes <size>', 'largest package accepted (K, M, G suffixes)', DEFAULT_MAX_BYTES)
    .option('--json', 'print the verdict as JSON')
    .exitOverride((err) => {
      // Usage errors exit with 2 here, so that 1 always means "refused".
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action(async (file: string, options: VerifyOptions) => {
      try {
        process.exitCode = await runVerify(file, options);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(
          isCcError(err) ? `error ${err.code}: ${message}\n` : `error: ${message}\n`,
        );
        process.exitCode = 2;
      }
    });
}
