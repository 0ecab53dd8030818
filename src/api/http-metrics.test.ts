import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../domain/index.js';
import { errorBody } from './error-handler.js';
import { errorCodeOf, OTHER } from './http-metrics.js';

describe('errorCodeOf', () => {
  it.each([
    ['a CcError code', JSON.stringify(errorBody('VALIDATION_FAILED', 'bad')), 'VALIDATION_FAILED'],
    ['a code answered before routing', JSON.stringify(errorBody('TIMEOUT', 'slow')), 'TIMEOUT'],
    ['an unknown code', JSON.stringify(errorBody('SOMETHING_NEW', 'x')), OTHER],
    ['a code that is not a string', '{"error":{"code":42,"message":"x"}}', OTHER],
    ['an error without a code', '{"error":{"message":"x"}}', OTHER],
    ['an error that is not an object', '{"error":"x"}', OTHER],
    ['another JSON shape', '{"message":"Not Found"}', OTHER],
    ['truncated JSON', '{"error":{"code":"NOT_FOUND"', OTHER],
    ['an HTML page', '<html>nope</html>', OTHER],
    ['an empty body', '', OTHER],
    ['a stream or buffer (not parsed)', Buffer.from('{"error":{"code":"NOT_FOUND"}}'), OTHER],
    ['no payload', null, OTHER],
    ['an oversized body', JSON.stringify(errorBody('NOT_FOUND', 'x'.repeat(10_000))), OTHER],
  ])('labels %s', (_case, payload, code) => {
    expect(errorCodeOf(payload)).toBe(code);
  });

  it('always answers a known code or OTHER, whatever the payload', () => {
    const known = new Set<string>([...Object.keys(ERROR_STATUS), 'HEADERS_TOO_LARGE', 'TIMEOUT']);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .record({ error: fc.record({ code: fc.anything(), message: fc.string() }) })
            .map((b) => JSON.stringify(b)),
        ),
        (payload) => {
          const code = errorCodeOf(payload);
          expect(code === OTHER || known.has(code)).toBe(true);
        },
      ),
    );
  });
});
