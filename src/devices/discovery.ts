// Device discovery: probes `GET /ws/v1/identity` on every address of a CIDR block or host list,
// with bounded concurrency, a timeout per probe and a deadline for the whole run. Probes are
// anonymous and never send a credential; what answers like a device is listed for an admin to add.

import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { CcError, isCcError } from '../domain/index.js';
import type { ProbeResult } from './ws-client.js';

export interface DiscoveryTarget {
  host: string;
  port: number;
}

export interface DiscoveredDevice extends ProbeResult {
  baseUrl: string;
}

export interface DiscoveryOptions {
  probe: (
    baseUrl: string,
    options: { signal: AbortSignal; timeoutMs: number },
  ) => Promise<ProbeResult>;
  concurrency: number;
  /** Per probe. */
  timeoutMs: number;
  /** The whole run: addresses not probed by then are skipped. */
  deadlineMs: number;
  onProgress?: (progress: { done: number; total: number; found: number }) => void;
  signal?: AbortSignal;
}

export interface DiscoveryResult {
  found: DiscoveredDevice[];
  probed: number;
  total: number;
  /** Probes that failed, by error code (DEVICE_UNREACHABLE, DEVICE_TIMEOUT, …). */
  failures: Record<string, number>;
  /** True when the deadline cut the run short. */
  truncated: boolean;
  durationMs: number;
}

/** Most addresses one discovery may probe (a /20 at one port). */
export const MAX_DISCOVERY_TARGETS = 4096;

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function checkPort(port: number, spec: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new CcError('VALIDATION_FAILED', `bad port in "${spec}": ports are 1–65535`);
  }
  return port;
}

/** Splits `host:port`, `[v6]:port`, or a bare host/address (no port). */
function splitHostPort(spec: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(spec);
  if (bracketed) {
    return {
      host: bracketed[1] ?? '',
      port: bracketed[2] === undefined ? null : checkPort(Number(bracketed[2]), spec),
    };
  }
  if (isIP(spec) === 6) return { host: spec, port: null };
  const m = /^([^:]+):(\d{1,5})$/.exec(spec);
  if (m) return { host: m[1] ?? '', port: checkPort(Number(m[2]), spec) };
  return { host: spec, port: null };
}

function expandCidr(spec: string): string[] {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(spec);
  if (!m || isIP(m[1] ?? '') !== 4) {
    throw new CcError('VALIDATION_FAILED', `"${spec}" is not an IPv4 CIDR block like 10.0.0.0/24`);
  }
  const prefix = Number(m[2]);
  if (prefix < 16 || prefix > 32) {
    throw new CcError('VALIDATION_FAILED', `"${spec}": discovery takes blocks from /16 to /32`);
  }
  const size = 2 ** (32 - prefix);
  const base = ipv4ToInt(m[1] ?? '') - (ipv4ToInt(m[1] ?? '') % size);
  // Leave out the network and broadcast addresses of blocks that have them.
  const first = size > 2 ? base + 1 : base;
  const last = size > 2 ? base + size - 2 : base + size - 1;
  const out: string[] = [];
  for (let n = first; n <= last; n += 1) out.push(intToIpv4(n));
  return out;
}

/**
 * Expands `10.0.0.0/24`, `10.0.0.5`, `printer-7.local`, `10.0.0.5:8443`, `[fd00::5]:443` into
 * targets; entries without a port get each of `ports`. Duplicates are dropped.
 */
export function expandTargets(
  specs: readonly string[],
  ports: readonly number[],
): DiscoveryTarget[] {
  if (specs.length === 0)
    throw new CcError('VALIDATION_FAILED', 'give at least one address or block');
  if (ports.length === 0) throw new CcError('VALIDATION_FAILED', 'give at least one port');
  for (const p of ports) checkPort(p, String(p));
  const seen = new Set<string>();
  const out: DiscoveryTarget[] = [];
  const add = (host: string, port: number): void => {
    const key = `${host}|${port}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ host, port });
    if (out.length > MAX_DISCOVERY_TARGETS) {
      throw new CcError(
        'VALIDATION_FAILED',
        `discovery is limited to ${MAX_DISCOVERY_TARGETS} addresses × ports at a time; narrow the range`,
      );
    }
  };
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec.includes('/')) {
      for (const host of expandCidr(spec)) for (const p of ports) add(host, p);
      continue;
    }
    const { host, port } = splitHostPort(spec);
    if (isIP(host) === 0 && (!HOST_NAME.test(host) || /^[0-9.]+$/.test(host))) {
      throw new CcError(
        'VALIDATION_FAILED',
        `"${spec}" is not an address, host name or CIDR block`,
      );
    }
    for (const p of port === null ? ports : [port]) add(host, p);
  }
  return out;
}

export function targetUrl(t: DiscoveryTarget): string {
  const host = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
  return `https://${host}:${t.port}`;
}

export async function discover(
  targets: readonly DiscoveryTarget[],
  options: DiscoveryOptions,
): Promise<DiscoveryResult> {
  const started = Date.now();
  const deadline = AbortSignal.timeout(options.deadlineMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  // Every probe in flight listens on this one signal: that many listeners is expected, not a leak.
  setMaxListeners(Math.max(10, options.concurrency + 2), signal);
  const found: DiscoveredDevice[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  let done = 0;

  async function worker(): Promise<void> {
    while (!signal.aborted) {
      const target = targets[next];
      next += 1;
      if (target === undefined) return;
      const baseUrl = targetUrl(target);
      try {
        const result = await options.probe(baseUrl, { signal, timeoutMs: options.timeoutMs });
        found.push({ ...result, baseUrl });
      } catch (err) {
        const code = isCcError(err) ? err.code : 'ERROR';
        failures[code] = (failures[code] ?? 0) + 1;
      }
      done += 1;
      options.onProgress?.({ done, total: targets.length, found: found.length });
    }
  }

  const workers = Math.max(1, Math.min(options.concurrency, targets.length));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  found.sort((a, b) => a.baseUrl.localeCompare(b.baseUrl, 'en', { numeric: true }));
  return {
    found,
    probed: done,
    total: targets.length,
    failures,
    truncated: done < targets.length,
    durationMs: Date.now() - started,
  };
}
