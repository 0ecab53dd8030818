import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport } from './build-report.js';
import { REPORT_DOC } from './classification-doc.js';
import { CONSENT_CATEGORIES, type ConsentCategory } from './report-fields.js';
import { periodicInput, realisticPrinter, TEST_KEY } from './report-test-fleet.js';

/** The bound docs/protocols/uplink-report.md states; the measured size must stay under it. */
const BYTES_PER_DEVICE_BOUND = 1000;
const FLEET = 200;

function reportBytes(devices: number, consent: readonly ConsentCategory[]): number {
  const fleet = Array.from({ length: devices }, (_, i) => realisticPrinter(i + 1));
  const report = buildReport(periodicInput(fleet), {
    consent: new Set(consent),
    pseudonymKey: TEST_KEY,
  });
  return Buffer.byteLength(JSON.stringify(report), 'utf8');
}

describe('report size', () => {
  it.each([
    ['without consent', [] as ConsentCategory[]],
    ['with every consent', [...CONSENT_CATEGORIES]],
  ])(`stays under ${BYTES_PER_DEVICE_BOUND} bytes per realistic printer %s`, (what, consent) => {
    const fixed = reportBytes(0, consent);
    const perDevice = (reportBytes(FLEET, consent) - fixed) / FLEET;
    console.info(
      `uplink report ${what}: ${fixed} bytes + ${perDevice.toFixed(1)} bytes per device`,
    );
    expect(perDevice).toBeLessThanOrEqual(BYTES_PER_DEVICE_BOUND);
  });

  it(`is documented in ${REPORT_DOC} with the bound the test holds`, () => {
    const doc = readFileSync(new URL(`../../../${REPORT_DOC}`, import.meta.url), 'utf8');
    expect(doc).toContain(`at most ${BYTES_PER_DEVICE_BOUND} bytes per device`);
  });
});
