// POST /v1/reports: the order of checks on a sealed envelope (docs/protocols/cloud-uplink.md). Shape
// first, then the site and key id, then the MAC in constant time — so nothing about a site's seq
// state is revealed to anyone without its key — then idempotency and replay, and only then
// decryption. Accepting is one transaction: the report and the site's new highest seq together.

import {
  deriveUplinkKeys,
  isEnvelopeError,
  openEnvelope,
  parseEnvelope,
  verifyEnvelopeMac,
  type Envelope,
} from '../uplink/seal.js';
import { ReceiverError } from './receiver-errors.js';
import type { ReceiverStore, SiteRecord } from './receiver-store.js';

export type IntakeResult =
  | { status: 200; seq: number; duplicate: true }
  | { status: 202; seq: number; siteId: string; unenrolled: boolean };

function parse(body: unknown): Envelope {
  try {
    return parseEnvelope(body);
  } catch (err) {
    if (isEnvelopeError(err) && err.reason === 'too-large') {
      throw new ReceiverError('PAYLOAD_TOO_LARGE', err.message);
    }
    if (isEnvelopeError(err)) throw new ReceiverError('MALFORMED_ENVELOPE', err.message);
    throw err;
  }
}

function unknownSite(site: SiteRecord | undefined): ReceiverError {
  const why =
    site?.status === 'superseded'
      ? 'this site was superseded by a newer enrollment; use the new site id'
      : site?.status === 'unenrolled'
        ? 'this site was unenrolled; enroll again to send reports'
        : 'no site is enrolled with this id';
  return new ReceiverError('UNKNOWN_SITE', why);
}

function reportKind(report: unknown): string | null {
  if (typeof report !== 'object' || report === null || Array.isArray(report)) return null;
  const kind = (report as Record<string, unknown>).kind;
  return typeof kind === 'string' ? kind.slice(0, 64) : null;
}

export function acceptReport(store: ReceiverStore, body: unknown, now: Date): IntakeResult {
  const envelope = parse(body);
  const site = store.site(envelope.siteId);
  if (site === undefined) throw unknownSite(site);
  if (envelope.kid !== site.kid) {
    throw new ReceiverError('UNKNOWN_KEY', `key id ${envelope.kid} is not this site's current key`);
  }
  const keys = deriveUplinkKeys(site.secret);
  try {
    verifyEnvelopeMac(envelope, keys);
  } catch (err) {
    if (isEnvelopeError(err))
      throw new ReceiverError('BAD_MAC', 'the envelope MAC does not verify');
    throw err;
  }

  return store.atomically((): IntakeResult => {
    const current = store.site(envelope.siteId) ?? site;
    const { seq, mac } = envelope;
    const macThen = store.macAt(current.siteId, seq);
    // A resend whose answer was lost: same seq, same bytes. Accepted once, acknowledged again —
    // even after an unenroll report, whose own resend must not fail.
    if (macThen === mac) return { status: 200, seq, duplicate: true };
    if (current.status !== 'active') throw unknownSite(current);
    if (macThen !== undefined || seq <= current.lastSeq) {
      throw new ReceiverError(
        'REPLAYED',
        `seq ${seq} is not above the highest accepted seq ${current.lastSeq} of this site`,
      );
    }
    // The MAC does not cover seq (DESIGN §4.4): a captured envelope resent under a higher seq
    // would verify. Its iv || ct, and so its mac, is unique per sealed report: refuse it.
    const seqThen = store.seqOfMac(current.siteId, mac);
    if (seqThen !== undefined) {
      throw new ReceiverError('REPLAYED', `this report was already accepted as seq ${seqThen}`);
    }
    let report: unknown;
    try {
      report = openEnvelope(envelope, keys);
    } catch (err) {
      if (isEnvelopeError(err)) throw new ReceiverError('UNREADABLE_REPORT', err.message);
      throw err;
    }
    // The MAC covers iv || ct only (DESIGN §4.4); the report repeats seq and siteId inside the
    // ciphertext, so an envelope whose outer seq was changed is refused before it can move the
    // site's highest seq.
    const inner = report as { seq?: unknown; siteId?: unknown } | null;
    if (inner?.seq !== seq || inner.siteId !== current.siteId) {
      throw new ReceiverError(
        'SEQ_MISMATCH',
        'the seq or siteId of the envelope differs from the one sealed inside the report',
      );
    }
    const kind = reportKind(report);
    const unenroll = kind === 'unenroll';
    store.addReport({
      siteId: current.siteId,
      seq,
      mac,
      kind,
      receivedAt: now.toISOString(),
      json: JSON.stringify(report),
      unenroll,
    });
    return { status: 202, seq, siteId: current.siteId, unenrolled: unenroll };
  });
}
