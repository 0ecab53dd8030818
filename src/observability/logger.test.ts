import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('log redaction', () => {
  it('replaces secrets at the top level and one level down, keeping the rest', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info' }, stream);
    const secrets = {
      password: 'pw-value-1',
      token: 'tok-value-2',
      secret: 'sec-value-3',
      authorization: 'Bearer auth-value-4',
      cookie: 'cc_session=cookie-value-5',
      enrollmentToken: 'enroll-value-6',
      siteSecret: 'site-value-7',
      sealedSecret: 'sealed-value-8',
    };
    logger.info({ ...secrets, body: { ...secrets }, deviceId: 'printer-01' }, 'something happened');
    const [line] = lines();
    expect(line).toBeDefined();
    for (const value of Object.values(secrets)) expect(line).not.toContain(value);
    expect(line).toContain('printer-01');
    expect(line).toContain('[redacted]');
    const record = JSON.parse(line!) as { body: Record<string, unknown> };
    expect(record.body.siteSecret).toBe('[redacted]');
  });

  it('redacts request headers', () => {
    const { stream, lines } = capture();
    createLogger({ level: 'info' }, stream).info(
      { req: { headers: { authorization: 'Bearer hdr-value', cookie: 'c=hdr-cookie' } } },
      'request',
    );
    expect(lines()[0]).not.toMatch(/hdr-value|hdr-cookie/);
  });
});
