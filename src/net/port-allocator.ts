// Gives each service the first free port of its range (DESIGN §2): ranges may overlap, but one port
// is never given to two services; chosen ports persist in the data directory and are reused on
// restart while they are still free, because clients remember them.
//
// A probe cannot reserve a port: another process may bind it between the probe and the service's
// own listen. Services that own a net.Server use listenOnRange (listen-on-range.ts), which binds
// for real and moves on over EADDRINUSE; others re-run allocatePorts for that service and retry.

import { createServer } from 'node:net';
import type { PortRange } from '../config/index.js';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { findPortHolder } from './port-holder.js';
import { readPortsState, writePortsState } from './ports-state.js';

export interface AllocateOptions<S extends string> {
  /** Every service's range, in priority order: earlier services get first pick where ranges overlap. */
  ranges: Record<S, PortRange>;
  host: string;
  /** JSON file keeping the chosen ports, e.g. <dataDir>/ports.json. */
  stateFile: string;
  /** Services to allocate now (default all); the others' remembered ports are left to them. */
  services?: S[];
  logger?: Logger;
  /** Ports that must not be given out (e.g. held by this process for another purpose). */
  exclude?: number[];
}

export interface Allocation<S extends string> {
  ports: Record<S, number>;
  /** Services whose remembered port was taken and that moved to another one. */
  moved: Array<{ service: S; from: number; to: number }>;
  /** Everything now in the ports file: this allocation plus other services' remembered ports. */
  reservations: Record<string, number>;
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

function inRange(port: number, range: PortRange): boolean {
  return port >= range.from && port <= range.to;
}

export async function allocatePorts<S extends string>(
  options: AllocateOptions<S>,
): Promise<Allocation<S>> {
  const state = await readPortsState(options.stateFile, options.logger);
  const services = options.services ?? (Object.keys(options.ranges) as S[]);
  const taken = new Set<number>(options.exclude ?? []);
  // Ports remembered by services not allocated now are tried last, so they stay theirs if possible.
  const reservedForOthers = new Set<number>();
  for (const [service, port] of state) {
    if (!services.includes(service as S)) reservedForOthers.add(port);
  }
  const ports: Partial<Record<S, number>> = {};
  const moved: Allocation<S>['moved'] = [];

  // First keep every remembered port that is still valid and free, so that a service's remembered
  // port is not handed to another service whose range overlaps.
  for (const service of services) {
    const previous = state.get(service);
    if (
      previous !== undefined &&
      inRange(previous, options.ranges[service]) &&
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
    const candidates: number[] = [];
    for (let port = range.from; port <= range.to; port++) {
      if (!taken.has(port) && !reservedForOthers.has(port)) candidates.push(port);
    }
    for (const port of reservedForOthers) if (inRange(port, range)) candidates.push(port);
    let chosen: number | undefined;
    for (const port of candidates) {
      if (!taken.has(port) && (await isPortFree(port, options.host))) {
        chosen = port;
        break;
      }
    }
    if (chosen === undefined) throw await rangeExhausted(service, range, options.host, taken);
    ports[service] = chosen;
    taken.add(chosen);
    const previous = state.get(service);
    if (previous !== undefined && previous !== chosen) {
      moved.push({ service, from: previous, to: chosen });
      options.logger?.warn(
        { service, from: previous, to: chosen },
        'remembered port is taken; moved to another port of the range',
      );
    }
  }
  for (const service of services) state.set(service, ports[service] as number);
  await writePortsState(options.stateFile, state);
  return {
    ports: ports as Record<S, number>,
    moved,
    reservations: Object.fromEntries(state),
  };
}

/** PORT_RANGE_EXHAUSTED naming the range and, where /proc tells, the process holding each port. */
export async function rangeExhausted(
  service: string,
  range: PortRange,
  host: string,
  ownPorts: ReadonlySet<number> = new Set(),
): Promise<CcError> {
  const holders: string[] = [];
  for (let port = range.from; port <= range.to; port++) {
    if (ownPorts.has(port)) {
      holders.push(`${port}: given to another Command Center service`);
      continue;
    }
    const holder = await findPortHolder(port);
    holders.push(
      holder
        ? `${port}: held by pid ${holder.pid} ${holder.name} (${holder.command})`
        : `${port}: in use`,
    );
  }
  return new CcError(
    'PORT_RANGE_EXHAUSTED',
    `no free port for ${service} in range ${range.from}-${range.to} on ${host}:\n  ${holders.join('\n  ')}\n` +
      `Stop the processes holding these ports or set ports.${service} to another range.`,
    { service, range: `${range.from}-${range.to}`, host },
  );
}
