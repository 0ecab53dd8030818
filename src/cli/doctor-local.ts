// The doctor's checks of this machine from the command line: the configured port ranges (ports the
// running server remembered count as ours when it answers), the data directory's disk, and, when
// the server runs, its broker; the SQLite database when it exists.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { request } from 'node:https';
import BetterSqlite3 from 'better-sqlite3';
import type { AppConfig } from '../config/index.js';
import {
  loopbackFor,
  type LocalCheckOptions,
  type PortRangeToCheck,
} from '../diagnostics/index.js';
import { readPortsState } from '../net/index.js';

/** Does a Command Center server answer /healthz on this HTTPS port? */
function serverAnswers(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request(
      {
        host,
        port,
        path: '/healthz',
        method: 'GET',
        // Only asks whether it is ours; nothing secret is sent, so its certificate is not verified.
        rejectUnauthorized: false,
        timeout: ms,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 1024) body += chunk;
        });
        res.on('end', () => {
          done(res.statusCode === 200 && body.includes('"ok"'));
        });
        res.on('error', () => {
          done(false);
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      done(false);
    });
    req.end();
  });
}

/** The nearest directory that exists, so a data directory not created yet is still measured. */
function existingDir(dir: string): string {
  let current = resolve(dir);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function databaseProbe(file: string): () => Promise<string> {
  return () =>
    new Promise((done, fail) => {
      try {
        const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
        try {
          db.pragma('busy_timeout = 2000');
          const tables = db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as {
            n: number;
          };
          const check = db.pragma('quick_check(1)', { simple: true }) as string;
          if (check !== 'ok') throw new Error(`quick_check: ${check}`);
          done(`SQLite ${file}: ${String(tables.n)} schema objects, quick_check ok`);
        } finally {
          db.close();
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
}

export async function cliLocalChecks(
  config: AppConfig,
  timeoutMs: number,
): Promise<{ local: LocalCheckOptions; serverRunning: boolean }> {
  const dataDir = resolve(config.dataDir);
  const remembered = await readPortsState(join(dataDir, 'ports.json'));
  const host = loopbackFor(config.bindHost);
  const httpsPort = remembered.get('https');
  const serverRunning =
    httpsPort !== undefined && (await serverAnswers(host, httpsPort, Math.min(timeoutMs, 2000)));
  const ranges: PortRangeToCheck[] = (
    [
      ['https', config.ports.https],
      ['http', config.ports.http],
      ['mqtt', config.ports.mqtt],
      ...(config.apiProxy.enabled ? ([['apiProxy', config.ports.apiProxy]] as const) : []),
    ] as const
  ).map(([service, range]) => {
    const port = remembered.get(service);
    return {
      key: `ports.${service}`,
      ...range,
      ...(port !== undefined ? { remembered: port } : {}),
    };
  });
  const ours = new Set(serverRunning ? [...remembered.values()] : []);
  const mqttPort = remembered.get('mqtt');
  const sqlite = config.store.sqliteFile;
  const dbFile = isAbsolute(sqlite) ? sqlite : resolve(dataDir, sqlite);
  const local: LocalCheckOptions = {
    ports: { host: config.bindHost, ranges, ours },
    disks: [
      {
        subject: existsSync(dataDir)
          ? 'data directory (database, outbox)'
          : 'data directory (not created yet: its parent)',
        dir: existingDir(dataDir),
      },
    ],
    minFreeBytes: config.storage.minFreeMb * 1024 * 1024,
    clock: true,
    ...(serverRunning && mqttPort !== undefined ? { broker: { host, port: mqttPort } } : {}),
    ...(config.store.driver === 'sqlite' && existsSync(dbFile)
      ? { database: databaseProbe(dbFile) }
      : {}),
  };
  return { local, serverRunning };
}
