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
    /** Largest request head (request line and headers), in bytes. */
    maxHeaderBytes: number;
    /** Origins allowed to call the API cross-origin with a token; empty = CORS off. */
    corsOrigins: string[];
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
  storage: {
    /** Free space kept on the data directory, in MB: below it writes are refused. */
    minFreeMb: number;
    /** How often the free space is checked, in seconds. */
    checkIntervalSeconds: number;
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
    /** Failed logins for one user name (within 15 min) that lock the account. */
    loginMaxFailures: number;
    /** The first lockout's length; each further lockout in a row doubles it (up to a day). */
    lockoutMinutes: number;
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
  apiProxy: {
    /** Serve the API Proxy on the first free port of ports.apiProxy. */
    enabled: boolean;
    /** Largest request body forwarded to a device, in bytes. */
    maxBodyBytes: number;
    /** Largest device answer passed back, in bytes. */
    maxResponseBytes: number;
    /** Longest one proxied call may take, in ms. */
    timeoutMs: number;
    /** Calls one API token may make per minute. */
    ratePerMinute: number;
    /** Proxied calls in flight to one device at a time. */
    concurrencyPerDevice: number;
  };
  uplink: {
    enabled: boolean;
    /** Base URL of the vendor cloud. */
    endpoint: string;
    allowedHosts: string[];
    spkiPins: string[];
    caFile: string | null;
    /** 'environment', 'none' or an http:// proxy URL. */
    proxy: string;
    noProxy: string | null;
    intervalSeconds: number;
    timeoutMs: number;
    outboxMaxBytes: number;
    outboxMaxItems: number;
    drainPerMinute: number;
    backoffMaxSeconds: number;
  };
  firmware: {
    /** Trusted vendor public keys (PEM file paths). */
    trustedKeys: string[];
    /** Retired vendor public keys (PEM file paths): known, their signatures do not count. */
    retiredKeys: string[];
    /** Distinct trusted keys that must have signed a manifest. */
    threshold: number;
    maxPackageBytes: number;
    /** https:// or ftp:// repository; ftp URLs may carry credentials (never logged). */
    syncUrl: string | null;
    /** 0 = manual sync only. */
    syncIntervalMinutes: number;
    allowedHosts: string[];
    caFile: string | null;
    /** 'environment', 'none' or an http:// proxy URL (https:// sync only). */
    proxy: string;
    downloadTimeoutSeconds: number;
    syncTimeoutSeconds: number;
    rolloutPushTimeoutSeconds: number;
    rolloutMaxConcurrency: number;
  };
  /** The network doctor (`command-center doctor`, GET /api/v1/diagnostics). */
  doctor: {
    /** `host:port` or `host:port/ftp`. */
    endpoints: string[];
    timeoutMs: number;
    bandwidthUrl: string | null;
    minBandwidthKbps: number;
  };
  demo: {
    /** Run a simulated fleet in the same process (npm start). */
    enabled: boolean;
    devices: number;
    /** Time multiplier of the simulated jobs. */
    speed: number;
    /** Run the reference cloud receiver locally and point the uplink at it. */
    cloud: boolean;
  };
}
