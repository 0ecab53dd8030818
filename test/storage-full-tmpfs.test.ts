// A really full disk: the server runs as an operator runs it (a separate process) with its data
// directory on a 16 MB tmpfs, which a ballast file then fills until the kernel says ENOSPC. The
// process stays up, refuses writes with 507 STORAGE_FULL (signing in still works in the reserve),
// refuses a device's message without acknowledging it, and recovers once the ballast is gone.
// Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped, saying why.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, rm, stat, truncate, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/observability/index.js';
import { createSqliteStore } from '../src/store/index.js';
import { ApiClient, type ApiResponse } from './fixtures/https-client.js';
import { execCli, startServerProcess, type ServerProcess } from './fixtures/server-process.js';
import { testEnv } from './fixtures/test-config.js';

const MIB = 1024 * 1024;
const PASSWORD = 'correct horse battery staple';
const DEVICE = 'printer-tmpfs';

function mount(dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', dir], {
    stdio: 'pipe',
  });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // Still busy (a process that did not exit): detach it now, it goes once the last user does.
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

/** Why a tmpfs cannot be mounted here (not root, no mount permission), or null when it can. */
function mountUnavailable(): string | null {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (the tests do not run as root)';
  const dir = mkdtempSync(join(tmpdir(), 'cc-tmpfs-probe-'));
  try {
    mount(dir);
    unmount(dir);
    return null;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `mount -t tmpfs is not permitted here (${stderr || String(err)})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unavailable = mountUnavailable();

/** Writes 1 MiB chunks to `file` until the file system refuses; returns the error code. */
async function fillDisk(file: string): Promise<string> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(MIB, 0x5a);
  try {
    for (let i = 0; i < 64; i++) await handle.write(chunk);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown';
  } finally {
    await handle.close();
  }
  return 'not full';
}

interface StorageInfo {
  state: string;
  freeBytes: number;
  minFreeBytes: number;
  dir?: string;
  message?: string;
}

describe('a full data directory on a real file system', () => {
  const root = mkdtempSync(join(tmpdir(), 'cc-tmpfs-'));
  const dataDir = join(root, 'data');
  let mounted = false;
  let server: ServerProcess | undefined;
  let api: ApiClient | undefined;
  let device: MqttClient | undefined;

  afterAll(async () => {
    await device?.endAsync(true);
    await api?.close();
    if (server && server.child.exitCode === null) await server.kill9();
    if (mounted) unmount(dataDir);
    await rm(root, { recursive: true, force: true });
  });

  const storage = async (): Promise<StorageInfo> => {
    const info = await api!.get('/api/v1/info');
    return (info.body as { storage: StorageInfo }).storage;
  };

  const waitForState = (state: string) =>
    vi.waitFor(
      async () => {
        expect((await storage()).state).toBe(state);
      },
      { timeout: 15_000, interval: 200 },
    );

  const metric = (res: ApiResponse, name: string): number => {
    const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ').at(-1));
  };

  it.skipIf(unavailable !== null)(
    `stays up, refuses writes with STORAGE_FULL and recovers once space is freed${unavailable ? ` — skipped: ${unavailable}` : ''}`,
    async () => {
      await mkdir(dataDir);
      mount(dataDir);
      mounted = true;
      const env = {
        ...testEnv(dataDir),
        CC_LOG__LEVEL: 'info',
        CC_STORAGE__MIN_FREE_MB: '2',
        CC_STORAGE__CHECK_INTERVAL_SECONDS: '1',
        CC_UPLINK__ENABLED: 'false',
      };
      const provision = await execCli(['devices', 'provision', DEVICE, '--json'], env);
      expect(provision.code, provision.stderr).toBe(0);
      const { token } = JSON.parse(provision.stdout) as { token: string };

      server = await startServerProcess(env);
      api = await ApiClient.trusting(
        `https://127.0.0.1:${server.ports.https}`,
        join(dataDir, 'tls', 'server.crt'),
      );
      const setupToken = new URL(server.setupUrl!).hash.replace('#token=', '');
      expect(
        (
          await api.post('/api/v1/setup', {
            token: setupToken,
            username: 'admin',
            password: PASSWORD,
          })
        ).status,
      ).toBe(201);
      expect(
        (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
      ).toBe(200);
      expect(await storage()).toMatchObject({ state: 'ok', minFreeBytes: 2 * MIB });

      device = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports.mqtt}`, {
        clientId: DEVICE,
        username: DEVICE,
        password: token,
        protocolVersion: 4,
        clean: false,
        reconnectPeriod: 250,
      });
      device.on('error', () => undefined);
      const telemetry = (second: number, value: number) =>
        JSON.stringify({
          ts: new Date(Date.UTC(2025, 5, 1, 8, 0, second)).toISOString(),
          metrics: { chamber_temp: value },
        });
      await device.publishAsync(`cc/v1/devices/${DEVICE}/telemetry`, telemetry(0, 40), { qos: 1 });

      // Fill the disk: the kernel refuses the ballast once nothing is left.
      const ballast = join(dataDir, 'ballast.bin');
      expect(await fillDisk(ballast)).toBe('ENOSPC');
      await waitForState('full');
      expect(server.child.exitCode).toBeNull();

      const refused = await api.post('/api/v1/sites', { id: 'hall-3', name: 'Hall 3' });
      expect(refused.status).toBe(507);
      const error = (refused.body as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('STORAGE_FULL');
      expect(error.message).toContain(dataDir);
      expect(error.message).toMatch(/fix: free space/);

      let acked = false;
      const closed = new Promise<void>((resolve) => device!.once('close', () => resolve()));
      const delivered = new Promise<void>((resolve, reject) => {
        device!.publish(
          `cc/v1/devices/${DEVICE}/telemetry`,
          telemetry(1, 41),
          { qos: 1 },
          (err) => {
            if (err) reject(err);
            else {
              acked = true;
              resolve();
            }
          },
        );
      });
      await closed;
      expect(acked).toBe(false);

      // Reads and probes keep working.
      expect((await api.get('/healthz')).status).toBe(200);
      const ready = await api.get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', storage: 'full' });
      expect((await api.get('/api/v1/sites')).status).toBe(200);
      expect((await api.get('/api/v1/devices')).status).toBe(200);
      const metrics = await api.get('/metrics');
      expect(metric(metrics, 'cc_storage_state')).toBe(2);
      expect(metric(metrics, 'cc_storage_free_bytes')).toBeLessThan(2 * MIB);

      // Signing in stays open: a megabyte back (still under the minimum) is room enough.
      await truncate(ballast, (await stat(ballast)).size - MIB);
      expect(
        (await api.post('/api/v1/auth/login', { username: 'admin', password: PASSWORD })).status,
      ).toBe(200);
      expect((await api.post('/api/v1/sites', { id: 'hall-3', name: 'Hall 3' })).status).toBe(507);

      // Space is back: the recheck and its probe writes end the refusals.
      await unlink(ballast);
      await waitForState('ok');
      await delivered;
      expect((await api.post('/api/v1/sites', { id: 'hall-3', name: 'Hall 3' })).status).toBe(201);
      expect(server.child.exitCode).toBeNull();

      // Logged once each way, not per refused write.
      const lines = server.output().split('\n');
      expect(lines.filter((l) => l.includes('storage full')).length).toBe(1);
      expect(lines.filter((l) => l.includes('storage recovered')).length).toBe(1);

      expect(await server.stop()).toBe(0);
      const store = await createSqliteStore({
        file: join(dataDir, 'command-center.db'),
        logger: silentLogger(),
      });
      try {
        const [series] = await store.metrics.query({
          deviceId: DEVICE,
          names: ['chamber_temp'],
          from: '2025-06-01T08:00:00.000Z',
          to: '2025-06-01T08:00:02.000Z',
          stepSeconds: 1,
        });
        // The refused telemetry was resent by the device and landed: nothing is missing.
        expect(series?.points.map((p) => p.avg)).toEqual([40, 41]);
      } finally {
        await store.close();
      }
    },
    120_000,
  );
});
