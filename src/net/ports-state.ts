// The remembered ports file (<dataDir>/ports.json): read leniently, written atomically.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../observability/index.js';

/** A ports file is a handful of entries; anything bigger is not ours. */
const MAX_STATE_BYTES = 64 * 1024;

export type PortsState = Map<string, number>;

/** Remembered ports by service; a missing, corrupt or hostile file gives an empty state. */
export async function readPortsState(stateFile: string, logger?: Logger): Promise<PortsState> {
  const state: PortsState = new Map();
  let text: string;
  try {
    if ((await stat(stateFile)).size > MAX_STATE_BYTES) throw new Error('too large');
    text = await readFile(stateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger?.warn({ stateFile }, 'ignoring unreadable ports file; ports will be chosen afresh');
    }
    return state;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not an object');
    }
    for (const [service, port] of Object.entries(parsed)) {
      if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) {
        state.set(service, port);
      }
    }
  } catch {
    logger?.warn({ stateFile }, 'ignoring corrupt ports file; ports will be chosen afresh');
  }
  return state;
}

/** Writes to a temporary file and renames it, so a crash never leaves half a file. */
export async function writePortsState(stateFile: string, state: PortsState): Promise<void> {
  await mkdir(dirname(stateFile), { recursive: true });
  const tmp = `${stateFile}.${process.pid}.tmp`;
  const sorted = Object.fromEntries([...state].sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(tmp, `${JSON.stringify(sorted, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, stateFile);
}

/** Records ports bound after allocation (see listenOnRange), keeping the others. */
export async function rememberPorts(
  stateFile: string,
  ports: Record<string, number>,
  logger?: Logger,
): Promise<void> {
  const state = await readPortsState(stateFile, logger);
  for (const [service, port] of Object.entries(ports)) state.set(service, port);
  await writePortsState(stateFile, state);
}
