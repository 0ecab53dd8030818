// The doctor's settings as the server and `doctor --bandwidth-url` take them: malformed, hostile
// and oversized values end in CONFIG_INVALID naming the key and the fix, never in a crash.

import { describe, expect, it } from 'vitest';
import { CcError } from '../domain/index.js';
import {
  doctorSettingsOf,
  runDeadlineMs,
  BANDWIDTH_SAMPLE_BYTES,
  type DoctorConfig,
} from './doctor-settings.js';

const BASE: DoctorConfig = {
  endpoints: [],
  timeoutMs: 5000,
  bandwidthUrl: null,
  minBandwidthKbps: 2000,
};

function refusal(over: Partial<DoctorConfig>): CcError {
  try {
    doctorSettingsOf({ ...BASE, ...over });
  } catch (err) {
    if (err instanceof CcError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('doctorSettingsOf', () => {
  it('reads endpoints and the bandwidth URL', () => {
    const settings = doctorSettingsOf({
      ...BASE,
      endpoints: ['cloud.example.com:443', 'ftp.example.com:21/ftp'],
      bandwidthUrl: ' https://downloads.example.com/10MB.bin ',
    });
    expect(settings.endpoints).toEqual([
      { host: 'cloud.example.com', port: 443, kind: 'https' },
      { host: 'ftp.example.com', port: 21, kind: 'ftp' },
    ]);
    expect(settings.bandwidth?.url.href).toBe('https://downloads.example.com/10MB.bin');
    expect(settings.bandwidth?.maxBytes).toBe(BANDWIDTH_SAMPLE_BYTES);
    expect(doctorSettingsOf({ ...BASE, bandwidthUrl: '  ' }).bandwidth).toBeNull();
    expect(runDeadlineMs(5000)).toBe(50_000);
  });

  it('refuses hostile endpoints with the key, quoting a bounded value', () => {
    for (const text of [
      'evil.example',
      'user:pw@evil.example:443',
      'a:99999',
      `${'x'.repeat(5000)}:1`,
    ]) {
      const err = refusal({ endpoints: [text] });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('doctor.endpoints');
      expect(err.message).toContain('fix:');
      expect(err.message.length).toBeLessThan(400);
    }
  });

  it('refuses bandwidth URLs that are not http(s), carry credentials or do not parse', () => {
    for (const url of [
      'ftp://files.example.com/big',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:secret-pw@downloads.example.com/x',
      'not a url',
    ]) {
      const err = refusal({ bandwidthUrl: url });
      expect(err.code, url).toBe('CONFIG_INVALID');
      expect(err.message).toContain('doctor.bandwidthUrl');
      expect(err.message).not.toContain('secret-pw');
    }
  });
});
