import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  forwardProxySkipReason,
  freePort,
  startForwardProxy,
  type ForwardProxy,
} from '../../../test/fixtures/forward-proxy.js';
import { postJson, SendError, type SendPolicy } from './index.js';
import {
  createTestPki,
  startTestServer,
  type TestPki,
  type TestServer,
} from './sender-test-harness.js';

const skipReason = forwardProxySkipReason();
const PASSWORD = 'Pr0xy-Pass_word';

let pki: TestPki;
let target: TestServer;
let refusedPort: number;
const proxies: ForwardProxy[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  target = await startTestServer(pki.localhost);
  refusedPort = await freePort();
});

afterAll(async () => {
  await target.close();
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

async function proxy(options: { auth?: boolean } = {}): Promise<ForwardProxy> {
  const p = await startForwardProxy({
    connectPorts: [target.port],
    ...(options.auth === true ? { basicAuth: { user: 'uplink', password: PASSWORD } } : {}),
  });
  proxies.push(p);
  return p;
}

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.href;
}

function policy(proxyChoice: SendPolicy['proxy'], extra: Partial<SendPolicy> = {}): SendPolicy {
  return {
    allow: [`localhost:${target.port}`, `localhost:${refusedPort}`],
    ca: pki.ca.cert,
    proxy: proxyChoice,
    timeoutMs: 5_000,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<SendError> {
  const err = await promise.then(
    () => new Error('expected the send to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof SendError)) throw err;
  return err;
}

function everythingSaidAbout(err: SendError): string {
  const cause: unknown = err.cause;
  return [
    err.message,
    err.stack ?? '',
    JSON.stringify(err),
    err.proxy ?? '',
    cause instanceof Error ? `${cause.message}\n${cause.stack ?? ''}` : String(cause),
  ].join('\n');
}

describe.skipIf(skipReason !== null)(
  `postJson through a real forward proxy (tinyproxy)${skipReason === null ? '' : ` — ${skipReason}`}`,
  () => {
    it('tunnels with CONNECT and TLS end to end to the target host', async () => {
      const p = await proxy();
      const before = target.connections.length;
      const result = await postJson(
        target.url(),
        { seq: 1 },
        policy({ kind: 'environment', env: { HTTPS_PROXY: p.url } }),
      );
      expect(result).toMatchObject({ status: 200, via: 'proxy', proxy: p.url });
      expect(await p.log()).toContain(`CONNECT localhost:${target.port}`);
      const connection = target.connections[before];
      expect(target.connections).toHaveLength(before + 1);
      expect(connection?.servername).toBe('localhost');
      expect(connection?.requests).toBe(1);
    });

    it('opens a new tunnel for every payload', async () => {
      const p = await proxy();
      const choice = { kind: 'explicit', url: p.url } as const;
      const before = target.connections.length;
      await postJson(target.url(), { seq: 1 }, policy(choice));
      await postJson(target.url(), { seq: 2 }, policy(choice));
      const log = await p.log();
      expect(log.split(`CONNECT localhost:${target.port}`)).toHaveLength(3);
      expect(target.connections.slice(before).map((c) => c.requests)).toEqual([1, 1]);
    });

    it('authenticates to the proxy with the percent-decoded user info', async () => {
      const p = await proxy({ auth: true });
      // `%2D` is `-`: the header must carry the decoded password.
      const url = withCredentials(p.url, 'uplink', PASSWORD.replace('-', '%2D'));
      const result = await postJson(target.url(), {}, policy({ kind: 'explicit', url }));
      expect(result).toMatchObject({ status: 200, via: 'proxy' });
      expect(result.proxy).toBe(`http://uplink:***@127.0.0.1:${p.port}`);
    });

    it('reports rejected proxy credentials without ever showing the password', async () => {
      const p = await proxy({ auth: true });
      const wrong = 'Wrong-Secret_42';
      const url = withCredentials(p.url, 'uplink', wrong);
      const err = await failure(postJson(target.url(), {}, policy({ kind: 'explicit', url })));
      expect(err.kind).toBe('proxy-auth');
      expect(err.message).toMatch(/proxy authentication failed/);
      expect(err.message).toContain("user 'uplink'");
      const said = everythingSaidAbout(err);
      expect(said).not.toContain(wrong);
      expect(said).not.toContain(Buffer.from(`uplink:${wrong}`).toString('base64'));
    });

    it('says that the proxy requires authentication when no credentials were given', async () => {
      const p = await proxy({ auth: true });
      const err = await failure(
        postJson(target.url(), {}, policy({ kind: 'explicit', url: p.url })),
      );
      expect(err.kind).toBe('proxy-auth');
      expect(err.status).toBe(407);
      expect(err.message).toMatch(/proxy authentication required/);
    });

    it('carries the status when the proxy refuses the tunnel', async () => {
      const p = await proxy();
      const err = await failure(
        postJson(
          `https://localhost:${refusedPort}/v1`,
          {},
          policy({ kind: 'explicit', url: p.url }),
        ),
      );
      expect(err.kind).toBe('proxy');
      expect(err.status).toBe(403);
      expect(err.message).toContain(`CONNECT localhost:${refusedPort}`);
    });

    it('still verifies the target certificate and pins through the tunnel', async () => {
      const p = await proxy();
      const err = await failure(
        postJson(
          target.url(),
          {},
          policy({ kind: 'explicit', url: p.url }, { pins: { localhost: ['AAAA'] } }),
        ),
      );
      expect(err.kind).toBe('pin-mismatch');
    });
  },
);

describe('postJson with a proxy that is not there', () => {
  it('fails fast with a proxy error naming the proxy, not its password', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await failure(
      postJson(
        target.url(),
        {},
        policy({
          kind: 'environment',
          env: { https_proxy: `http://uplink:${PASSWORD}@127.0.0.1:${port}` },
        }),
      ),
    );
    expect(err.kind).toBe('proxy');
    expect(err.message).toContain(`http://uplink:***@127.0.0.1:${port}`);
    expect(err.message).toMatch(/cannot reach the proxy .*ECONNREFUSED/);
    expect(everythingSaidAbout(err)).not.toContain(PASSWORD);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('goes direct for a target in NO_PROXY', async () => {
    const port = await freePort();
    const before = target.connections.length;
    const result = await postJson(
      target.url(),
      {},
      policy({
        kind: 'environment',
        env: { HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: 'example.com, localhost' },
      }),
    );
    expect(result).toMatchObject({ status: 200, via: 'direct' });
    expect(target.connections).toHaveLength(before + 1);
  });

  it('refuses an https:// proxy with a clear message', async () => {
    const err = await failure(
      postJson(target.url(), {}, policy({ kind: 'explicit', url: 'https://127.0.0.1:3129' })),
    );
    expect(err.kind).toBe('proxy');
    expect(err.message).toMatch(/only http:\/\/ proxies are supported/);
  });
});
