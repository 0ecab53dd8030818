import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import { startDemoCloud, type DemoCloud } from './demo-cloud.js';

const dirs: string[] = [];
const running: DemoCloud[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.receiver.stop();
  while (dirs.length > 0) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<DemoCloud> {
  const demo = await startDemoCloud({ dataDir, reportIntervalSeconds: 60, logger: silentLogger() });
  running.push(demo);
  return demo;
}

describe('the demo cloud', () => {
  it('comes back on the same port with the same token, so an enrollment survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-demo-cloud-'));
    dirs.push(dir);
    const first = await start(dir);
    await running.pop()!.receiver.stop();
    const second = await start(dir);
    expect(second.info.url).toBe(first.info.url);
    expect(second.enrollmentToken).toBe(first.enrollmentToken);
    expect(second.info.fingerprint256).toBe(first.info.fingerprint256);
    expect((await stat(join(dir, 'demo-cloud.json'))).mode & 0o777).toBe(0o600);
  });

  it('moves to another port when the remembered one is taken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-demo-cloud-'));
    dirs.push(dir);
    const first = await start(dir);
    const port = Number(new URL(first.info.url).port);
    await running.pop()!.receiver.stop();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const second = await start(dir);
      expect(Number(new URL(second.info.url).port)).not.toBe(port);
      expect(second.enrollmentToken).toBe(first.enrollmentToken);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
