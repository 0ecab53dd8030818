import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postJson, SendError, type SendPolicy } from './index.js';
import {
  createTestPki,
  startSilentServer,
  startTestServer,
  type TestPki,
  type TestServer,
} from './sender-test-harness.js';

let pki: TestPki;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  pki = await createTestPki();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function server(handler?: Parameters<typeof startTestServer>[1]): Promise<TestServer> {
  const s = await startTestServer(pki.localhost, handler);
  open.push(s);
  return s;
}

function policy(allow: string[], extra: Partial<SendPolicy> = {}): SendPolicy {
  return { allow, ca: pki.ca.cert, proxy: { kind: 'none' }, timeoutMs: 5_000, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<SendError> {
  const err = await promise.then(
    () => new Error('expected the send to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof SendError)) throw err;
  return err;
}

/** A TCP listener that counts connections, standing in for a proxy that must never be used. */
async function countingListener(): Promise<{ port: number; accepted: () => number } & Server> {
  let accepted = 0;
  const listener = createServer((socket) => {
    accepted += 1;
    socket.destroy();
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  open.push({
    close: async () => {
      listener.close();
      await once(listener, 'close');
    },
  });
  return Object.assign(listener, {
    port: (listener.address() as AddressInfo).port,
    accepted: () => accepted,
  });
}

function answerJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('postJson, direct', () => {
  it('POSTs the JSON body and returns the parsed answer', async () => {
    const s = await server();
    const result = await postJson(s.url(), { seq: 42, ct: 'abc' }, policy([`localhost:${s.port}`]));
    expect(result).toMatchObject({ status: 200, body: { accepted: true }, via: 'direct' });
    expect(result.remoteAddress).toMatch(/^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/);
    expect(s.requests).toHaveLength(1);
    const [req] = s.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/reports');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.host).toBe(`localhost:${s.port}`);
    expect(JSON.parse(req?.body ?? '')).toEqual({ seq: 42, ct: 'abc' });
  });

  it('opens one connection per payload, sends SNI and closes it after the answer', async () => {
    const s = await server();
    const p = policy([`localhost:${s.port}`]);
    await postJson(s.url(), { n: 1 }, p);
    await postJson(s.url(), { n: 2 }, p);
    await postJson(s.url(), { n: 3 }, p);
    expect(s.connections).toHaveLength(3);
    for (const connection of s.connections) {
      expect(connection.requests).toBe(1);
      expect(connection.servername).toBe('localhost');
    }
    expect(s.requests.every((r) => r.headers.connection === 'close')).toBe(true);
    await expect.poll(() => s.connections.every((c) => c.closed)).toBe(true);
  });

  it('reaches an IP literal without SNI, verifying the address against the certificate', async () => {
    const s = await server();
    const result = await postJson(
      `https://127.0.0.1:${s.port}/v1/reports`,
      {},
      policy([`127.0.0.1:${s.port}`]),
    );
    expect(result.status).toBe(200);
    expect(s.connections[0]?.servername).toBe(false);
  });

  it('returns non-2xx answers as results, with their JSON body', async () => {
    const s = await server((_req, res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'SEQ_REPLAYED' } }));
    });
    const result = await postJson(s.url(), {}, policy([`localhost:${s.port}`]));
    expect(result).toMatchObject({ status: 409, body: { error: { code: 'SEQ_REPLAYED' } } });
  });

  it('gives a null body for an empty answer or a non-JSON error page', async () => {
    const s = await server((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>Bad gateway</h1>');
      }
    });
    const p = policy([`localhost:${s.port}`]);
    expect(await postJson(s.url('/empty'), {}, p)).toMatchObject({ status: 204, body: null });
    expect(await postJson(s.url('/page'), {}, p)).toMatchObject({ status: 502, body: null });
  });

  it('refuses a 2xx answer that is not JSON', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const err = await failure(postJson(s.url(), {}, policy([`localhost:${s.port}`])));
    expect(err.kind).toBe('bad-response');
  });
});

describe('postJson, what it refuses before connecting', () => {
  it('refuses a target off the allow-list without any connection, even through a proxy', async () => {
    const s = await server();
    const proxy = await countingListener();
    const err = await failure(
      postJson(
        s.url(),
        {},
        policy(['cloud.example.com', `localhost:${s.port + 1}`], {
          proxy: { kind: 'explicit', url: `http://127.0.0.1:${proxy.port}` },
        }),
      ),
    );
    expect(err.kind).toBe('not-allowed');
    expect(err.message).toContain(`localhost:${s.port}`);
    expect(s.connections).toHaveLength(0);
    expect(proxy.accepted()).toBe(0);
  });

  it('refuses an unresolvable host off the allow-list without looking it up', async () => {
    const started = Date.now();
    const err = await failure(
      postJson('https://cloud.invalid/v1', {}, policy(['cloud.example.com'])),
    );
    expect(err.kind).toBe('not-allowed');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it.each([
    ['http://localhost/v1', /only https:\/\/ targets/],
    ['ftp://localhost/v1', /only https:\/\/ targets/],
    ['https://user:secret@localhost/v1', /credentials/],
    ['not a url', /not a valid URL/],
  ])('refuses %s as insecure', async (url, message) => {
    const err = await failure(postJson(url, {}, policy(['localhost', 'localhost:80'])));
    expect(err.kind).toBe('insecure-url');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secret');
  });
});

describe('postJson, redirects', () => {
  it('follows a 307 within the allow-list, keeping the method and body', async () => {
    const target = await server();
    const first = await server((_req, res) => {
      res.writeHead(307, { location: target.url('/v1/moved') });
      res.end();
    });
    const result = await postJson(
      first.url(),
      { seq: 7 },
      policy([`localhost:${first.port}`, `localhost:${target.port}`]),
    );
    expect(result).toMatchObject({ status: 200, url: target.url('/v1/moved') });
    expect(target.requests[0]).toMatchObject({ method: 'POST', body: '{"seq":7}' });
    expect(first.connections).toHaveLength(1);
    expect(target.connections).toHaveLength(1);
  });

  it('follows a relative 308 on the same endpoint', async () => {
    const s = await server((req, res) => {
      if (req.url === '/old') {
        res.writeHead(308, { location: '/new' });
        res.end();
      } else answerJson(res, { at: req.url });
    });
    const result = await postJson(s.url('/old'), {}, policy([`localhost:${s.port}`]));
    expect(result.body).toEqual({ at: '/new' });
    expect(s.connections).toHaveLength(2);
  });

  it('refuses a 307 to a host or port off the allow-list, naming it, without connecting', async () => {
    const elsewhere = await server();
    const first = await server((_req, res) => {
      res.writeHead(307, { location: elsewhere.url() });
      res.end();
    });
    const err = await failure(postJson(first.url(), {}, policy([`localhost:${first.port}`])));
    expect(err.kind).toBe('redirect-refused');
    expect(err.message).toContain(`localhost:${elsewhere.port}`);
    expect(err.message).toMatch(/not on the uplink allow-list/);
    expect(elsewhere.connections).toHaveLength(0);
  });

  it('refuses a redirect to http://', async () => {
    const s = await server((_req, res) => {
      res.writeHead(308, { location: 'http://localhost/v1/reports' });
      res.end();
    });
    const err = await failure(
      postJson(s.url(), {}, policy([`localhost:${s.port}`, 'localhost', 'localhost:80'])),
    );
    expect(err.kind).toBe('redirect-refused');
    expect(err.message).toMatch(/only https:\/\/ targets/);
  });

  it.each([301, 302, 303])('treats a %i as an error instead of resending as GET', async (code) => {
    const s = await server((_req, res) => {
      res.writeHead(code, { location: '/elsewhere' });
      res.end();
    });
    const err = await failure(postJson(s.url(), {}, policy([`localhost:${s.port}`])));
    expect(err.kind).toBe('redirect-refused');
    expect(err.status).toBe(code);
    expect(s.requests).toHaveLength(1);
  });

  it('stops after the configured number of redirects', async () => {
    const s = await server((req, res) => {
      res.writeHead(307, { location: `/hop${req.url}` });
      res.end();
    });
    const err = await failure(
      postJson(s.url('/'), {}, policy([`localhost:${s.port}`], { maxRedirects: 3 })),
    );
    expect(err.kind).toBe('redirect-refused');
    expect(err.message).toMatch(/at most 3/);
    expect(s.requests).toHaveLength(4);
  });
});

describe('postJson, limits and deadlines', () => {
  it('refuses an answer that declares more than the limit', async () => {
    const s = await server((_req, res) => answerJson(res, { pad: 'x'.repeat(2_000) }));
    const err = await failure(
      postJson(s.url(), {}, policy([`localhost:${s.port}`], { maxResponseBytes: 1_024 })),
    );
    expect(err.kind).toBe('response-too-large');
  });

  it('stops reading a chunked answer once it passes the limit', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // No Content-Length: the size is only known while reading, and the server would go on.
      const chunk = 'x'.repeat(16 * 1024);
      const push = (): void => {
        if (!res.destroyed && res.write(chunk)) setImmediate(push);
        else if (!res.destroyed) res.once('drain', push);
      };
      push();
    });
    const err = await failure(postJson(s.url(), {}, policy([`localhost:${s.port}`])));
    expect(err.kind).toBe('response-too-large');
    expect(err.message).toContain(String(64 * 1024));
  });

  it('times out on a server that accepts and never speaks', async () => {
    const silent = await startSilentServer();
    open.push(silent);
    const started = Date.now();
    const err = await failure(
      postJson(
        `https://localhost:${silent.port}/v1`,
        {},
        policy([`localhost:${silent.port}`], { timeoutMs: 300 }),
      ),
    );
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/300 ms.*TLS handshake/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(silent.accepted).toBe(1);
  });

  it('times out on a server that completes TLS but never answers', async () => {
    const s = await server(() => undefined);
    const started = Date.now();
    const err = await failure(
      postJson(s.url(), {}, policy([`localhost:${s.port}`], { timeoutMs: 300 })),
    );
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/answer from localhost/);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => s.connections.every((c) => c.closed)).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const s = await server(() => undefined);
    const controller = new AbortController();
    const sending = postJson(s.url(), {}, policy([`localhost:${s.port}`]), controller.signal);
    await expect.poll(() => s.requests.length).toBe(1);
    controller.abort();
    const err = await failure(sending);
    expect(err.kind).toBe('aborted');
  });

  it('reports a refused connection as a network error', async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.close();
    const err = await failure(
      postJson(`https://127.0.0.1:${port}/v1`, {}, policy([`127.0.0.1:${port}`])),
    );
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
