// The device side of firmware updates (DESIGN §4.5): a simulated device receives a package over its
// Web Services, verifies it itself — its own vendor keys, model and installed version, never
// trusting that the sender checked — then "installs" it, reporting every step on
// GET /ws/v1/firmware/status and `updating` as its device state while it installs.

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { FirmwareState, WsFirmwareStatus } from '../domain/index.js';
import { verifyPackage, type TrustPolicy } from '../firmware/index.js';
import type { Logger } from '../observability/index.js';

/** The largest package a simulated device accepts unless told otherwise: 1 GiB. */
export const DEFAULT_FIRMWARE_MAX_BYTES = 1024 ** 3;

/** Codes for failures that are not a refusal of the package itself (docs/protocols/web-services.md). */
export const TRANSFER_FAILED = 'FIRMWARE_TRANSFER_FAILED';
export const INSTALL_FAILED = 'FIRMWARE_INSTALL_FAILED';

/** The message an injected installation failure reports. */
export const FLASH_WRITE_ERROR = 'installation failed: flash write error';
export const NO_VENDOR_KEY = 'no vendor key installed';

/** What the updater needs from its device. */
export interface FirmwareTarget {
  model(): string;
  installedVersion(): string;
  /** Installing begins: the device reports `updating` (on MQTT too). */
  beginUpdate(): void;
  /** Installing ended: with the new version, or `null` when it failed and the old one stays. */
  endUpdate(version: string | null): void;
  /** Device time now, ms: packages expire by the device's clock. */
  now(): number;
}

export interface DeviceFirmwareOptions {
  deviceId: string;
  /** The vendor keys the device trusts; null when none is installed: every package is refused. */
  trust: TrustPolicy | null;
  /** The largest package accepted, in bytes. */
  maxBytes: number;
  /** Real time an installation takes. */
  installMs: number;
  /** Installation fails part-way with a flash write error (failure injection for rollouts). */
  failInstall: boolean;
  /** Where a received package waits for verification (removed right after). */
  tempDir: string;
  target: FirmwareTarget;
  logger: Logger;
}

/** What the device makes of a transfer, answered before verification starts. */
export type UploadOutcome =
  | { ok: true; bytes: number; message: string }
  | { ok: false; reason: 'busy' | 'too-large' | 'interrupted'; message: string };

export type FirmwareReport = Pick<WsFirmwareStatus, 'state' | 'message' | 'progress' | 'code'>;

const INSTALL_STEPS = 10;
/** An injected failure strikes after this many steps (60 %), once the device reports `updating`. */
const FAIL_AT_STEP = 6;

class PackageTooLarge extends Error {}

type Decision = { ok: true; version: string } | { ok: false; code: string; reason: string };

/** A package stored in `dir`, or why not. */
type Reception =
  { ok: true; bytes: number; dir: string; message: string } | (UploadOutcome & { ok: false });

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}

function tooLarge(size: number | null, max: number): string {
  return size === null
    ? `package-format: the package is larger than the ${max} bytes this device accepts`
    : `package-format: the package is ${size} bytes; this device accepts at most ${max}`;
}

export class DeviceFirmware {
  private readonly options: DeviceFirmwareOptions;
  private readonly log: Logger;
  private state: FirmwareState = 'idle';
  private progress: number | null = null;
  private message: string | null = null;
  private code: string | null = null;
  private controller: AbortController | undefined;
  /** The update under way, from reception to the end of installation; never rejects. */
  private active: Promise<void> | undefined;

  constructor(options: DeviceFirmwareOptions) {
    this.options = options;
    this.log = options.logger.child({ component: 'firmware' });
  }

  get busy(): boolean {
    return this.state === 'receiving' || this.state === 'verifying' || this.state === 'installing';
  }

  report(): FirmwareReport {
    return { state: this.state, progress: this.progress, message: this.message, code: this.code };
  }

  /**
   * Streams a package to a temporary file. Resolves once it is received (or refused), with the
   * state already `verifying`; verification and installation go on afterwards.
   */
  receive(body: Readable, declaredBytes: number | null): Promise<UploadOutcome> {
    if (this.busy) {
      return Promise.resolve({
        ok: false,
        reason: 'busy',
        message: `a firmware update is already in progress (${this.state}${
          this.message === null ? '' : `: ${this.message}`
        })`,
      });
    }
    const max = this.options.maxBytes;
    if (declaredBytes !== null && declaredBytes > max) {
      const message = tooLarge(declaredBytes, max);
      this.fail('FIRMWARE_TOO_LARGE', message);
      return Promise.resolve({ ok: false, reason: 'too-large', message });
    }
    // Busy from here on, synchronously: a second upload arriving meanwhile is refused.
    this.set('receiving', declaredBytes === null ? null : 0, 'receiving the package');
    const controller = new AbortController();
    this.controller = controller;
    const reception = this.store(body, declaredBytes, controller.signal);
    this.active = reception.then(async (received) => {
      if (received.ok) {
        await this.verifyAndInstall(received.dir, received.bytes, controller.signal);
      }
    });
    return reception.then((received) =>
      received.ok ? { ok: true, bytes: received.bytes, message: received.message } : received,
    );
  }

  /** Interrupts an update under way (the device is switched off) and waits for it to end. */
  async stop(): Promise<void> {
    this.controller?.abort(new Error('the device stopped'));
    await this.active;
  }

  private set(state: FirmwareState, progress: number | null, message: string | null): void {
    this.state = state;
    this.progress = progress;
    this.message = message;
    this.code = null;
  }

  private fail(code: string, message: string): void {
    this.set('failed', null, message);
    this.code = code;
  }

  private async discard(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
      this.log.warn({ err, dir }, 'cannot remove a received firmware package');
    });
  }

  private async store(
    body: Readable,
    declaredBytes: number | null,
    signal: AbortSignal,
  ): Promise<Reception> {
    const max = this.options.maxBytes;
    let dir: string;
    try {
      dir = await mkdtemp(join(this.options.tempDir, 'cc-firmware-'));
    } catch (err) {
      body.resume();
      const message = `the device could not store the package: ${(err as Error).message}`;
      this.fail(TRANSFER_FAILED, message);
      return { ok: false, reason: 'interrupted', message };
    }
    let received = 0;
    const count = new Transform({
      transform: (chunk: Buffer, _encoding, done: TransformCallback) => {
        received += chunk.length;
        if (received > max) {
          done(new PackageTooLarge());
          return;
        }
        if (declaredBytes !== null) this.progress = percent(received, declaredBytes);
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        body,
        count,
        createWriteStream(join(dir, 'package.tar'), { flags: 'wx', mode: 0o600 }),
        { signal },
      );
    } catch (err) {
      await this.discard(dir);
      if (err instanceof PackageTooLarge) {
        const message = tooLarge(null, max);
        this.fail('FIRMWARE_TOO_LARGE', message);
        return { ok: false, reason: 'too-large', message };
      }
      const of = declaredBytes === null ? '' : ` of ${declaredBytes}`;
      const message = `the transfer was interrupted after ${received}${of} bytes`;
      this.fail(TRANSFER_FAILED, message);
      this.log.warn({ err: (err as Error).message, received }, 'firmware transfer interrupted');
      return { ok: false, reason: 'interrupted', message };
    }
    this.set('verifying', 0, `verifying the ${received}-byte package`);
    return { ok: true, bytes: received, dir, message: `received ${received} bytes; verifying` };
  }

  private async verifyAndInstall(dir: string, bytes: number, signal: AbortSignal): Promise<void> {
    try {
      let decision: Decision;
      try {
        decision = await this.verify(join(dir, 'package.tar'), bytes, signal);
      } finally {
        // Gone before the outcome shows: nothing of a refused package is left behind.
        await this.discard(dir);
      }
      if (decision.ok) {
        await this.install(decision.version, signal);
      } else {
        this.fail(decision.code, decision.reason);
        this.log.warn({ code: decision.code, reason: decision.reason }, 'firmware package refused');
      }
    } catch (err) {
      if (signal.aborted) {
        this.fail(INSTALL_FAILED, 'the update was interrupted: the device stopped');
        return;
      }
      this.log.error({ err }, 'firmware update failed');
      this.fail(INSTALL_FAILED, `the update failed: ${(err as Error).message}`);
    }
  }

  /** Whether to install the package, by the device's own checks; a refusal says why. */
  private async verify(file: string, bytes: number, signal: AbortSignal): Promise<Decision> {
    const { trust, target } = this.options;
    if (trust === null) return { ok: false, code: 'FIRMWARE_KEY_UNTRUSTED', reason: NO_VENDOR_KEY };
    const verdict = await verifyPackage(file, trust, {
      now: new Date(target.now()),
      model: target.model(),
      installedVersion: target.installedVersion(),
      maxBytes: this.options.maxBytes,
      signal,
      onProgress: (done) => {
        this.progress = percent(done, bytes);
      },
    });
    if (verdict.ok && verdict.manifest !== null)
      return { ok: true, version: verdict.manifest.version };
    // The first failed check decides, as for the server (firmwareErrorOf).
    const failed = verdict.checks.find((c) => !c.ok);
    return {
      ok: false,
      code: failed?.code ?? 'FIRMWARE_PACKAGE_INVALID',
      reason: failed ? `${failed.name}: ${failed.detail}` : 'the package was refused',
    };
  }

  private async install(version: string, signal: AbortSignal): Promise<void> {
    const { target, installMs, failInstall } = this.options;
    this.set('installing', 0, `installing ${version}`);
    this.log.info({ version, from: target.installedVersion() }, 'installing firmware');
    target.beginUpdate();
    let installed = false;
    try {
      for (let step = 1; step <= INSTALL_STEPS; step += 1) {
        await delay(installMs / INSTALL_STEPS, undefined, { signal });
        if (failInstall && step === FAIL_AT_STEP) {
          this.fail(INSTALL_FAILED, FLASH_WRITE_ERROR);
          this.log.warn({ version }, 'firmware installation failed (injected)');
          return;
        }
        this.progress = percent(step, INSTALL_STEPS);
      }
      installed = true;
    } finally {
      // The new version shows (identity, status, MQTT state) before the status turns idle.
      target.endUpdate(installed ? version : null);
    }
    this.set('idle', null, `installed ${version}`);
    this.log.info({ version }, 'firmware installed');
  }
}
