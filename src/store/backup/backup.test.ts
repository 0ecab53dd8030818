import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/index.js';
import { MIGRATIONS } from '../migrations/migrator.js';
import { openStore } from '../open-store.js';
import { createBackup, restoreBackup } from './index.js';

const STORE = { driver: 'sqlite' as const, sqliteFile: 'command-center.db', postgresUrl: null };

let dataDir: string;
let dbFile: string;
let backupRoot: string;

beforeEach(async () => {
  const root = await mkdtemp(join(tmpdir(), 'cc-backup-'));
  dataDir = join(root, 'data');
  backupRoot = join(root, 'backups');
  dbFile = join(dataDir, 'command-center.db');
  await mkdir(backupRoot);
});

afterEach(async () => {
  await rm(join(dataDir, '..'), { recursive: true, force: true });
});

/** A migrated database with the files a server keeps beside it, and a table `pairs`. */
async function seedDataDir(): Promise<void> {
  const store = await openStore(STORE, dataDir, silentLogger());
  await store.close();
  await writeFile(join(dataDir, 'secret.key'), Buffer.alloc(32, 7), { mode: 0o600 });
  await writeFile(join(dataDir, 'ports.json'), '{"https":8443}\n');
  await mkdir(join(dataDir, 'tls'));
  await writeFile(join(dataDir, 'tls', 'server.crt'), 'CERT');
  await writeFile(join(dataDir, 'tls', 'server.key'), 'KEY', { mode: 0o600 });
  const db = openWal(dbFile);
  db.exec('create table pairs (id integer primary key, side text, payload blob)');
  db.close();
}

function openWal(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

function count(file: string, sql = 'select count(*) as n from pairs'): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('createBackup', () => {
  beforeEach(seedDataDir);

  it('takes a consistent snapshot while another connection writes continuously', async () => {
    const writer = openWal(dbFile);
    const insert = writer.prepare('insert into pairs (side, payload) values (?, randomblob(2000))');
    // Every transaction adds one 'a' row and one 'b' row: a consistent snapshot has equal counts.
    const pair = writer.transaction(() => {
      insert.run('a');
      insert.run('b');
    });
    for (let i = 0; i < 500; i++) pair();
    let writes = 0;
    let stop = false;
    const loop = (): void => {
      if (stop) return;
      pair();
      writes++;
      setImmediate(loop);
    };
    setImmediate(loop);
    const outDir = join(backupRoot, 'b1');
    try {
      await createBackup({ dbFile, dataDir, outDir, pagesPerStep: 5 });
    } finally {
      stop = true;
      writer.close();
    }
    expect(writes).toBeGreaterThan(0);
    const copy = new BetterSqlite3(join(outDir, 'command-center.db'), { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const sides = copy
        .prepare('select side, count(*) as n from pairs group by side order by side')
        .all() as { side: string; n: number }[];
      expect(sides).toHaveLength(2);
      expect(sides[0]?.n).toBe(sides[1]?.n);
      expect(sides[0]?.n).toBeGreaterThanOrEqual(500);
    } finally {
      copy.close();
    }
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as {
      migrations: string[];
      files: { path: string }[];
    };
    expect(manifest.migrations).toEqual(MIGRATIONS.map(([name]) => name));
    expect(manifest.files.map((f) => f.path)).toEqual([
      'command-center.db',
      'ports.json',
      'secret.key',
      'tls/server.crt',
      'tls/server.key',
    ]);
    expect((await stat(join(outDir, 'secret.key'))).mode & 0o777).toBe(0o600);
  }, 30_000);
});

describe('restoreBackup', () => {
  beforeEach(seedDataDir);

  it('brings back the database and key files and keeps the current ones aside', async () => {
    const db = openWal(dbFile);
    db.prepare("insert into pairs (side) values ('before')").run();
    db.close();
    const from = join(backupRoot, 'b');
    await createBackup({ dbFile, dataDir, outDir: from });

    const later = openWal(dbFile);
    later.prepare("insert into pairs (side) values ('after')").run();
    later.close();
    await writeFile(join(dataDir, 'secret.key'), Buffer.alloc(32, 9));
    await chmod(join(dataDir, 'secret.key'), 0o644);

    await expect(restoreBackup({ from, dbFile, dataDir })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('--force') as string,
    });
    const result = await restoreBackup({ from, dbFile, dataDir, force: true });
    expect(count(dbFile)).toBe(1);
    expect(await readFile(join(dataDir, 'secret.key'))).toEqual(Buffer.alloc(32, 7));
    expect((await stat(join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dataDir, 'tls', 'server.crt'), 'utf8')).toBe('CERT');
    expect(result.movedAside.some((p) => p.includes('command-center.db.before-restore-'))).toBe(
      true,
    );
    const aside = (await readdir(dataDir)).find((n) => n.startsWith('command-center.db.before'));
    expect(count(join(dataDir, aside ?? 'missing'))).toBe(2);
    // The restored database opens as a store again, already at the latest schema.
    const store = await openStore(STORE, dataDir, silentLogger());
    await store.close();
  });

  it('refuses while another process has the database open', async () => {
    const from = join(backupRoot, 'b');
    await createBackup({ dbFile, dataDir, outDir: from });
    const server = openWal(dbFile);
    server.prepare('select count(*) from pairs').get();
    try {
      await expect(restoreBackup({ from, dbFile, dataDir, force: true })).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('in use') as string,
      });
    } finally {
      server.close();
    }
    expect(await readdir(dataDir)).not.toContainEqual(expect.stringContaining('before-restore'));
  });

  it('refuses a backup whose files do not match their hashes', async () => {
    const from = join(backupRoot, 'b');
    await createBackup({ dbFile, dataDir, outDir: from });
    await writeFile(join(from, 'secret.key'), Buffer.alloc(32, 1));
    await expect(restoreBackup({ from, dbFile, dataDir, force: true })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('secret.key does not match') as string,
    });
  });

  it('refuses a backup from a newer schema', async () => {
    const db = openWal(dbFile);
    db.prepare("insert into kysely_migration (name, timestamp) values ('999_future', 'x')").run();
    db.close();
    const from = join(backupRoot, 'b');
    await createBackup({ dbFile, dataDir, outDir: from });
    await expect(restoreBackup({ from, dbFile, dataDir, force: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('999_future') as string,
    });
  });
});

describe('migrations on upgrade', () => {
  it('backs up an existing database before applying pending migrations', async () => {
    await mkdir(dataDir, { recursive: true });
    const previous = MIGRATIONS[MIGRATIONS.length - 2]?.[0] ?? '';
    const db = new Kysely({ dialect: new SqliteDialect({ database: openWal(dbFile) }) });
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(Object.fromEntries(MIGRATIONS)) },
    });
    expect((await migrator.migrateTo(previous)).error).toBeUndefined();
    await db.destroy();

    const store = await openStore(STORE, dataDir, silentLogger());
    await store.close();
    const backups = await readdir(join(dataDir, 'backups'));
    const n = MIGRATIONS.length;
    expect(backups).toEqual([
      expect.stringMatching(
        new RegExp(`^pre-migrate-${String(n - 1)}-to-${String(n)}-\\d{8}T\\d{6}Z$`),
      ),
    ]);
    const dir = join(dataDir, 'backups', backups[0] ?? '');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      migrations: string[];
    };
    expect(manifest.migrations).toHaveLength(n - 1);
    expect(
      count(join(dir, 'command-center.db'), 'select count(*) as n from kysely_migration'),
    ).toBe(n - 1);
  });

  it('writes no backup for a new database', async () => {
    const store = await openStore(STORE, dataDir, silentLogger());
    await store.close();
    const again = await openStore(STORE, dataDir, silentLogger());
    await again.close();
    await expect(stat(join(dataDir, 'backups'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
