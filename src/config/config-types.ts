// The shape of the validated configuration every subsystem receives (see config-schema.ts for
// defaults, limits and the documentation of each key).

export interface PortRange {
  from: number;
  to: number;
}

export interface AppConfig {
  /** Holds the database, certificates, persisted ports and generated secrets. */
  dataDir: string;
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    pretty: boolean;
  };
  /** Address every listener binds (default all interfaces). */
  bindHost: string;
  /** Public host name used in printed URLs and the certificate (default: the machine's host name). */
  publicHost: string | null;
  ports: {
    https: PortRange;
    http: PortRange;
    mqtt: PortRange;
    apiProxy: PortRange;
  };
  tls: {
    /** Admin-supplied certificate chain (PEM); a self-signed one is generated when absent. */
    certFile: string | null;
    keyFile: string | null;
  };
  http: {
    /** Largest accepted request body, in bytes. */
    bodyLimit: number;
    /** Time a request may take, in ms. */
    requestTimeoutMs: number;
  };
  mqtt: {
    /** Largest accepted MQTT packet, in bytes; a larger one closes only its sender's connection. */
    maxPacketBytes: number;
    /** Devices must send a keep-alive within this many seconds (0 = no limit enforced). */
    keepaliveLimitSeconds: number;
    tls: boolean;
  };
  store: {
    driver: 'sqlite' | 'postgres';
    /** SQLite file, relative to dataDir unless absolute. */
    sqliteFile: string;
    /** PostgreSQL connection URL (driver postgres). */
    postgresUrl: string | null;
  };
  ingest: {
    /** Longest a write waits to be grouped with others before its transaction commits, in ms. */
    batchDelayMs: number;
    /** Most writes in one transaction. */
    batchMaxSize: number;
    /** A device's malformed payloads are logged at most once per this interval, in ms. */
    malformedLogIntervalMs: number;
    /** Metric samples older than this many days are pruned. */
    metricsRetentionDays: number;
  };
  stream: {
    /** Device updates are coalesced and sent at most once per this interval, in ms. */
    coalesceMs: number;
    /** A client whose unsent data exceeds this many bytes is disconnected. */
    maxBufferedBytes: number;
  };
  auth: {
    /** Session lifetime since login, in hours. */
    sessionHours: number;
    /** Session expires after this many minutes without use. */
    sessionIdleMinutes: number;
  };
  devices: {
    pollActiveMs: number;
    pollIdleMs: number;
    pollJitterPercent: number;
    pollConcurrency: number;
    requestTimeoutMs: number;
    maxResponseBytes: number;
    backoffMaxMs: number;
    offlineAfterMs: number;
    commandTimeoutMs: number;
    discoveryConcurrency: number;
  };
  demo: {
    /** Run a simulated fleet in the same process (npm start). */
    enabled: boolean;
    devices: number;
    /** Time multiplier of the simulated jobs. */
    speed: number;
  };
}
