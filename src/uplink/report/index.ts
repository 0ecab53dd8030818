// The uplink report: what Command Center tells the vendor cloud every 5 minutes and when a
// critical alert opens, with every field classified and protected unless the customer consented.

export { buildReport, MAX_ALERTS_PER_DEVICE } from './build-report.js';
export { MAX_PART_BYTES, splitReport, type ReportPart } from './split-report.js';
export { createClassifier, type Classifier, type ReportOptions } from './classify.js';
export {
  createPseudonymizer,
  MIN_PSEUDONYM_KEY_BYTES,
  PSEUDONYM_PATTERN,
  PSEUDONYM_PREFIX,
  type Pseudonymize,
} from './pseudonym.js';
export {
  CONSENT_CATEGORIES,
  CONSENT_CATEGORY_DESCRIPTIONS,
  REPORT_FIELDS,
  type ConsentCategory,
  type FieldClass,
  type FieldRule,
  type WithoutConsent,
} from './report-fields.js';
export type * from './report-types.js';
