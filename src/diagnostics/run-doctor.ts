// Runs the doctor: for each endpoint, its checks in order (a failed check skips the rest of that
// path), directly and through the proxy when one applies; endpoints in parallel, a few at a time;
// then the checks of this machine (ports, disk, broker, database, clock, bandwidth). The whole run
// is bounded by a deadline and can be aborted.

import type { Socket } from 'node:net';
import { resolveProxy, type ProxyChoice } from '../uplink/sender/index.js';
import { checkBandwidth } from './bandwidth.js';
import {
  checkDns,
  checkFtpBanner,
  checkHttps,
  checkProxyConnect,
  checkTcp,
  checkTls,
  type ClockSample,
} from './checks.js';
import type { Verdict } from './explain.js';
import {
  checkBroker,
  checkClock,
  checkDatabase,
  checkDiskSpace,
  checkPortRange,
  portRangeLabel,
  type PortRangeToCheck,
  type Reading,
} from './local-checks.js';
import {
  endpointLabel,
  type CheckPath,
  type CheckResult,
  type DoctorReport,
  type Endpoint,
  type EndpointCheckName,
  type EndpointPath,
  type LocalCheckName,
} from './types.js';

/** What the doctor checks on this machine; each part is optional. */
export interface LocalCheckOptions {
  /** Port ranges: is each port free, ours, or taken? */
  ports?: {
    host: string;
    ranges: readonly PortRangeToCheck[];
    /** Ports held by the running server. */
    ours: ReadonlySet<number>;
  };
  /** Directories whose file system must keep free space (data directory, outbox). */
  disks?: { subject: string; dir: string }[];
  minFreeBytes?: number;
  /** The broker to handshake with; null when the server is not running. */
  broker?: { host: string; port: number } | null;
  /** A query against the database; resolves with a detail, rejects when unhealthy. */
  database?: () => Promise<string>;
  /** Compare this machine's clock with the first HTTPS endpoint's Date header. */
  clock?: boolean;
  /** Download from this URL to estimate bandwidth. */
  bandwidth?: { url: URL; minKbps: number; maxBytes: number };
}

export interface DoctorOptions {
  endpoints: readonly Endpoint[];
  proxy: ProxyChoice;
  /** Each check's timeout. */
  timeoutMs: number;
  /** The whole run's bound; checks not started by then are skipped. */
  totalDeadlineMs: number;
  /** Extra trusted CA certificates (PEM), e.g. a TLS-inspecting proxy's. */
  ca?: string;
  /** Endpoints checked at the same time. */
  concurrency?: number;
  local?: LocalCheckOptions;
  /** Aborting ends the run at once: open connections are closed, the rest is skipped. */
  signal?: AbortSignal;
}

export type ProgressListener = (check: CheckResult) => void;

interface PathRun {
  record(name: EndpointCheckName, run: () => Promise<Verdict>): Promise<boolean>;
  skip(name: EndpointCheckName, why: string): void;
}

export const DEFAULT_MIN_FREE_BYTES = 100 * 1024 * 1024;

/** The proxy an endpoint's traffic would take, null for none; throws on an invalid setting. */
function proxyFor(endpoint: Endpoint, choice: ProxyChoice): URL | null {
  const scheme = endpoint.kind === 'ftp' ? 'ftp' : 'https';
  return resolveProxy(
    new URL(`${scheme}://${endpointLabel({ ...endpoint, kind: 'https' })}/`),
    choice,
  );
}

/** How many checks a run will report (for progress bars). */
export function plannedChecks(options: DoctorOptions): number {
  let total = 0;
  for (const endpoint of options.endpoints) {
    const perPath = endpoint.kind === 'ftp' ? 2 : 3;
    total += 1 + perPath;
    let proxied = false;
    try {
      proxied = proxyFor(endpoint, options.proxy) !== null;
    } catch {
      total += 1;
    }
    if (proxied) total += perPath;
  }
  const local = options.local;
  if (local !== undefined) {
    total += local.ports?.ranges.length ?? 0;
    total += local.disks?.length ?? 0;
    if (local.broker !== undefined) total += 1;
    if (local.database !== undefined) total += 1;
    if (local.clock === true) total += 1;
    if (local.bandwidth !== undefined) total += 1;
  }
  return total;
}

export async function runDoctor(
  options: DoctorOptions,
  onProgress: ProgressListener = () => undefined,
): Promise<DoctorReport> {
  let deadline = Date.now() + options.totalDeadlineMs;
  const checks: CheckResult[] = [];
  const open = new Set<Socket>();
  const clockSamples = new Map<string, ClockSample>();
  const onAbort = (): void => {
    deadline = Date.now();
    for (const socket of open) socket.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort();

  const push = (result: CheckResult): void => {
    checks.push(result);
    onProgress(result);
  };

  function pathRun(subject: string, path: EndpointPath): PathRun {
    let blocked: string | null = null;
    const skip = (name: EndpointCheckName, why: string): void => {
      push({ subject, name, path, status: 'skipped', detail: why, ms: 0 });
    };
    return {
      skip,
      async record(name, run) {
        if (blocked !== null) {
          skip(name, blocked);
          return false;
        }
        if (Date.now() >= deadline) {
          blocked = 'the run deadline was reached';
          skip(name, blocked);
          return false;
        }
        const started = Date.now();
        const verdict = await run();
        push({ subject, name, path, ...verdict, ms: Date.now() - started });
        if (verdict.status === 'fail') blocked = `skipped after the ${name} check failed`;
        return verdict.status !== 'fail';
      },
    };
  }

  /** A check's timeout, never past the run's deadline. */
  const budget = (): number => Math.max(1, Math.min(options.timeoutMs, deadline - Date.now()));

  async function tlsAndRequest(run: PathRun, endpoint: Endpoint, socket: Socket): Promise<void> {
    if (endpoint.kind === 'ftp') {
      await run.record('ftp-banner', () => checkFtpBanner(socket, endpoint.host, budget()));
      socket.destroy();
      return;
    }
    let tls: Awaited<ReturnType<typeof checkTls>>['tls'];
    const ok = await run.record('tls', async () => {
      const result = await checkTls(socket, endpoint.host, budget(), options.ca);
      tls = result.tls;
      return result.verdict;
    });
    if (!ok || tls === undefined) {
      tls?.destroy();
      socket.destroy();
      run.skip('https', 'skipped after the tls check failed');
      return;
    }
    const connection = tls;
    await run.record('https', async () => {
      const result = await checkHttps(connection, endpoint.host, budget());
      if (result.date !== undefined && !clockSamples.has(endpointLabel(endpoint)))
        clockSamples.set(endpointLabel(endpoint), {
          subject: endpointLabel(endpoint),
          serverDate: result.date,
          sentAt: result.sentAt,
          receivedAt: result.receivedAt,
        });
      return result.verdict;
    });
  }

  async function checkDirect(endpoint: Endpoint): Promise<void> {
    const run = pathRun(endpointLabel(endpoint), 'direct');
    await run.record('dns', () => checkDns(endpoint.host, budget()));
    let socket: Socket | undefined;
    const ok = await run.record('tcp', async () => {
      const result = await checkTcp(endpoint.host, endpoint.port, budget());
      socket = result.socket;
      return result.verdict;
    });
    if (!ok || socket === undefined) {
      for (const name of endpoint.kind === 'ftp'
        ? (['ftp-banner'] as const)
        : (['tls', 'https'] as const))
        run.skip(name, 'skipped after an earlier check failed');
      return;
    }
    open.add(socket);
    try {
      await tlsAndRequest(run, endpoint, socket);
    } finally {
      socket.destroy();
      open.delete(socket);
    }
  }

  async function checkProxied(endpoint: Endpoint, proxy: URL): Promise<void> {
    const run = pathRun(endpointLabel(endpoint), 'proxy');
    let socket: Socket | undefined;
    const ok = await run.record('tcp', async () => {
      const result = await checkProxyConnect(proxy, endpoint.host, endpoint.port, budget());
      socket = result.socket;
      return result.verdict;
    });
    if (!ok || socket === undefined) {
      for (const name of endpoint.kind === 'ftp'
        ? (['ftp-banner'] as const)
        : (['tls', 'https'] as const))
        run.skip(name, 'skipped after the proxy CONNECT failed');
      return;
    }
    open.add(socket);
    try {
      await tlsAndRequest(run, endpoint, socket);
    } finally {
      socket.destroy();
      open.delete(socket);
    }
  }

  async function checkEndpoint(endpoint: Endpoint): Promise<void> {
    let proxy: URL | null = null;
    let proxyError: string | null = null;
    try {
      proxy = proxyFor(endpoint, options.proxy);
    } catch (err) {
      proxyError = err instanceof Error ? err.message : String(err);
    }
    await checkDirect(endpoint);
    if (proxyError !== null) {
      push({
        subject: endpointLabel(endpoint),
        name: 'tcp',
        path: 'proxy',
        status: 'fail',
        detail: proxyError,
        cause: 'the proxy setting is invalid',
        fix: 'correct HTTPS_PROXY / --proxy (an http:// URL with host and port)',
        ms: 0,
      });
    } else if (proxy !== null) {
      await checkProxied(endpoint, proxy);
    }
  }

  const queue = [...options.endpoints];
  const workers = Array.from(
    { length: Math.min(options.concurrency ?? 4, queue.length) },
    async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift())
        await checkEndpoint(next);
    },
  );
  await Promise.all(workers);
  for (const socket of open) socket.destroy();
  if (options.local !== undefined) await runLocal(options.local);
  options.signal?.removeEventListener('abort', onAbort);
  return summarize(options.endpoints, checks);

  async function local(
    subject: string,
    name: LocalCheckName,
    run: () => Promise<Reading>,
  ): Promise<void> {
    if (Date.now() >= deadline) {
      push({
        subject,
        name,
        path: 'local',
        status: 'skipped',
        detail: 'the run deadline was reached',
        ms: 0,
      });
      return;
    }
    const started = Date.now();
    const reading = await run();
    push({ subject, name, path: 'local', ...reading, ms: Date.now() - started });
  }

  async function runLocal(checksOf: LocalCheckOptions): Promise<void> {
    const { ports, disks, broker, database, bandwidth } = checksOf;
    for (const range of ports?.ranges ?? [])
      await local(portRangeLabel(range), 'ports', () =>
        checkPortRange(range, ports?.host ?? '0.0.0.0', ports?.ours ?? new Set()),
      );
    for (const disk of disks ?? [])
      await local(disk.subject, 'disk', () =>
        checkDiskSpace(disk.dir, checksOf.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES),
      );
    if (broker !== undefined) await local('broker', 'broker', () => checkBroker(broker, budget()));
    if (database !== undefined)
      await local('database', 'database', () => checkDatabase(database, budget()));
    if (checksOf.clock === true) {
      // Against the first endpoint (in the order given) whose HTTPS request returned a Date.
      const sample = options.endpoints
        .map((e) => clockSamples.get(endpointLabel(e)))
        .find((s) => s !== undefined);
      await local('clock', 'clock', () => Promise.resolve(checkClock(sample)));
    }
    if (bandwidth !== undefined) {
      let proxy: URL | null = null;
      try {
        proxy = resolveProxy(bandwidth.url, options.proxy);
      } catch {
        proxy = null;
      }
      await local('bandwidth', 'bandwidth', () =>
        checkBandwidth({
          ...bandwidth,
          proxy,
          ms: budget(),
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
        }),
      );
    }
  }
}

function summarize(endpoints: readonly Endpoint[], checks: CheckResult[]): DoctorReport {
  const count = (status: CheckResult['status']): number =>
    checks.filter((c) => c.status === status).length;
  const workingPaths: Record<string, EndpointPath[]> = {};
  let exitCode: 0 | 1 | 2 = 0;
  for (const endpoint of endpoints) {
    const label = endpointLabel(endpoint);
    const mine = checks.filter((c) => c.subject === label);
    const paths = [...new Set(mine.map((c) => c.path))].filter(
      (p): p is EndpointPath => p !== 'local',
    );
    const working = paths.filter((p) =>
      mine.filter((c) => c.path === p).every((c) => c.status === 'ok' || c.status === 'warn'),
    );
    workingPaths[label] = working;
    if (working.length === 0) exitCode = 2;
    else if (exitCode === 0 && mine.some((c) => c.status !== 'ok')) exitCode = 1;
  }
  const localChecks = checks.filter((c) => c.path === 'local');
  if (localChecks.some((c) => c.status === 'fail')) exitCode = 2;
  else if (exitCode === 0 && localChecks.some((c) => c.status === 'warn')) exitCode = 1;
  // Endpoints run in parallel; the report lists them in the order given, each path's checks in
  // order, then the local checks in the order they ran.
  const order = endpoints.map(endpointLabel);
  const rank = (c: CheckResult): number =>
    c.path === 'local' ? order.length : order.indexOf(c.subject);
  const PATH_ORDER: Record<CheckPath, number> = { direct: 0, proxy: 1, local: 2 };
  const sorted = [...checks].sort(
    (a, b) => rank(a) - rank(b) || PATH_ORDER[a.path] - PATH_ORDER[b.path],
  );
  return {
    checks: sorted,
    summary: {
      ok: count('ok'),
      warn: count('warn'),
      fail: count('fail'),
      skipped: count('skipped'),
      workingPaths,
    },
    exitCode,
  };
}
