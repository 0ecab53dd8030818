import { describe, expect, it } from 'vitest';
import { createClassifier, type ReportOptions } from './classify.js';
import { createPseudonymizer } from './pseudonym.js';
import { CONSENT_CATEGORIES, REPORT_FIELDS, type FieldRule } from './report-fields.js';
import { TEST_KEY } from './report-test-fleet.js';

const RULES: FieldRule[] = [
  { path: 'n', class: 'anonymous', withoutConsent: 'keep', description: 'a number' },
  { path: 'a[].who', class: 'identity', withoutConsent: 'pseudonymize', description: 'a name' },
  { path: 'a[].note', class: 'freeText', withoutConsent: 'drop', description: 'a note' },
  { path: 'o.hosts', class: 'network', withoutConsent: 'pseudonymize', description: 'hosts' },
];
const NONE: ReportOptions = { consent: new Set(), pseudonymKey: TEST_KEY };
const p = createPseudonymizer(TEST_KEY);

describe('the classifier', () => {
  it('keeps anonymous fields, pseudonymizes or drops the others without consent', () => {
    const out = createClassifier(
      RULES,
      NONE,
    )({
      n: 3,
      a: [{ who: 'ann', note: 'hello' }, { who: null }],
      o: { hosts: ['h1', 'h2'] },
    });
    expect(out).toEqual({
      n: 3,
      a: [{ who: p('identity', 'ann') }, { who: null }],
      o: { hosts: [p('network', 'h1'), p('network', 'h2')] },
    });
  });

  it('sends clear values of the categories consented to, and only those', () => {
    const classify = createClassifier(RULES, { ...NONE, consent: new Set(['freeText']) });
    expect(classify({ a: [{ who: 'ann', note: 'hello' }] })).toEqual({
      a: [{ who: p('identity', 'ann'), note: 'hello' }],
    });
  });

  it.each([
    ['an undeclared top-level field', { m: 1 }, /"m": not declared/],
    [
      'an undeclared nested field',
      { a: [{ who: 'x', email: 'x@y' }] },
      /"a\[\]\.email": not declared/,
    ],
    ['an object where a field is declared', { n: { x: 1 } }, /"n": not a string/],
    ['a value where an object is declared', { o: 'hosts' }, /"o": a value where/],
    ['a number in a protected field', { a: [{ who: 42 }] }, /identity field must be a string/],
    ['a flag in a protected field', { a: [{ who: true }] }, /identity field must be a string/],
    ['NaN, which JSON would send as null', { n: Number.NaN }, /"n": not a string, finite/],
    ['a key that looks like a path', { 'a[].who': 'x' }, /not a plain name/],
    ['a list of objects at a field', { o: { hosts: [{ h: 1 }] } }, /"o.hosts": not a string/],
  ])('refuses %s', (_what, draft, message) => {
    expect(() => createClassifier(RULES, NONE)(draft)).toThrow(message);
  });

  it('refuses a table that declares a path both as a field and as a container', () => {
    const rules: FieldRule[] = [...RULES, { ...RULES[0]!, path: 'o' }];
    expect(() => createClassifier(rules, NONE)).toThrow(/both as a field and as a container/);
  });
});

describe('REPORT_FIELDS', () => {
  it('declares each path once, as plain segments', () => {
    const paths = REPORT_FIELDS.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const path of paths) expect(path).toMatch(/^[a-z]\w*(?:\[\])?(?:\.[a-z]\w*(?:\[\])?)*$/i);
  });

  it('is a table the classifier accepts', () => {
    expect(() => createClassifier(REPORT_FIELDS, NONE)).not.toThrow();
  });

  it('drops free text rather than hashing it: a hash of a sentence tells nobody anything', () => {
    const freeText = REPORT_FIELDS.filter((f) => f.class === 'freeText');
    expect(freeText.length).toBeGreaterThan(0);
    for (const f of freeText) expect(f.withoutConsent).toBe('drop');
  });

  it('has at least one field in every consent category', () => {
    for (const c of CONSENT_CATEGORIES) {
      expect(
        REPORT_FIELDS.some((f) => f.class === c),
        c,
      ).toBe(true);
    }
  });
});
