// The network doctor: checks that this site can reach the cloud and firmware endpoints (DNS, TCP,
// TLS or FTP banner, HTTPS), directly and through the proxy, and says what to fix when it cannot.

export { runDoctor, type DoctorOptions, type ProgressListener } from './run-doctor.js';
export { formatReport, formatProgress } from './report-format.js';
export {
  DEFAULT_ENDPOINTS,
  endpointLabel,
  parseEndpoint,
  type CheckResult,
  type DoctorReport,
  type Endpoint,
} from './types.js';
