// Runs the doctor: for each endpoint, its checks in order (a failed check skips the rest of that
// path), directly and through the proxy when one applies; endpoints in parallel, a few at a time,
// the whole run bounded by a deadline.

import type { Socket } from 'node:net';
import { resolveProxy, type ProxyChoice } from '../uplink/sender/index.js';
import {
  checkDns,
  checkFtpBanner,
  checkHttps,
  checkProxyConnect,
  checkTcp,
  checkTls,
} from './checks.js';
import type { Verdict } from './explain.js';
import {
  endpointLabel,
  type CheckName,
  type CheckPath,
  type CheckResult,
  type DoctorReport,
  type Endpoint,
} from './types.js';

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
}

export type ProgressListener = (check: CheckResult) => void;

interface PathRun {
  record(name: CheckName, run: () => Promise<Verdict>): Promise<boolean>;
  skip(name: CheckName, why: string): void;
}

export async function runDoctor(
  options: DoctorOptions,
  onProgress: ProgressListener = () => undefined,
): Promise<DoctorReport> {
  const deadline = Date.now() + options.totalDeadlineMs;
  const checks: CheckResult[] = [];
  const open = new Set<Socket>();

  function pathRun(endpoint: string, path: CheckPath): PathRun {
    let blocked: string | null = null;
    const push = (result: CheckResult): void => {
      checks.push(result);
      onProgress(result);
    };
    const skip = (name: CheckName, why: string): void => {
      push({ endpoint, name, path, status: 'skipped', detail: why, ms: 0 });
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
        push({ endpoint, name, path, ...verdict, ms: Date.now() - started });
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
    await run.record('https', () => checkHttps(connection, endpoint.host, budget()));
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
    const scheme = endpoint.kind === 'ftp' ? 'ftp' : 'https';
    const target = new URL(`${scheme}://${endpointLabel({ ...endpoint, kind: 'https' })}/`);
    let proxy: URL | null = null;
    let proxyError: string | null = null;
    try {
      proxy = resolveProxy(target, options.proxy);
    } catch (err) {
      proxyError = err instanceof Error ? err.message : String(err);
    }
    await checkDirect(endpoint);
    if (proxyError !== null) {
      const result: CheckResult = {
        endpoint: endpointLabel(endpoint),
        name: 'tcp',
        path: 'proxy',
        status: 'fail',
        detail: proxyError,
        cause: 'the proxy setting is invalid',
        fix: 'correct HTTPS_PROXY / --proxy (an http:// URL with host and port)',
        ms: 0,
      };
      checks.push(result);
      onProgress(result);
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
  return summarize(options.endpoints, checks);
}

function summarize(endpoints: readonly Endpoint[], checks: CheckResult[]): DoctorReport {
  const count = (status: CheckResult['status']): number =>
    checks.filter((c) => c.status === status).length;
  const workingPaths: Record<string, CheckPath[]> = {};
  let exitCode: 0 | 1 | 2 = 0;
  for (const endpoint of endpoints) {
    const label = endpointLabel(endpoint);
    const mine = checks.filter((c) => c.endpoint === label);
    const paths = [...new Set(mine.map((c) => c.path))];
    const working = paths.filter((p) =>
      mine.filter((c) => c.path === p).every((c) => c.status === 'ok' || c.status === 'warn'),
    );
    workingPaths[label] = working;
    if (working.length === 0) exitCode = 2;
    else if (exitCode === 0 && mine.some((c) => c.status !== 'ok')) exitCode = 1;
  }
  // Endpoints run in parallel; the report lists them in the order given, each path's checks in order.
  const order = endpoints.map(endpointLabel);
  const sorted = [...checks].sort(
    (a, b) =>
      order.indexOf(a.endpoint) - order.indexOf(b.endpoint) ||
      (a.path === b.path ? 0 : a.path === 'direct' ? -1 : 1),
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
