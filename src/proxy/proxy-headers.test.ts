import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, deviceRequestHeaders } from './proxy-headers.js';

describe('proxy headers', () => {
  it('sends a device only allowed headers, its own credential and Via/X-Request-Id', () => {
    const out = deviceRequestHeaders(
      {
        host: 'evil.example',
        authorization: 'Bearer cc_secret',
        cookie: 'cc_session=abc',
        'proxy-authorization': 'Basic eA==',
        connection: 'keep-alive, X-Custom, accept-language',
        'keep-alive': 'timeout=5',
        'x-custom': '1',
        te: 'trailers',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=1.2.3.4;host=evil',
        accept: 'application/json',
        'accept-language': 'de',
        'content-type': 'application/json',
        'if-none-match': '"abc"',
        'x-request-id': 'client-chosen',
      },
      { authorization: 'Basic ZGV2aWNl', requestId: 'r1', via: '1.1 cc', contentLength: 12 },
    );
    expect(out).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'if-none-match': '"abc"',
      authorization: 'Basic ZGV2aWNl',
      'x-request-id': 'r1',
      via: '1.1 cc',
      'content-length': '12',
    });
  });

  it('drops header values that could split a message', () => {
    const out = deviceRequestHeaders(
      { accept: 'a\r\nX-Evil: 1' },
      { authorization: 'Basic x', requestId: 'r', via: 'v' },
    );
    expect(out.accept).toBeUndefined();
  });

  it('passes back only safe answer headers, with nosniff and no-store by default', () => {
    const out = clientResponseHeaders(
      {
        'content-type': 'application/json',
        'content-length': '10',
        etag: '"1"',
        connection: 'close, etag',
        'keep-alive': 'timeout=5',
        'set-cookie': ['device=1'],
        'www-authenticate': 'Basic realm="device"',
        location: 'https://evil.example/',
        'transfer-encoding': 'chunked',
        server: 'device/1.0',
        'x-powered-by': 'firmware',
      },
      { requestId: 'r1', via: '1.1 cc' },
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': 'r1',
      via: '1.1 cc',
    });
    expect(
      clientResponseHeaders({ 'cache-control': 'max-age=5' }, { requestId: 'r', via: 'v' })[
        'cache-control'
      ],
    ).toBe('max-age=5');
  });
});
