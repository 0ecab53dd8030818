import { createPublicKey, createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postJson, SendError, spkiPin, type SendPolicy } from './index.js';
import {
  createTestPki,
  startTestServer,
  type KeyPair,
  type TestPki,
  type TestServer,
} from './sender-test-harness.js';

let pki: TestPki;
const open: TestServer[] = [];

beforeAll(async () => {
  pki = await createTestPki();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function server(material: KeyPair): Promise<TestServer> {
  const s = await startTestServer(material);
  open.push(s);
  return s;
}

function policy(s: TestServer, extra: Partial<SendPolicy> = {}): SendPolicy {
  return {
    allow: [`localhost:${s.port}`],
    ca: pki.ca.cert,
    proxy: { kind: 'none' },
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

/** The pin computed from the private key, independently of the certificate parsing under test. */
function pinOfKey(keyPem: string): string {
  const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

describe('postJson, certificate verification', () => {
  it('refuses a server whose certificate is not trusted', async () => {
    const s = await server(pki.localhost);
    const { ca: _ca, ...withoutCa } = policy(s);
    const err = await failure(postJson(s.url(), {}, withoutCa));
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/localhost:\d+.*does not lead to a trusted CA/);
    expect(s.requests).toHaveLength(0);
  });

  it('refuses a certificate issued for another host name', async () => {
    const s = await server(pki.otherHost);
    const err = await failure(postJson(s.url(), {}, policy(s)));
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/altnames/);
    expect(s.requests).toHaveLength(0);
  });

  it('refuses an expired certificate', async () => {
    const s = await server(pki.expired);
    const err = await failure(postJson(s.url(), {}, policy(s)));
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/expired/);
    expect(s.requests).toHaveLength(0);
  });
});

describe('postJson, SPKI pins', () => {
  it('computes the same pin as the public key gives', () => {
    expect(spkiPin(pki.localhost.cert)).toBe(pinOfKey(pki.localhost.key));
  });

  it('accepts a server whose key is pinned, in either notation', async () => {
    const s = await server(pki.localhost);
    const pin = pinOfKey(pki.localhost.key);
    for (const pins of [[pin], [`sha256/${pin}`], ['AAAA', pin]]) {
      const result = await postJson(s.url(), {}, policy(s, { pins: { LOCALHOST: pins } }));
      expect(result.status).toBe(200);
    }
  });

  it('accepts a pin on the issuing CA, so a site may pin its CA rather than every server', async () => {
    const s = await server(pki.localhost);
    const result = await postJson(
      s.url(),
      {},
      policy(s, { pins: { localhost: [pinOfKey(pki.ca.key)] } }),
    );
    expect(result.status).toBe(200);
  });

  it('refuses a valid certificate whose key matches no pin, before sending the payload', async () => {
    const s = await server(pki.localhost);
    const other = pinOfKey(pki.otherHost.key);
    const err = await failure(postJson(s.url(), {}, policy(s, { pins: { localhost: [other] } })));
    expect(err.kind).toBe('pin-mismatch');
    expect(err.message).toContain(pinOfKey(pki.localhost.key));
    expect(s.requests).toHaveLength(0);
  });

  it('leaves hosts without pins to the ordinary verification', async () => {
    const s = await server(pki.localhost);
    const result = await postJson(
      s.url(),
      {},
      policy(s, { pins: { 'cloud.example.com': ['AAAA'] } }),
    );
    expect(result.status).toBe(200);
  });
});
