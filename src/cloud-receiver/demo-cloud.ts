// The reference receiver as the demo's vendor cloud (`npm start`): on 127.0.0.1, keeping its port
// and enrollment token in its data directory so that an enrollment made in one run still reaches
// it after a restart.

import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/index.js';
import {
  createCloudReceiver,
  type CloudReceiver,
  type CloudReceiverInfo,
} from './cloud-receiver.js';

export const DEMO_ORGANIZATION = 'demo-organization';

export interface DemoCloud {
  receiver: CloudReceiver;
  info: CloudReceiverInfo;
  organizationId: string;
  enrollmentToken: string;
}

interface Remembered {
  port: number;
  enrollmentToken: string;
}

async function remembered(file: string): Promise<Remembered | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<Remembered>;
    return typeof value.port === 'number' &&
      Number.isInteger(value.port) &&
      value.port > 0 &&
      value.port < 65536 &&
      typeof value.enrollmentToken === 'string' &&
      /^[\w-]{16,64}$/.test(value.enrollmentToken)
      ? { port: value.port, enrollmentToken: value.enrollmentToken }
      : null;
  } catch {
    return null;
  }
}

export async function startDemoCloud(options: {
  dataDir: string;
  reportIntervalSeconds: number;
  logger: Logger;
}): Promise<DemoCloud> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = join(options.dataDir, 'demo-cloud.json');
  const before = await remembered(file);
  const enrollmentToken = before?.enrollmentToken ?? randomBytes(12).toString('base64url');
  const start = async (
    port: number,
  ): Promise<{ receiver: CloudReceiver; info: CloudReceiverInfo }> => {
    const receiver = createCloudReceiver({
      dataDir: options.dataDir,
      host: '127.0.0.1',
      port,
      organizationId: DEMO_ORGANIZATION,
      enrollmentToken,
      reportIntervalSeconds: options.reportIntervalSeconds,
      logger: options.logger,
    });
    return { receiver, info: await receiver.start() };
  };
  let started;
  try {
    started = await start(before?.port ?? 0);
  } catch (err) {
    if (before === null) throw err;
    // The remembered port is taken: a new one works for new enrollments.
    options.logger.warn(
      { port: before.port },
      'demo cloud port taken; enroll again on the Cloud page',
    );
    started = await start(0);
  }
  const port = Number(new URL(started.info.url).port);
  await writeFile(file, JSON.stringify({ port, enrollmentToken }), { mode: 0o600 });
  return { ...started, organizationId: DEMO_ORGANIZATION, enrollmentToken };
}
