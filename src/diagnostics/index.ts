// The network doctor: checks that this site can reach the cloud and firmware endpoints (DNS, TCP,
// TLS or FTP banner, HTTPS), directly and through the proxy, and that this machine is fit to run
// the server (ports, disk, broker, database, clock, bandwidth); says what to fix when not.

export {
  DEFAULT_MIN_FREE_BYTES,
  plannedChecks,
  runDoctor,
  type DoctorOptions,
  type LocalCheckOptions,
  type ProgressListener,
} from './run-doctor.js';
export {
  createDiagnosticsService,
  type DiagnosticsRun,
  type DiagnosticsService,
} from './diagnostics-service.js';
export {
  doctorSettingsOf,
  runDeadlineMs,
  type DoctorConfig,
  type DoctorSettings,
} from './doctor-settings.js';
export type { PortRangeToCheck } from './local-checks.js';
export { loopbackFor, proxyLabelOf, serverDoctorOptions } from './server-doctor.js';
export { formatReport, formatProgress } from './report-format.js';
export {
  endpointLabel,
  parseEndpoint,
  type CheckResult,
  type DoctorReport,
  type Endpoint,
} from './types.js';
