// The SQLite store: the shared contract on a real file, plus what only a file-backed store can show
// (reopening, a file that is not a database, durability across kill -9, concurrent connections).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/index.js';
import { at, batch, device, job, sample } from '../contract/fixtures.js';
import { openStore } from '../open-store.js';
import { MIGRATIONS } from '../migrations/migrator.js';
import { describeStoreContract } from '../store-contract.js';
import type { Store } from '../store.js';
import { createSqliteStore } from './sqlite-store.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describeStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cc-store-'));
  const store = await createSqliteStore({ file: join(dir, 'cc.db'), logger: silentLogger() });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store file', () => {
  let dir: string;
  const open: Store[] = [];
  const openFile = async (file: string, synchronous?: 'NORMAL' | 'FULL') => {
    const store = await createSqliteStore({ file, logger: silentLogger(), synchronous });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-store-'));
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function migrationRows(file: string): unknown[] {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      return db.prepare('select name, timestamp from kysely_migration order by name').all();
    } finally {
      db.close();
    }
  }

  it('keeps its data when reopened, without running migrations again', async () => {
    const file = join(dir, 'nested', 'dir', 'cc.db');
    const first = await openFile(file);
    await first.migrate();
    await first.applyBatch(batch({ devices: [device()], metrics: [sample('t', 0, 1)] }));
    await first.close();
    const before = migrationRows(file);
    expect(before).toHaveLength(MIGRATIONS.length);

    const second = await openFile(file, 'FULL');
    await second.migrate();
    expect(await second.devices.get('dev-1')).toEqual(device());
    expect(migrationRows(file)).toEqual(before);
  });

  it('refuses a file that is not a database with STORE_FAILED naming the file', async () => {
    const file = join(dir, 'notes.db');
    await writeFile(file, 'these are not the pages of a database '.repeat(200));
    const failure = createSqliteStore({ file, logger: silentLogger() });
    await expect(failure).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(failure).rejects.toThrow(file);
  });

  it('refuses a database migrated by a newer version with STORE_FAILED', async () => {
    const file = join(dir, 'cc.db');
    const store = await openFile(file);
    await store.migrate();
    const raw = new BetterSqlite3(file);
    raw.prepare("insert into kysely_migration (name, timestamp) values ('999_future', 'x')").run();
    raw.close();
    await expect(store.migrate()).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });

  it('refuses a direct UPDATE or DELETE of the audit log in the database itself', async () => {
    const file = join(dir, 'cc.db');
    const store = await openFile(file);
    await store.migrate();
    await store.audit.append({
      id: 'a1',
      at: at(0),
      actor: 'alice',
      action: 'user.delete',
      target: 'u2',
      outcome: 'ok',
      source: null,
      details: {},
    });
    const raw = new BetterSqlite3(file);
    try {
      expect(() => raw.prepare("update audit_log set actor = 'mallory'").run()).toThrow(
        /append-only/,
      );
      expect(() => raw.prepare('delete from audit_log').run()).toThrow(/append-only/);
      expect(raw.prepare('select actor from audit_log').all()).toEqual([{ actor: 'alice' }]);
    } finally {
      raw.close();
    }
  });

  it('refuses writes after close with STORE_FAILED', async () => {
    const store = await openFile(join(dir, 'cc.db'));
    await store.migrate();
    await store.close();
    await expect(store.applyBatch(batch({ devices: [device()] }))).rejects.toMatchObject({
      code: 'STORE_FAILED',
    });
  });

  it('lets two connections to one file write at the same time', async () => {
    const file = join(dir, 'cc.db');
    const a = await openFile(file);
    await a.migrate();
    const b = await openFile(file);
    const writes = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).applyBatch(
        batch({ jobs: [job({ id: `j${i}` })], metrics: [sample('t', i, i)] }),
      ),
    );
    await Promise.all(writes);
    expect((await a.jobs.list({ limit: 1, offset: 0 })).total).toBe(20);
  });

  it('keeps a committed batch when the writing process is killed with SIGKILL', async () => {
    const file = join(dir, 'cc.db');
    const script = join(dir, 'writer.mts');
    const storeUrl = pathToFileURL(join(REPO_ROOT, 'src/store/sqlite/sqlite-store.ts')).href;
    const logUrl = pathToFileURL(join(REPO_ROOT, 'src/observability/index.ts')).href;
    await writeFile(
      script,
      `import { createSqliteStore } from ${JSON.stringify(storeUrl)};
import { silentLogger } from ${JSON.stringify(logUrl)};
const store = await createSqliteStore({ file: process.argv[2], logger: silentLogger() });
await store.migrate();
const metrics = Array.from({ length: 500 }, (_, i) => ({ deviceId: 'dev-1', name: 't', ts: new Date(${String(Date.parse(at(0)))} + i * 1000).toISOString(), value: i }));
await store.applyBatch({ devices: [], jobs: [${JSON.stringify(job())}], alerts: [], consumables: [], metrics });
process.stdout.write('committed\\n');
setInterval(() => undefined, 60_000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.on('exit', (_code, signal) => resolve(signal));
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('committed')) resolve();
      });
      void exited.then(() => reject(new Error(`writer exited before committing: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const store = await openFile(file);
    expect(await store.jobs.get('job-1')).toEqual(job());
    const [series] = await store.metrics.query({
      deviceId: 'dev-1',
      names: ['t'],
      from: at(0),
      to: at(500),
      stepSeconds: 1,
    });
    expect(series?.points).toHaveLength(500);
  });
});

describe('openStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-store-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the SQLite file relative to the data directory, migrated', async () => {
    const config = { driver: 'sqlite' as const, sqliteFile: 'data/cc.db', postgresUrl: null };
    const store = await openStore(config, dir, silentLogger());
    try {
      expect(store.dialect).toBe('sqlite');
      expect(await store.users.count()).toBe(0);
      expect(migrationRows(join(dir, 'data/cc.db'))).toHaveLength(MIGRATIONS.length);
    } finally {
      await store.close();
    }
  });

  it('refuses the postgres driver with CONFIG_INVALID', async () => {
    const config = {
      driver: 'postgres' as const,
      sqliteFile: 'x.db',
      postgresUrl: 'postgres://h/db',
    };
    await expect(openStore(config, dir, silentLogger())).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('store.driver postgres is not available') as unknown,
    });
  });
});

function migrationRows(file: string): unknown[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db.prepare('select name from kysely_migration').all();
  } finally {
    db.close();
  }
}
