import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReport } from './build-report.js';
import { PSEUDONYM_PREFIX } from './pseudonym.js';
import { CONSENT_CATEGORIES, type ConsentCategory } from './report-fields.js';
import { appearsIn, markerFleet, TEST_KEY, type MarkerGroup } from './report-test-fleet.js';
import type { ReportInput } from './report-types.js';

const GROUPS: readonly MarkerGroup[] = [...CONSENT_CATEGORIES, 'never'];

function reportJson(input: ReportInput, consent: readonly ConsentCategory[]): string {
  return JSON.stringify(buildReport(input, { consent: new Set(consent), pseudonymKey: TEST_KEY }));
}

/** Both report kinds: the critical one carries the trigger alert, the periodic one the rest. */
function reportsJson(
  value: (group: MarkerGroup, slot: string) => string,
  consent: readonly ConsentCategory[],
) {
  const fleet = markerFleet(value);
  return {
    json: `${reportJson(fleet.periodic, consent)}\n${reportJson(fleet.critical, consent)}`,
    markers: fleet.markers,
  };
}

/** Pseudonyms replaced by their order of first appearance: what is left is what they reveal. */
function canonical(json: string): string {
  const seen = new Map<string, number>();
  return json.replace(/"p:[\w-]{22}"/g, (pseudonym) => {
    if (!seen.has(pseudonym)) seen.set(pseudonym, seen.size);
    return `"#${seen.get(pseudonym)}"`;
  });
}

const marker = (group: MarkerGroup, slot: string): string => `MK-${group}-${slot}`;

describe('consent', () => {
  it('lets no non-anonymous value into a report without consent', () => {
    const { json, markers } = reportsJson(marker, []);
    for (const group of GROUPS) {
      expect(markers[group].length, group).toBeGreaterThan(0);
      for (const m of markers[group]) expect(appearsIn(json, m), m).toBe(false);
    }
    expect(json).toContain(`"${PSEUDONYM_PREFIX}`);
  });

  it.each(CONSENT_CATEGORIES.map((c) => [c]))(
    'with consent for %s only, sends exactly that category in clear',
    (category) => {
      const { json, markers } = reportsJson(marker, [category]);
      for (const group of GROUPS) {
        for (const m of markers[group]) expect(appearsIn(json, m), m).toBe(group === category);
      }
    },
  );

  it('never sends values no field carries (job and alert ids, jobs of the window), even with all consent', () => {
    const { json, markers } = reportsJson(marker, CONSENT_CATEGORIES);
    for (const group of CONSENT_CATEGORIES) {
      for (const m of markers[group]) expect(appearsIn(json, m), m).toBe(true);
    }
    for (const m of markers.never) expect(appearsIn(json, m), m).toBe(false);
  });

  it('keeps any protected string out of a report without consent', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 12, maxLength: 40, unit: 'grapheme' }), {
          minLength: 64,
          maxLength: 64,
        }),
        (values) => {
          let next = 0;
          const { json, markers } = reportsJson(() => values[next++] ?? '', []);
          for (const group of GROUPS) {
            for (const m of markers[group]) expect(appearsIn(json, m), m).toBe(false);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reveals nothing of protected values but which ones are equal', () => {
    const baseline = canonical(reportsJson((g, slot) => `${g}/${slot}`, []).json);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 40 }), {
          minLength: 64,
          maxLength: 64,
        }),
        (values) => {
          let next = 0;
          expect(canonical(reportsJson(() => values[next++] ?? '', []).json)).toBe(baseline);
        },
      ),
      { numRuns: 30 },
    );
  });
});
