import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forwardProxySkipReason,
  freePort,
  startForwardProxy,
  type ForwardProxy,
} from '../../test/fixtures/forward-proxy.js';
import { runDoctor, type CheckResult, type Endpoint } from './index.js';

const DAY_MS = 86_400_000;
const servers: Server[] = [];
const sockets = new Set<Socket>();

/** Each stand-in gets its own subject, so the trusted bundle maps every issuer to one certificate. */
async function certificate(
  name: string,
  from: number,
  to: number,
  unit: string,
): Promise<{ cert: string; key: string }> {
  const subject = [
    { name: 'commonName', value: name },
    { name: 'organizationName', value: unit },
  ];
  const pems = await generate(subject, {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(from),
    notAfterDate: new Date(to),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function httpsStandIn(material: { cert: string; key: string }): Promise<number> {
  const server = createTlsServer(material, (socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    socket.on('error', () => undefined);
  });
  return listen(server);
}

let ca = '';
let goodPort = 0;
let expiredPort = 0;
let wrongHostPort = 0;
let soonPort = 0;
let silentPort = 0;
let ftpPort = 0;
let closedPort = 0;
let oldTlsPort = 0;
let plainHttpPort = 0;

beforeAll(async () => {
  const now = Date.now();
  const good = await certificate('localhost', now - DAY_MS, now + 365 * DAY_MS, 'good');
  const expired = await certificate('localhost', now - 30 * DAY_MS, now - DAY_MS, 'expired');
  const wrongHost = await certificate(
    'elsewhere.example',
    now - DAY_MS,
    now + 365 * DAY_MS,
    'wrong-host',
  );
  const soon = await certificate('localhost', now - DAY_MS, now + 5 * DAY_MS, 'soon');
  ca = [good, expired, wrongHost, soon].map((m) => m.cert).join('\n');
  goodPort = await httpsStandIn(good);
  expiredPort = await httpsStandIn(expired);
  wrongHostPort = await httpsStandIn(wrongHost);
  soonPort = await httpsStandIn(soon);
  silentPort = await listen(createServer(() => undefined));
  ftpPort = await listen(
    createServer((socket) => socket.write('220 Stand-in FTP server ready\r\n')),
  );
  closedPort = await freePort();
  // A server that offers only TLS 1.0 and 1.1 (allowed here by lowering OpenSSL's security level).
  oldTlsPort = await listen(
    createTlsServer(
      { ...good, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
      (socket) => {
        socket.on('error', () => undefined);
        socket.end('HTTP/1.1 204 No Content\r\n\r\n');
      },
    ).on('tlsClientError', () => undefined),
  );
  plainHttpPort = await listen(
    createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'),
      );
    }),
  );
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

function only(checks: CheckResult[], name: string, path = 'direct'): CheckResult {
  const found = checks.filter((c) => c.name === name && c.path === path);
  expect(found).toHaveLength(1);
  return found[0] as CheckResult;
}

async function doctor(endpoint: Endpoint, proxyUrl?: string) {
  return runDoctor({
    endpoints: [endpoint],
    proxy: proxyUrl === undefined ? { kind: 'none' } : { kind: 'explicit', url: proxyUrl },
    timeoutMs: 500,
    totalDeadlineMs: 10_000,
    ca,
  });
}

describe('runDoctor against local stand-ins', () => {
  it('passes every check of a healthy HTTPS endpoint and exits 0', async () => {
    const progress: CheckResult[] = [];
    const report = await runDoctor(
      {
        endpoints: [{ host: 'localhost', port: goodPort, kind: 'https' }],
        proxy: { kind: 'none' },
        timeoutMs: 500,
        totalDeadlineMs: 10_000,
        ca,
      },
      (c) => progress.push(c),
    );
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['dns', 'ok'],
      ['tcp', 'ok'],
      ['tls', 'ok'],
      ['https', 'ok'],
    ]);
    expect(only(report.checks, 'https').detail).toBe('HTTP 204');
    expect(only(report.checks, 'tls').detail).toMatch(/^TLSv1\.[23], certificate valid/);
    expect(progress).toHaveLength(4);
    expect(report.exitCode).toBe(0);
  });

  it('reports an expired certificate with the clock as cause and exits 2', async () => {
    const report = await doctor({ host: 'localhost', port: expiredPort, kind: 'https' });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('CERT_HAS_EXPIRED');
    expect(tls.cause).toContain('past its expiry date');
    expect(tls.fix).toContain('system clock');
    expect(only(report.checks, 'https').status).toBe('skipped');
    expect(report.exitCode).toBe(2);
  });

  it('reports a certificate for another host name', async () => {
    const report = await doctor({ host: 'localhost', port: wrongHostPort, kind: 'https' });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(tls.cause).toContain('wrong host name');
    expect(tls.fix).toContain('TLS interception');
  });

  it('reports an untrusted chain when the CA is not given', async () => {
    const report = await runDoctor({
      endpoints: [{ host: 'localhost', port: goodPort, kind: 'https' }],
      proxy: { kind: 'none' },
      timeoutMs: 500,
      totalDeadlineMs: 10_000,
    });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(tls.cause).toContain('untrusted chain');
    expect(tls.fix).toContain('--ca');
  });

  it('warns about a certificate expiring within 14 days and exits 1', async () => {
    const report = await doctor({ host: 'localhost', port: soonPort, kind: 'https' });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('warn');
    expect(tls.cause).toContain('expires in less than 14 days');
    expect(tls.fix).toContain('renew');
    expect(only(report.checks, 'https').status).toBe('ok');
    expect(report.exitCode).toBe(1);
  });

  it('reports a closed port as refused', async () => {
    const report = await doctor({ host: '127.0.0.1', port: closedPort, kind: 'https' });
    const tcp = only(report.checks, 'tcp');
    expect(tcp.status).toBe('fail');
    expect(tcp.detail).toContain('ECONNREFUSED');
    expect(tcp.cause).toContain('nothing listens');
    expect(tcp.fix).toContain('allow outgoing TCP');
    expect(only(report.checks, 'tls').status).toBe('skipped');
    expect(report.exitCode).toBe(2);
  });

  it('times out the TLS handshake on a port that accepts and never answers', async () => {
    const started = Date.now();
    const report = await doctor({ host: '127.0.0.1', port: silentPort, kind: 'https' });
    expect(only(report.checks, 'tcp').status).toBe('ok');
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('timed out after 500 ms');
    expect(tls.cause).toContain('never answers the TLS handshake');
    expect(tls.fix).toContain('firewall');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('names an outdated TLS protocol as the cause when the server offers only TLS 1.1', async () => {
    const report = await doctor({ host: 'localhost', port: oldTlsPort, kind: 'https' });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('no common protocol version');
    expect(tls.cause).toContain('outdated protocol');
    expect(tls.fix).toContain('TLS 1.2 or later');
    expect(report.exitCode).toBe(2);
  });

  it('says when the port answers in clear text instead of TLS', async () => {
    const report = await doctor({ host: 'localhost', port: plainHttpPort, kind: 'https' });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.detail).toContain('not TLS');
    expect(tls.cause).toContain('another protocol');
  });

  it('reads the FTP banner', async () => {
    const report = await doctor({ host: '127.0.0.1', port: ftpPort, kind: 'ftp' });
    const banner = only(report.checks, 'ftp-banner');
    expect(banner.status).toBe('ok');
    expect(banner.detail).toBe('220 Stand-in FTP server ready');
    expect(report.exitCode).toBe(0);
  });

  it('times out an FTP port that sends no banner', async () => {
    const report = await doctor({ host: '127.0.0.1', port: silentPort, kind: 'ftp' });
    const banner = only(report.checks, 'ftp-banner');
    expect(banner.status).toBe('fail');
    expect(banner.cause).toContain('sends no FTP greeting');
    expect(banner.fix).toContain('allow FTP');
  });

  it('reports an unresolvable name with a DNS cause and fix', async () => {
    const report = await doctor({ host: 'no-such-host.invalid', port: 443, kind: 'https' });
    const dns = only(report.checks, 'dns');
    expect(dns.status).toBe('fail');
    expect(dns.detail).toContain('DNS lookup failed');
    expect(dns.cause).toContain('DNS server is unreachable');
    expect(dns.fix).toContain('allow no-such-host.invalid');
    expect(only(report.checks, 'tcp').status).toBe('skipped');
    expect(report.exitCode).toBe(2);
  });

  it('reports a proxy that is not running, while the direct path works (exit 1)', async () => {
    const report = await doctor(
      { host: 'localhost', port: goodPort, kind: 'https' },
      `http://127.0.0.1:${String(closedPort)}`,
    );
    const viaProxy = only(report.checks, 'tcp', 'proxy');
    expect(viaProxy.status).toBe('fail');
    expect(viaProxy.detail).toContain('unreachable');
    expect(viaProxy.cause).toContain('proxy is not running');
    expect(viaProxy.fix).toContain('HTTPS_PROXY');
    expect(report.summary.workingPaths[`localhost:${String(goodPort)}`]).toEqual(['direct']);
    expect(report.exitCode).toBe(1);
  });

  it('stops at the run deadline with the remaining checks skipped', async () => {
    const report = await runDoctor({
      endpoints: [{ host: '127.0.0.1', port: silentPort, kind: 'https' }],
      proxy: { kind: 'none' },
      timeoutMs: 5_000,
      totalDeadlineMs: 300,
    });
    const tls = only(report.checks, 'tls');
    expect(tls.status).toBe('fail');
    expect(tls.ms).toBeLessThan(1_000);
    expect(only(report.checks, 'https').status).toBe('skipped');
  });
});

const skipProxy = forwardProxySkipReason();

describe.skipIf(skipProxy !== null)('runDoctor through a real forward proxy', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy({ connectPorts: [goodPort, expiredPort] });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it('checks TLS and HTTPS through CONNECT', async () => {
    const report = await doctor({ host: 'localhost', port: goodPort, kind: 'https' }, proxy.url);
    expect(report.checks.filter((c) => c.path === 'proxy').map((c) => [c.name, c.status])).toEqual([
      ['tcp', 'ok'],
      ['tls', 'ok'],
      ['https', 'ok'],
    ]);
    expect(report.summary.workingPaths[`localhost:${String(goodPort)}`]).toEqual([
      'direct',
      'proxy',
    ]);
    expect(report.exitCode).toBe(0);
  });

  it('reports a CONNECT the proxy refuses', async () => {
    const report = await doctor({ host: 'localhost', port: soonPort, kind: 'https' }, proxy.url);
    const viaProxy = only(report.checks, 'tcp', 'proxy');
    expect(viaProxy.status).toBe('fail');
    expect(viaProxy.detail).toContain('refused CONNECT');
    expect(viaProxy.cause).toContain('does not allow tunnels');
    expect(viaProxy.fix).toContain('allow CONNECT');
  });
});

describe.skipIf(skipProxy !== null)('runDoctor through a proxy that requires credentials', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy({
      connectPorts: [goodPort],
      basicAuth: { user: 'site', password: 'proxy-secret-1' },
    });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  it('reports 407 without credentials, with the fix, while the direct path works', async () => {
    const report = await doctor({ host: 'localhost', port: goodPort, kind: 'https' }, proxy.url);
    const viaProxy = only(report.checks, 'tcp', 'proxy');
    expect(viaProxy.status).toBe('fail');
    expect(viaProxy.detail).toContain('requires authentication (407)');
    expect(viaProxy.fix).toContain('http://user:password@proxy:port');
    expect(report.summary.workingPaths[`localhost:${String(goodPort)}`]).toEqual(['direct']);
    expect(report.exitCode).toBe(1);
  });

  it('tunnels with the credentials in the proxy URL', async () => {
    const withAuth = new URL(proxy.url);
    withAuth.username = 'site';
    withAuth.password = 'proxy-secret-1';
    const report = await doctor(
      { host: 'localhost', port: goodPort, kind: 'https' },
      withAuth.href,
    );
    expect(report.checks.filter((c) => c.path === 'proxy').map((c) => c.status)).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    // The password is not echoed in any detail.
    expect(JSON.stringify(report)).not.toContain('proxy-secret-1');
  });
});
