import { describe, expect, it } from 'vitest';
import { endpointLabel, parseEndpoint } from './types.js';

describe('doctor endpoints from the command line', () => {
  it.each([
    ['cloud.example.com:443', { host: 'cloud.example.com', port: 443, kind: 'https' }],
    [' ftp.example.com:21/ftp ', { host: 'ftp.example.com', port: 21, kind: 'ftp' }],
    ['[::1]:8443', { host: '::1', port: 8443, kind: 'https' }],
    ['127.0.0.1:8443/https', { host: '127.0.0.1', port: 8443, kind: 'https' }],
  ])('reads %j', (text, endpoint) => {
    expect(parseEndpoint(text)).toEqual(endpoint);
    expect(parseEndpoint(endpointLabel(parseEndpoint(text)!))).toEqual(endpoint);
  });

  it.each([
    '',
    'cloud.example.com',
    'cloud.example.com:',
    'cloud.example.com:0',
    'cloud.example.com:65536',
    'cloud.example.com:99999999',
    'cloud.example.com:443/gopher',
    'https://cloud.example.com:443',
    'user@host:443',
    '[]:443',
    'a:b:443',
    'host :443',
    '[not-v6]:443',
    `${'a'.repeat(100_000)}:443/x`,
  ])('refuses %j', (text) => {
    expect(parseEndpoint(text)).toBeNull();
  });
});
