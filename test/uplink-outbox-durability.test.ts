// Every sealed uplink report the outbox acknowledged survives a kill -9 of the process writing it,
// and the seq counter on disk never lets a seq be handed out twice (DESIGN §4.4, §5).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observability/index.js';
import { createSqliteStore, type Store } from '../src/store/index.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const moduleUrl = (path: string): string =>
  JSON.stringify(pathToFileURL(join(REPO_ROOT, path)).href);

/** Appends reports through the outbox service until killed, printing each seq once it is durable. */
const WRITER = `import { createSqliteStore } from ${moduleUrl('src/store/index.ts')};
import { silentLogger } from ${moduleUrl('src/observability/index.ts')};
import { createOutbox } from ${moduleUrl('src/uplink/outbox.ts')};
const store = await createSqliteStore({ file: process.argv[2], logger: silentLogger() });
await store.migrate();
const outbox = createOutbox({ store, logger: silentLogger() }, { maxBytes: 1e9, maxItems: 1e6 });
for (let i = 0; ; i++) {
  const kind = i % 10 === 0 ? 'critical' : 'periodic';
  const { seq } = await outbox.enqueue(kind, (s) => JSON.stringify({ v: 1, seq: s, ct: 'x'.repeat(64 + (i % 200)) }));
  process.stdout.write('appended ' + seq + '\\n');
}
`;

describe('uplink outbox on disk', () => {
  let dir: string;
  const open: Store[] = [];

  const openStore = async (file: string): Promise<Store> => {
    const store = await createSqliteStore({ file, logger: silentLogger() });
    await store.migrate();
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-outbox-k9-'));
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every report acknowledged before a kill -9, in order, without gaps', async () => {
    const file = join(dir, 'cc.db');
    const script = join(dir, 'writer.mts');
    await writeFile(script, WRITER);
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.on('exit', (_code, signal) => resolve(signal));
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const acknowledged: number[] = [];
    const killAfter = 300;
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const match = /^appended (\d+)$/.exec(line);
          if (match?.[1] !== undefined) acknowledged.push(Number(match[1]));
        }
        if (acknowledged.length >= killAfter) resolve();
      });
      void exited.then(() => reject(new Error(`the writer exited on its own: ${stderr}`)));
    });
    // Killed while it keeps appending: the last append may be half-way through its transaction.
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const store = await openStore(file);
    const items = await store.outbox.peek(1_000_000);
    const seqs = items.map((i) => i.seq);
    const present = new Set(seqs);
    expect(acknowledged.filter((seq) => !present.has(seq))).toEqual([]);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const item of items) {
      expect((JSON.parse(item.body) as { seq: number }).seq).toBe(item.seq);
    }
    const last = Math.max(...seqs);
    expect(await store.outbox.lastSeq()).toBe(last);
    const next = await store.outbox.append(
      (seq) => ({ kind: 'periodic', body: JSON.stringify({ seq }) }),
      new Date(),
    );
    expect(next.seq).toBe(last + 1);
  }, 60_000);

  it('gives two connections appending to one file distinct consecutive seqs', async () => {
    const file = join(dir, 'cc.db');
    const a = await openStore(file);
    const b = await openStore(file);
    const appends = Array.from({ length: 60 }, (_, i) =>
      (i % 2 === 0 ? a : b).outbox.append(
        (seq) => ({ kind: 'periodic', body: JSON.stringify({ seq, by: i % 2 }) }),
        new Date(),
      ),
    );
    const seqs = (await Promise.all(appends)).map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const items = await a.outbox.peek(100);
    expect(items.map((i) => (JSON.parse(i.body) as { seq: number }).seq)).toEqual(seqs);
  });

  it('refuses, in the database itself, to move the seq counter back or consent history', async () => {
    const file = join(dir, 'cc.db');
    const store = await openStore(file);
    await store.outbox.append(() => ({ kind: 'periodic', body: 'b' }), new Date());
    await store.uplink.appendConsent({
      id: 'c1',
      category: 'fleet-health',
      granted: true,
      at: new Date().toISOString(),
      by: 'alice',
      source: null,
    });
    const raw = new BetterSqlite3(file);
    try {
      expect(() => raw.prepare('update outbox_sequence set last_seq = 0').run()).toThrow(
        /only moves forward/,
      );
      expect(() => raw.prepare('update outbox_sequence set last_seq = 5').run()).toThrow(
        /only moves forward/,
      );
      expect(() => raw.prepare('delete from outbox_sequence').run()).toThrow(/only moves forward/);
      expect(() => raw.prepare('update consent_history set granted = 0').run()).toThrow(
        /append-only/,
      );
      expect(() => raw.prepare('delete from consent_history').run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
    expect(await store.outbox.lastSeq()).toBe(1);
    expect(await store.uplink.currentConsent()).toMatchObject({
      'fleet-health': { granted: true },
    });
  });
});
