// The doctor's settings from configuration: the endpoints to check and the bandwidth estimate's
// URL and requirement, checked once so a bad value stops start-up with the key and the fix.

import { CcError } from '../domain/index.js';
import { parseEndpoint, type Endpoint } from './types.js';

export interface DoctorConfig {
  endpoints: readonly string[];
  timeoutMs: number;
  bandwidthUrl: string | null;
  minBandwidthKbps: number;
}

export interface DoctorSettings {
  endpoints: Endpoint[];
  timeoutMs: number;
  bandwidth: { url: URL; minKbps: number; maxBytes: number } | null;
}

/** The most the bandwidth estimate downloads: enough for a steady rate on a DSL line. */
export const BANDWIDTH_SAMPLE_BYTES = 4 * 1024 * 1024;

function invalid(key: string, message: string, fix: string): CcError {
  return new CcError('CONFIG_INVALID', `${key} ${message}; fix: ${fix}`, { key });
}

export function doctorSettingsOf(config: DoctorConfig): DoctorSettings {
  const endpoints = config.endpoints.map((text) => {
    const endpoint = parseEndpoint(text);
    if (endpoint === null)
      throw invalid(
        'doctor.endpoints',
        `holds ${JSON.stringify(text.slice(0, 80))}, which is not an endpoint`,
        'give host:port, or host:port/ftp for an FTP endpoint',
      );
    return endpoint;
  });
  let bandwidth: DoctorSettings['bandwidth'] = null;
  if (config.bandwidthUrl !== null && config.bandwidthUrl.trim() !== '') {
    const text = config.bandwidthUrl.trim();
    const url = URL.canParse(text) ? new URL(text) : null;
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw invalid(
        'doctor.bandwidthUrl',
        'is not an http:// or https:// URL',
        'give the URL of a large file, e.g. https://downloads.example.com/10MB.bin, or null',
      );
    if (url.username !== '' || url.password !== '')
      throw invalid(
        'doctor.bandwidthUrl',
        'holds credentials',
        'use a URL without user and password',
      );
    bandwidth = { url, minKbps: config.minBandwidthKbps, maxBytes: BANDWIDTH_SAMPLE_BYTES };
  }
  return { endpoints, timeoutMs: config.timeoutMs, bandwidth };
}

/** A whole run's bound from each check's timeout (every check of the slowest path, both paths). */
export function runDeadlineMs(timeoutMs: number): number {
  return timeoutMs * 10;
}
