// `command-center backup` and `restore` as an operator runs them: a backup taken while another
// connection holds the database open, then restored over later changes.

import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observability/index.js';
import { openStore } from '../src/store/index.js';
import { execCli } from './fixtures/server-process.js';
import { makeTempDir, type TestDataDir } from './fixtures/test-config.js';

describe('backup and restore commands', () => {
  let data: TestDataDir | undefined;

  afterEach(async () => {
    await data?.cleanup();
  });

  it('backs up a database in use and restores it into the data directory', async () => {
    data = await makeTempDir('cc-cli-backup-');
    const dataDir = join(data.dir, 'data');
    const store = await openStore(
      { driver: 'sqlite', sqliteFile: 'command-center.db', postgresUrl: null },
      dataDir,
      silentLogger(),
    );
    await store.close();
    await writeFile(join(dataDir, 'secret.key'), Buffer.alloc(32, 3), { mode: 0o600 });
    const dbFile = join(dataDir, 'command-center.db');
    const live = new BetterSqlite3(dbFile);
    live.pragma('journal_mode = WAL');
    live.exec("create table notes (text text); insert into notes values ('kept')");
    const out = join(data.dir, 'nightly');

    // The connection stays open during the backup, as a running server's would.
    const backup = await execCli(['backup', '-d', dataDir, '--out', out], {});
    live.exec("insert into notes values ('after the backup')");
    live.close();
    expect(backup.stderr).toContain('backed up');
    expect(backup.code).toBe(0);
    expect(backup.stdout.trim()).toBe(out);
    expect((await readdir(out)).sort()).toEqual([
      'command-center.db',
      'manifest.json',
      'secret.key',
    ]);

    const restore = await execCli(['restore', '--from', out, '-d', dataDir, '--force'], {});
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/previous file kept as .*command-center\.db\.before-restore-/);
    const db = new BetterSqlite3(dbFile, { readonly: true });
    try {
      expect(db.prepare('select text from notes').pluck().all()).toEqual(['kept']);
    } finally {
      db.close();
    }
    expect(await readFile(join(dataDir, 'secret.key'))).toEqual(Buffer.alloc(32, 3));
  }, 60_000);
});
