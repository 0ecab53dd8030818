// Splits a periodic report of a large fleet into parts that each fit one envelope: every part
// repeats the fleet summary and the server's status and carries a slice of the devices, in order.
// A site of 10,000 printers (about 9.5 MB of JSON) thus sends about 40 sealed parts instead of one
// report no envelope could hold.

import type { ReportDevice, UplinkReport } from './report-types.js';

/** Default size of one part's JSON: half the envelope's report limit, with room to spare. */
export const MAX_PART_BYTES = 256 * 1024;

export interface ReportPart extends UplinkReport {
  /** 1-based position of this part and how many parts the report has. */
  part: { index: number; count: number };
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The report in parts of at most `maxBytes` of JSON each (one part when it fits). A single device
 * bigger than a part on its own still gets a part of its own: it is never dropped here.
 */
export function splitReport(report: UplinkReport, maxBytes = MAX_PART_BYTES): ReportPart[] {
  // The header of every part, with room for the part counter and the seq and siteId added when
  // the part is sealed.
  const headerBytes = bytesOf({ ...report, devices: [] }) + 160;
  let current: ReportDevice[] = [];
  const slices: ReportDevice[][] = [current];
  let size = headerBytes;
  for (const device of report.devices) {
    const bytes = bytesOf(device) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      current = [];
      slices.push(current);
      size = headerBytes;
    }
    current.push(device);
    size += bytes;
  }
  return slices.map((devices, i) => ({
    ...report,
    devices,
    part: { index: i + 1, count: slices.length },
  }));
}
