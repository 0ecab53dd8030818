// Gives each service the first free port of its range (DESIGN §2): ranges may overlap, but one port
// is never given to two services; chosen ports persist in the data directory and are reused on
// restart while they are still free, because clients remember them.

import { createServer } from 'node:net';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { PortRange } from '../config/index.js';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { findPortHolder } from './port-holder.js';

export interface AllocateOptions<S extends string> {
  /** Services in priority order: earlier services get first pick where ranges overlap. */
  ranges: Record<S, PortRange>;
  host: string;
  /** JSON file keeping the chosen ports, e.g. <dataDir>/ports.json. */
  stateFile: string;
  logger?: Logger;
  /** Ports that must not be given out (e.g. held by this process for another purpose). */
  exclude?: number[];
}

export interface Allocation<S extends string> {
  ports: Record<S, number>;
  /** Services whose remembered port was taken and that moved to another one. */
  moved: Array<{ service: S; from: number; to: number }>;
}

/** True when a TCP listener can bind `port` on `host` right now. */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

async function readState(
  stateFile: string,
  logger: Logger | undefined,
): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536) out[k] = v;
    }
    return out;
  } catch {
    logger?.warn({ stateFile }, 'ignoring unreadable ports file; ports will be chosen afresh');
    return {};
  }
}

async function writeState(stateFile: string, ports: Record<string, number>): Promise<void> {
  const tmp = `${stateFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(ports, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, stateFile);
}

function inRange(port: number, range: PortRange): boolean {
  return port >= range.from && port <= range.to;
}

export async function allocatePorts<S extends string>(
  options: AllocateOptions<S>,
): Promise<Allocation<S>> {
  const remembered = await readState(options.stateFile, options.logger);
  const taken = new Set<number>(options.exclude ?? []);
  const services = Object.keys(options.ranges) as S[];
  const ports: Partial<Record<S, number>> = {};
  const moved: Allocation<S>['moved'] = [];

  // First keep every remembered port that is still valid and free, so that a service's remembered
  // port is not handed to another service whose range overlaps.
  for (const service of services) {
    const range = options.ranges[service];
    const previous = remembered[service];
    if (
      previous !== undefined &&
      inRange(previous, range) &&
      !taken.has(previous) &&
      (await isPortFree(previous, options.host))
    ) {
      ports[service] = previous;
      taken.add(previous);
    }
  }
  for (const service of services) {
    if (ports[service] !== undefined) continue;
    const range = options.ranges[service];
    let chosen: number | undefined;
    for (let port = range.from; port <= range.to; port++) {
      if (taken.has(port)) continue;
      if (await isPortFree(port, options.host)) {
        chosen = port;
        break;
      }
    }
    if (chosen === undefined) throw await exhausted(service, range, options.host, taken);
    ports[service] = chosen;
    taken.add(chosen);
    const previous = remembered[service];
    if (previous !== undefined && previous !== chosen) {
      moved.push({ service, from: previous, to: chosen });
      options.logger?.warn(
        { service, from: previous, to: chosen },
        'remembered port is taken; moved to another port of the range',
      );
    }
  }
  await writeState(options.stateFile, { ...remembered, ...ports });
  return { ports: ports as Record<S, number>, moved };
}

async function exhausted(
  service: string,
  range: PortRange,
  host: string,
  taken: Set<number>,
): Promise<CcError> {
  const holders: string[] = [];
  for (let port = range.from; port <= range.to; port++) {
    if (taken.has(port)) {
      holders.push(`${port}: given to another Command Center service`);
      continue;
    }
    const holder = await findPortHolder(port);
    holders.push(
      holder ? `${port}: held by pid ${holder.pid} (${holder.command})` : `${port}: in use`,
    );
  }
  return new CcError(
    'PORT_RANGE_EXHAUSTED',
    `no free port for ${service} in range ${range.from}-${range.to} on ${host}:\n  ${holders.join('\n  ')}\n` +
      `Stop the processes holding these ports or set ports.${service} to another range.`,
    { service, range },
  );
}
