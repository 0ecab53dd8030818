// The cloud uplink's public surface: the service the server wires in, and what the API, the CLI
// and the reference receiver share (the envelope, the report classification).

export {
  createUplink,
  type Actor,
  type ConsentView,
  type ReportPreview,
  type Uplink,
  type UplinkAlert,
  type UplinkDeps,
  type UplinkSettings,
  type UplinkStatus,
} from './uplink-service.js';
export { createOutboxMetrics } from './outbox.js';
export { createServerStatus } from './server-status.js';
export { createUplinkMetrics } from './uplink-metrics.js';
export {
  deriveUplinkKeys,
  openEnvelope,
  parseEnvelope,
  sealReport,
  type Envelope,
  type UplinkKeys,
} from './seal.js';
export {
  CONSENT_CATEGORIES,
  CONSENT_CATEGORY_DESCRIPTIONS,
  REPORT_FIELDS,
  type ConsentCategory,
  type UplinkReport,
} from './report/index.js';
export { proxyChoiceOf, sendPolicyOf } from './uplink-policy.js';
