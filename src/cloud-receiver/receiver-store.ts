// The reference cloud receiver's own durable state: one SQLite file in its data directory with the
// enrolled sites (their secrets, key ids and highest accepted seq) and every accepted report. The
// replay and idempotency rules read and write it inside one IMMEDIATE transaction, so they hold
// across restarts and even with a second process on the same file.

import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export const RECEIVER_DB_FILE = 'cloud-receiver.sqlite';

export type SiteStatus = 'active' | 'superseded' | 'unenrolled';

export interface SiteRecord {
  siteId: string;
  organizationId: string;
  serverName: string;
  serverVersion: string;
  kid: string;
  secret: Buffer;
  status: SiteStatus;
  enrolledAt: string;
  statusChangedAt: string | null;
  supersededBy: string | null;
  lastSeq: number;
  lastReportAt: string | null;
}

/** A site as listings show it: everything but the secret. */
export type SiteSummary = Omit<SiteRecord, 'secret'> & { reportCount: number };

export interface StoredReport {
  seq: number;
  receivedAt: string;
  report: unknown;
}

export interface NewSite {
  siteId: string;
  organizationId: string;
  serverName: string;
  serverVersion: string;
  kid: string;
  secret: Buffer;
  enrolledAt: string;
}

export interface NewReport {
  siteId: string;
  seq: number;
  mac: string;
  kind: string | null;
  receivedAt: string;
  /** The decrypted report, as JSON text. */
  json: string;
  unenroll: boolean;
}

export interface ReceiverStore {
  /** Adds the site and marks the active sites of the same server superseded; returns their ids. */
  addSite(site: NewSite): string[];
  site(siteId: string): SiteRecord | undefined;
  /** The mac of the report accepted at this seq, if any. */
  macAt(siteId: string, seq: number): string | undefined;
  /** The seq at which this mac was accepted, if any. */
  seqOfMac(siteId: string, mac: string): number | undefined;
  addReport(report: NewReport): void;
  sites(): SiteSummary[];
  reports(siteId: string, afterSeq?: number, limit?: number): StoredReport[];
  /** Runs fn in one IMMEDIATE transaction; a throw rolls it back. */
  atomically<T>(fn: () => T): T;
  close(): void;
}

const SCHEMA = `
create table if not exists sites (
  site_id text primary key,
  organization_id text not null,
  server_name text not null,
  server_version text not null,
  kid text not null,
  secret blob not null,
  status text not null check (status in ('active', 'superseded', 'unenrolled')),
  enrolled_at text not null,
  status_changed_at text,
  superseded_by text,
  last_seq integer not null default 0,
  last_report_at text
);
create index if not exists sites_by_server on sites (server_name, status);
create table if not exists reports (
  site_id text not null references sites (site_id),
  seq integer not null,
  mac text not null,
  kind text,
  received_at text not null,
  report text not null,
  primary key (site_id, seq),
  unique (site_id, mac)
);
`;

interface SiteRow {
  site_id: string;
  organization_id: string;
  server_name: string;
  server_version: string;
  kid: string;
  secret: Buffer;
  status: SiteStatus;
  enrolled_at: string;
  status_changed_at: string | null;
  superseded_by: string | null;
  last_seq: number;
  last_report_at: string | null;
  report_count?: number;
}

function toSite(row: SiteRow): SiteRecord {
  return {
    siteId: row.site_id,
    organizationId: row.organization_id,
    serverName: row.server_name,
    serverVersion: row.server_version,
    kid: row.kid,
    secret: row.secret,
    status: row.status,
    enrolledAt: row.enrolled_at,
    statusChangedAt: row.status_changed_at,
    supersededBy: row.superseded_by,
    lastSeq: row.last_seq,
    lastReportAt: row.last_report_at,
  };
}

export interface OpenReceiverStoreOptions {
  dataDir: string;
  /** Listing from another process: never creates or changes anything. */
  readOnly?: boolean;
}

export function openReceiverStore(options: OpenReceiverStoreOptions): ReceiverStore {
  const file = join(options.dataDir, RECEIVER_DB_FILE);
  let db: BetterSqlite3.Database;
  if (options.readOnly) {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    db = new BetterSqlite3(file);
    // The file holds every site's secret; SQLite gives its WAL the same mode.
    chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    // An accepted report was acknowledged to the sender, who then forgets it: fsync every commit.
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  }
  db.pragma('busy_timeout = 5000');

  const statements = {
    supersede: db.prepare<[string, string, string], { site_id: string }>(
      `update sites set status = 'superseded', status_changed_at = ?, superseded_by = ?
       where server_name = ? and status = 'active' returning site_id`,
    ),
    insertSite: db.prepare(
      `insert into sites (site_id, organization_id, server_name, server_version, kid, secret,
         status, enrolled_at)
       values (@siteId, @organizationId, @serverName, @serverVersion, @kid, @secret, 'active',
         @enrolledAt)`,
    ),
    site: db.prepare<[string], SiteRow>('select * from sites where site_id = ?'),
    macAt: db.prepare<[string, number], { mac: string }>(
      'select mac from reports where site_id = ? and seq = ?',
    ),
    seqOfMac: db.prepare<[string, string], { seq: number }>(
      'select seq from reports where site_id = ? and mac = ?',
    ),
    insertReport: db.prepare(
      `insert into reports (site_id, seq, mac, kind, received_at, report)
       values (@siteId, @seq, @mac, @kind, @receivedAt, @json)`,
    ),
    advance: db.prepare<[number, string, string]>(
      'update sites set last_seq = max(last_seq, ?), last_report_at = ? where site_id = ?',
    ),
    unenroll: db.prepare<[string, string]>(
      `update sites set status = 'unenrolled', status_changed_at = ? where site_id = ?`,
    ),
    sites: db.prepare<[], SiteRow>(
      `select sites.*, (select count(*) from reports where reports.site_id = sites.site_id)
         as report_count
       from sites order by enrolled_at, site_id`,
    ),
    reports: db.prepare<
      [string, number, number],
      { seq: number; received_at: string; report: string }
    >(
      'select seq, received_at, report from reports where site_id = ? and seq > ? order by seq limit ?',
    ),
  };

  return {
    addSite(site) {
      return db
        .transaction(() => {
          const superseded = statements.supersede
            .all(site.enrolledAt, site.siteId, site.serverName)
            .map((row) => row.site_id);
          statements.insertSite.run(site);
          return superseded;
        })
        .immediate();
    },
    site(siteId) {
      const row = statements.site.get(siteId);
      return row === undefined ? undefined : toSite(row);
    },
    macAt(siteId, seq) {
      return statements.macAt.get(siteId, seq)?.mac;
    },
    seqOfMac(siteId, mac) {
      return statements.seqOfMac.get(siteId, mac)?.seq;
    },
    addReport(report) {
      statements.insertReport.run(report);
      statements.advance.run(report.seq, report.receivedAt, report.siteId);
      if (report.unenroll) statements.unenroll.run(report.receivedAt, report.siteId);
    },
    sites() {
      return statements.sites.all().map((row) => {
        const { secret: _secret, ...summary } = toSite(row);
        return { ...summary, reportCount: row.report_count ?? 0 };
      });
    },
    reports(siteId, afterSeq = 0, limit = Number.MAX_SAFE_INTEGER) {
      return statements.reports.all(siteId, afterSeq, limit).map((row) => ({
        seq: row.seq,
        receivedAt: row.received_at,
        report: JSON.parse(row.report) as unknown,
      }));
    },
    atomically(fn) {
      return db.transaction(fn).immediate();
    },
    close() {
      if (db.open) db.close();
    },
  };
}
