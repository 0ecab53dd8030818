import { describe, expect, it } from 'vitest';
import { proxyAuthorization, resolveProxy, type ProxyChoice } from './proxy-choice.js';
import { SendError, redactProxyUrl } from './send-error.js';

const target = new URL('https://cloud.example.com/v1/reports');

function proxyFor(choice: ProxyChoice, url: URL = target): string | null {
  return resolveProxy(url, choice)?.href ?? null;
}

describe('resolveProxy', () => {
  it('uses HTTPS_PROXY, falling back to HTTP_PROXY', () => {
    expect(proxyFor({ kind: 'environment', env: { HTTPS_PROXY: 'http://p1:3128' } })).toBe(
      'http://p1:3128/',
    );
    expect(proxyFor({ kind: 'environment', env: { HTTP_PROXY: 'http://p2:3128' } })).toBe(
      'http://p2:3128/',
    );
    expect(
      proxyFor({
        kind: 'environment',
        env: { HTTP_PROXY: 'http://p2:3128', HTTPS_PROXY: 'http://p1:3128' },
      }),
    ).toBe('http://p1:3128/');
    expect(proxyFor({ kind: 'environment', env: {} })).toBeNull();
  });

  it('prefers the lower-case variables when both spellings are set, as curl does', () => {
    const env = {
      HTTPS_PROXY: 'http://upper:3128',
      https_proxy: 'http://lower:3128',
      NO_PROXY: 'cloud.example.com',
      no_proxy: 'other.example.com',
    };
    expect(proxyFor({ kind: 'environment', env })).toBe('http://lower:3128/');
  });

  it('treats an empty variable as unset', () => {
    const env = { https_proxy: '', HTTPS_PROXY: 'http://upper:3128' };
    expect(proxyFor({ kind: 'environment', env })).toBe('http://upper:3128/');
  });

  it('reads a proxy without a scheme as http://', () => {
    expect(proxyFor({ kind: 'environment', env: { HTTPS_PROXY: 'proxy.corp:8080' } })).toBe(
      'http://proxy.corp:8080/',
    );
  });

  it('goes direct for hosts in NO_PROXY', () => {
    const env = { HTTPS_PROXY: 'http://p1:3128', NO_PROXY: '.example.com' };
    expect(proxyFor({ kind: 'environment', env })).toBeNull();
    expect(proxyFor({ kind: 'environment', env }, new URL('https://cloud.other.net/'))).toBe(
      'http://p1:3128/',
    );
  });

  it('lets an explicit proxy override the environment, with its own exceptions', () => {
    const choice: ProxyChoice = {
      kind: 'explicit',
      url: 'http://configured:3128',
      noProxy: 'internal.example',
    };
    expect(proxyFor(choice)).toBe('http://configured:3128/');
    expect(proxyFor(choice, new URL('https://api.internal.example/'))).toBeNull();
  });

  it('never uses a proxy when told so, whatever the environment says', () => {
    expect(proxyFor({ kind: 'none' })).toBeNull();
  });

  it('refuses https:// and SOCKS proxies with a message that says what to use instead', () => {
    const https = (): unknown =>
      resolveProxy(target, { kind: 'explicit', url: 'https://u:topsecret@p:3129' });
    expect(https).toThrow(SendError);
    expect(https).toThrow(/only http:\/\/ proxies are supported/);
    expect(https).not.toThrow(/topsecret/);
    expect(() =>
      resolveProxy(target, { kind: 'environment', env: { HTTPS_PROXY: 'socks5://p:1080' } }),
    ).toThrow(/HTTPS_PROXY environment variable uses the unsupported proxy scheme socks5/);
  });

  it('reports an unparsable proxy setting without repeating it', () => {
    try {
      resolveProxy(target, { kind: 'explicit', url: 'http://user:pa ss@[bad' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SendError);
      expect((err as SendError).kind).toBe('proxy');
      expect((err as SendError).message).not.toContain('pa ss');
    }
  });
});

describe('proxy credentials', () => {
  it('sends percent-decoded user info as Basic credentials', () => {
    const proxy = new URL('http://us%40er:p%3Ass%20w@proxy:3128');
    expect(proxyAuthorization(proxy)).toBe(
      `Basic ${Buffer.from('us@er:p:ss w').toString('base64')}`,
    );
    expect(proxyAuthorization(new URL('http://proxy:3128'))).toBeUndefined();
  });

  it('never shows the password when naming the proxy', () => {
    expect(redactProxyUrl(new URL('http://alice:hunter2@proxy:3128'))).toBe(
      'http://alice:***@proxy:3128',
    );
    expect(redactProxyUrl(new URL('http://proxy:3128'))).toBe('http://proxy:3128');
  });
});
