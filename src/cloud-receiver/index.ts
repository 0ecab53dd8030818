// The reference cloud endpoint of the uplink (docs/protocols/cloud-uplink.md): enrollment, sealed
// reports with replay protection, an admin listing, and test controls for failures and redirects.
export {
  createCloudReceiver,
  DEFAULT_BODY_LIMIT,
  DEFAULT_REPORT_INTERVAL_SECONDS,
  type CloudReceiver,
  type CloudReceiverInfo,
  type CloudReceiverOptions,
  type FailNextOptions,
} from './cloud-receiver.js';
export type { EnrollRequest, EnrollResponse } from './enrollment.js';
export { RECEIVER_ERROR_STATUS, type ReceiverErrorCode } from './receiver-errors.js';
export type { CloudRequest, ReceiverCounters, ReportResponseExtras } from './receiver-routes.js';
export {
  openReceiverStore,
  RECEIVER_DB_FILE,
  type ReceiverStore,
  type SiteStatus,
  type SiteSummary,
  type StoredReport,
} from './receiver-store.js';
export { DEMO_ORGANIZATION, startDemoCloud, type DemoCloud } from './demo-cloud.js';
