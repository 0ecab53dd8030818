// Report size and build time of the uplink for a fleet: buildReport timed over the whole busy fleet
// and the JSON it makes, without consent and with every consent; then the report split into parts
// and every part sealed as the uplink service does (uplink-service.ts), with the parts' envelopes
// measured against the receiver's body limit.

import { CONSENT_CATEGORIES, sealReport, type UplinkKeys } from '../src/uplink/index.js';
import {
  buildReport,
  splitReport,
  type ConsentCategory,
  type UplinkReport,
} from '../src/uplink/report/index.js';
import { MAX_REPORT_BYTES } from '../src/uplink/seal.js';
import { periodicInput } from './uplink-fleet.js';
import { KID, median, SITE_ID } from './uplink-throughput.js';

export type Consent = 'none' | 'all';

export interface SizeRow {
  devices: number;
  consent: Consent;
  /** Median buildReport time. */
  buildMs: number;
  /** The whole report as one JSON, seq and siteId included. */
  jsonBytes: number;
  /** What each device adds to the report with nothing in it. */
  bytesPerDevice: number;
  /** Parts splitReport makes of the report. */
  parts: number;
  /** Devices in the fullest part. */
  maxPartDevices: number;
  /** Median time to split the report and seal every part, each envelope written as JSON. */
  splitSealMs: number;
  /** All parts' envelopes as JSON, as the outbox stores and the sender posts them. */
  envelopeBytes: number;
  /** The largest part's envelope as JSON: one request body. */
  largestEnvelopeBytes: number;
  /** envelopeBytes / devices: what a device costs on the wire, its share of the headers included. */
  wireBytesPerDevice: number;
}

export interface ReportSizer {
  /** The report as the uplink seals it: seq and siteId are repeated inside (uplink-service.ts). */
  sealedForm(devices: number, consent: Consent): object;
  jsonBytes(devices: number, consent: Consent): number;
  /** The largest fleet whose report still seals in one envelope. */
  largestSealing(consent: Consent): { devices: number; jsonBytes: number };
  measure(devices: number, consent: Consent, runs: number): SizeRow;
}

function timed<T>(runs: number, fn: () => T): { ms: number; value: T } {
  const times: number[] = [];
  let value = fn();
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    value = fn();
    times.push(performance.now() - started);
  }
  return { ms: median(times), value };
}

export function createReportSizer(keys: UplinkKeys, pseudonymKey: Buffer): ReportSizer {
  const options = {
    none: { consent: new Set<ConsentCategory>(), pseudonymKey },
    all: { consent: new Set<ConsentCategory>(CONSENT_CATEGORIES), pseudonymKey },
  };
  const sealed = (report: UplinkReport) => ({ ...report, seq: 1, siteId: SITE_ID });
  const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

  function sealedForm(devices: number, consent: Consent): object {
    return sealed(buildReport(periodicInput(devices), options[consent]));
  }

  function jsonBytes(devices: number, consent: Consent): number {
    return bytesOf(sealedForm(devices, consent));
  }

  function largestSealing(consent: Consent): { devices: number; jsonBytes: number } {
    const fixed = jsonBytes(0, consent);
    const perDevice = (jsonBytes(100, consent) - fixed) / 100;
    // Devices differ by a few bytes: start from the estimate and step to the exact boundary.
    let devices = Math.floor((MAX_REPORT_BYTES - fixed) / perDevice);
    let bytes = jsonBytes(devices, consent);
    while (bytes > MAX_REPORT_BYTES) bytes = jsonBytes(--devices, consent);
    for (let next = jsonBytes(devices + 1, consent); next <= MAX_REPORT_BYTES;) {
      devices += 1;
      bytes = next;
      next = jsonBytes(devices + 1, consent);
    }
    return { devices, jsonBytes: bytes };
  }

  /** As the uplink service queues a report: in parts, each sealed with its own consecutive seq. */
  function splitAndSeal(report: UplinkReport): { devices: number; body: string }[] {
    return splitReport(report).map((part, i) => {
      const seq = i + 1;
      const envelope = sealReport(
        { ...part, seq, siteId: SITE_ID },
        { siteId: SITE_ID, seq, kid: KID },
        keys,
      );
      return { devices: part.devices.length, body: JSON.stringify(envelope) };
    });
  }

  function measure(devices: number, consent: Consent, runs: number): SizeRow {
    const input = periodicInput(devices);
    const build = timed(runs, () => buildReport(input, options[consent]));
    const bytes = bytesOf(sealed(build.value));
    const fixed = jsonBytes(0, consent);
    const sent = timed(runs, () => splitAndSeal(build.value));
    const parts = sent.value;
    const carried = parts.reduce((sum, p) => sum + p.devices, 0);
    if (carried !== devices) {
      throw new Error(`the parts carry ${carried} devices, not ${devices}`);
    }
    const sizes = parts.map((p) => Buffer.byteLength(p.body, 'utf8'));
    const envelopeBytes = sizes.reduce((sum, n) => sum + n, 0);
    return {
      devices,
      consent,
      buildMs: build.ms,
      jsonBytes: bytes,
      bytesPerDevice: devices === 0 ? 0 : (bytes - fixed) / devices,
      parts: parts.length,
      maxPartDevices: Math.max(...parts.map((p) => p.devices)),
      splitSealMs: sent.ms,
      envelopeBytes,
      largestEnvelopeBytes: Math.max(...sizes),
      wireBytesPerDevice: devices === 0 ? 0 : envelopeBytes / devices,
    };
  }

  return { sealedForm, jsonBytes, largestSealing, measure };
}
