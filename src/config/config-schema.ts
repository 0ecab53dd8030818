// The one configuration schema: every key with its type, default, limits and documentation.
// The loader validates against it, `config check` reports against it and docs/configuration.md is
// rendered from it, so the three never drift apart.

export type FieldSpec =
  | {
      type: 'string';
      default: string | null;
      nullable?: boolean;
      maxLength?: number;
      /** What the text must be, beyond a string: see StringFormat. */
      format?: StringFormat;
      description: string;
    }
  | {
      type: 'integer';
      default: number;
      min: number;
      max: number;
      unit?: string;
      description: string;
    }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'enum'; values: readonly string[]; default: string; description: string }
  | { type: 'portRange'; default: string; description: string }
  | {
      type: 'list';
      /** What each entry must be: a web origin, a host pattern, an SPKI pin or a file path. */
      item: ListItemKind;
      default: readonly string[];
      maxItems: number;
      description: string;
    };

/**
 * `origin`: scheme://host[:port] with no path; `hostPattern`: host, host:port or *.domain[:port];
 * `spkiPin`: base64 of a SHA-256 digest (44 characters); `path`: a file path (the environment's
 * comma-separated form cannot hold a path with a comma; a file's list can); `endpoint`: host:port,
 * with `/ftp` for an FTP endpoint ([v6]:port for IPv6).
 */
export type ListItemKind = 'origin' | 'hostPattern' | 'spkiPin' | 'path' | 'endpoint';

/**
 * `proxySetting`: "environment", "none", or an http:// proxy URL (scheme optional, as curl reads
 * it); `webUrl`: an http:// or https:// URL without credentials.
 */
export type StringFormat = 'proxySetting' | 'webUrl';

export interface SectionSpec {
  [key: string]: FieldSpec | SectionSpec;
}

export function isFieldSpec(spec: FieldSpec | SectionSpec): spec is FieldSpec {
  return typeof (spec as { type?: unknown }).type === 'string' && 'description' in spec;
}

const MIB = 1024 * 1024;

export const CONFIG_SCHEMA: SectionSpec = {
  dataDir: {
    type: 'string',
    default: './data',
    maxLength: 4096,
    description: 'Directory holding the database, TLS certificate and key, and persisted ports.',
  },
  log: {
    level: {
      type: 'enum',
      values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'Least severe log level written.',
    },
    pretty: {
      type: 'boolean',
      default: false,
      description:
        'Human-readable logs instead of JSON lines (always on when output is a terminal).',
    },
  },
  bindHost: {
    type: 'string',
    default: '0.0.0.0',
    maxLength: 255,
    description: 'Address every listener binds: 0.0.0.0 (all IPv4), :: (all), or one address.',
  },
  publicHost: {
    type: 'string',
    default: null,
    nullable: true,
    maxLength: 255,
    description:
      'Host name used in printed URLs and the generated certificate; default the machine host name.',
  },
  ports: {
    https: {
      type: 'portRange',
      default: '8443-8450',
      description: 'HTTPS API and dashboard port range.',
    },
    http: {
      type: 'portRange',
      default: '8080-8090',
      description: 'Plain HTTP port range (redirect to HTTPS, health, certificate download).',
    },
    mqtt: { type: 'portRange', default: '1883-1891', description: 'MQTT broker port range.' },
    apiProxy: {
      type: 'portRange',
      default: '8090-8099',
      description: 'API Proxy port range (reserved; never shares a port with another service).',
    },
  },
  tls: {
    certFile: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description:
        'Your own certificate chain (PEM). A self-signed certificate is generated when unset.',
    },
    keyFile: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description: 'Private key (PEM) of tls.certFile; set both or neither.',
    },
  },
  http: {
    bodyLimit: {
      type: 'integer',
      default: MIB,
      min: 1024,
      max: 64 * MIB,
      unit: 'bytes',
      description: 'Largest accepted request body.',
    },
    requestTimeoutMs: {
      type: 'integer',
      default: 30_000,
      min: 1000,
      max: 600_000,
      unit: 'ms',
      description: 'Time a request may take before it is answered 408.',
    },
    maxHeaderBytes: {
      type: 'integer',
      default: 16 * 1024,
      min: 4096,
      max: 64 * 1024,
      unit: 'bytes',
      description:
        'Largest accepted request head (request line and headers); a larger one is answered 431.',
    },
    corsOrigins: {
      type: 'list',
      item: 'origin',
      default: [],
      maxItems: 32,
      description:
        'Web origins (e.g. https://mes.example.com) whose pages may call the API with an API token. Empty: CORS off, browsers allow same-origin only. Never "*"; cookies are never shared cross-origin.',
    },
  },
  mqtt: {
    maxPacketBytes: {
      type: 'integer',
      default: 256 * 1024,
      min: 1024,
      max: 16 * MIB,
      unit: 'bytes',
      description: 'Largest accepted MQTT packet; a larger one closes only its sender.',
    },
    keepaliveLimitSeconds: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 65535,
      unit: 's',
      description: 'Longest keep-alive a device may ask for (0 = any).',
    },
    tls: {
      type: 'boolean',
      default: false,
      description:
        'Also listen for MQTT over TLS (the server certificate, TLS 1.2+) on the next free port of the MQTT range.',
    },
  },
  store: {
    driver: {
      type: 'enum',
      values: ['sqlite', 'postgres'],
      default: 'sqlite',
      description: 'Database: the embedded SQLite file, or PostgreSQL for several replicas.',
    },
    sqliteFile: {
      type: 'string',
      default: 'command-center.db',
      maxLength: 4096,
      description: 'SQLite file, relative to dataDir unless absolute.',
    },
    postgresUrl: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description: 'PostgreSQL connection URL (store.driver postgres).',
    },
  },
  storage: {
    minFreeMb: {
      type: 'integer',
      default: 100,
      min: 1,
      max: 1_048_576,
      unit: 'MB',
      description:
        'Free space kept on the data directory: below it writes are refused (507 STORAGE_FULL, devices keep their messages) until space is freed; below twice it storage shows low.',
    },
    checkIntervalSeconds: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 3600,
      unit: 's',
      description:
        'How often the free space is checked; writes resume at most this long after space is freed.',
    },
  },
  ingest: {
    batchDelayMs: {
      type: 'integer',
      default: 5,
      min: 0,
      max: 1000,
      unit: 'ms',
      description: 'Longest a write waits to be grouped with others into one transaction.',
    },
    batchMaxSize: {
      type: 'integer',
      default: 500,
      min: 1,
      max: 100_000,
      description: 'Most messages committed in one transaction.',
    },
    malformedLogIntervalMs: {
      type: 'integer',
      default: 60_000,
      min: 1000,
      max: 86_400_000,
      unit: 'ms',
      description:
        "A device's malformed payloads are logged at most once per interval (all are counted).",
    },
    metricsRetentionDays: {
      type: 'integer',
      default: 30,
      min: 1,
      max: 3650,
      unit: 'days',
      description: 'Metric samples older than this are deleted.',
    },
  },
  stream: {
    coalesceMs: {
      type: 'integer',
      default: 250,
      min: 10,
      max: 10_000,
      unit: 'ms',
      description: 'Live-stream device updates are merged and sent at most once per interval.',
    },
    maxBufferedBytes: {
      type: 'integer',
      default: 4 * MIB,
      min: 64 * 1024,
      max: 256 * MIB,
      unit: 'bytes',
      description: 'A stream client with more unsent data than this for long is disconnected.',
    },
  },
  auth: {
    sessionHours: {
      type: 'integer',
      default: 12,
      min: 1,
      max: 720,
      unit: 'h',
      description: 'A session ends this long after login.',
    },
    sessionIdleMinutes: {
      type: 'integer',
      default: 60,
      min: 1,
      max: 43_200,
      unit: 'min',
      description: 'A session ends after this long without use.',
    },
    loginMaxFailures: {
      type: 'integer',
      default: 5,
      min: 1,
      max: 1000,
      description:
        'Failed logins for one user name within 15 minutes, from any address, that lock the account.',
    },
    lockoutMinutes: {
      type: 'integer',
      default: 15,
      min: 1,
      max: 1440,
      unit: 'min',
      description:
        'How long the first lockout lasts; each further one in a row doubles it, up to a day.',
    },
  },
  devices: {
    pollActiveMs: {
      type: 'integer',
      default: 5000,
      min: 500,
      max: 3_600_000,
      unit: 'ms',
      description: 'Web Services poll interval of a device that is printing, paused or updating.',
    },
    pollIdleMs: {
      type: 'integer',
      default: 30_000,
      min: 500,
      max: 3_600_000,
      unit: 'ms',
      description: 'Web Services poll interval of an idle device.',
    },
    pollJitterPercent: {
      type: 'integer',
      default: 20,
      min: 0,
      max: 100,
      unit: '%',
      description:
        'Each interval is stretched or shrunk by up to this much, so devices never poll in lock-step.',
    },
    pollConcurrency: {
      type: 'integer',
      default: 64,
      min: 1,
      max: 4096,
      description: 'Most devices polled at the same time.',
    },
    requestTimeoutMs: {
      type: 'integer',
      default: 5000,
      min: 100,
      max: 120_000,
      unit: 'ms',
      description: 'Longest one Web Services request may take (connect, TLS, answer).',
    },
    maxResponseBytes: {
      type: 'integer',
      default: MIB,
      min: 4096,
      max: 64 * MIB,
      unit: 'bytes',
      description: 'A device answer larger than this is refused without being read.',
    },
    backoffMaxMs: {
      type: 'integer',
      default: 300_000,
      min: 1000,
      max: 86_400_000,
      unit: 'ms',
      description: 'Longest wait between polls of an unreachable device (exponential backoff).',
    },
    offlineAfterMs: {
      type: 'integer',
      default: 60_000,
      min: 1000,
      max: 86_400_000,
      unit: 'ms',
      description: 'A device heard from on no channel for this long is shown offline.',
    },
    commandTimeoutMs: {
      type: 'integer',
      default: 15_000,
      min: 1000,
      max: 600_000,
      unit: 'ms',
      description: 'A command with no answer from the device by then is recorded as timed out.',
    },
    discoveryConcurrency: {
      type: 'integer',
      default: 64,
      min: 1,
      max: 1024,
      description: 'Most addresses probed at the same time by device discovery.',
    },
  },
  apiProxy: {
    enabled: {
      type: 'boolean',
      default: true,
      description:
        "Serve the API Proxy (integration tokens with proxy scope call devices' Web Services) on the first free port of ports.apiProxy.",
    },
    maxBodyBytes: {
      type: 'integer',
      default: MIB,
      min: 1024,
      max: 64 * MIB,
      unit: 'bytes',
      description: 'Largest request body forwarded to a device; a larger one is answered 413.',
    },
    maxResponseBytes: {
      type: 'integer',
      default: MIB,
      min: 4096,
      max: 64 * MIB,
      unit: 'bytes',
      description:
        'Largest device answer passed back; a larger one is cut off and answered 502 DEVICE_RESPONSE_TOO_LARGE.',
    },
    timeoutMs: {
      type: 'integer',
      default: 10_000,
      min: 100,
      max: 300_000,
      unit: 'ms',
      description:
        'Longest one proxied call may take (connect, TLS, request, answer); then 504 DEVICE_TIMEOUT.',
    },
    ratePerMinute: {
      type: 'integer',
      default: 120,
      min: 1,
      max: 100_000,
      description: 'Calls one API token may make per minute (bursts up to this many); then 429.',
    },
    concurrencyPerDevice: {
      type: 'integer',
      default: 4,
      min: 1,
      max: 64,
      description:
        'Proxied calls in flight to one device at a time (its connection pool); more are answered 503.',
    },
  },
  uplink: {
    enabled: {
      type: 'boolean',
      default: true,
      description:
        'Send status and health reports to the vendor cloud once enrolled (nothing is sent before enrollment).',
    },
    endpoint: {
      type: 'string',
      default: 'https://www.printos.com/command-center',
      maxLength: 2048,
      description:
        'Base URL of the vendor cloud (https only); enrollment may name another allow-listed one.',
    },
    allowedHosts: {
      type: 'list',
      item: 'hostPattern',
      default: ['www.printos.com', '3dpconf.heleni.me', '*.amazonaws.com'],
      maxItems: 32,
      description:
        'The only hosts the uplink may connect to (host, host:port or *.domain; port 443 when none is given). Any other host, and any redirect leaving the list, is refused.',
    },
    spkiPins: {
      type: 'list',
      item: 'spkiPin',
      default: [],
      maxItems: 8,
      description:
        'Optional SHA-256 pins (base64) of the cloud certificate public key; when set, a certificate matching none is refused even if its chain is valid.',
    },
    caFile: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description:
        'Extra CA certificate (PEM) trusted for the cloud, e.g. a private cloud or the reference receiver; the CAs bundled with Node.js stay trusted.',
    },
    proxy: {
      type: 'string',
      default: 'environment',
      maxLength: 2048,
      format: 'proxySetting',
      description:
        '"environment" (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), "none", or a proxy URL http://[user:password@]host:port.',
    },
    noProxy: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description:
        'Hosts that bypass an explicit uplink.proxy (NO_PROXY syntax); with "environment", NO_PROXY applies.',
    },
    intervalSeconds: {
      type: 'integer',
      default: 300,
      min: 5,
      max: 86_400,
      unit: 's',
      description: 'Time between periodic reports.',
    },
    timeoutMs: {
      type: 'integer',
      default: 30_000,
      min: 1000,
      max: 300_000,
      unit: 'ms',
      description: 'Longest one delivery may take (proxy, TLS, answer).',
    },
    outboxMaxBytes: {
      type: 'integer',
      default: 64 * MIB,
      min: 64 * 1024,
      max: 4096 * MIB,
      unit: 'bytes',
      description:
        'Disk the outbox may use; beyond it the oldest periodic reports are dropped first (critical ones kept), with an alert.',
    },
    outboxMaxItems: {
      type: 'integer',
      default: 20_000,
      min: 10,
      max: 1_000_000,
      description: 'Reports the outbox may hold (same policy as outboxMaxBytes).',
    },
    drainPerMinute: {
      type: 'integer',
      default: 120,
      min: 1,
      max: 6000,
      description: 'Reports sent per minute at most while the outbox drains after an outage.',
    },
    backoffMaxSeconds: {
      type: 'integer',
      default: 900,
      min: 5,
      max: 86_400,
      unit: 's',
      description: 'Longest wait between retries while the cloud or the proxy is unreachable.',
    },
  },
  firmware: {
    trustedKeys: {
      type: 'list',
      item: 'path',
      default: [],
      maxItems: 16,
      description:
        'Vendor public keys (Ed25519, SPKI PEM files) whose signatures admit a firmware package. Empty: every upload and sync is refused, since firmware is never accepted unverified.',
    },
    retiredKeys: {
      type: 'list',
      item: 'path',
      default: [],
      maxItems: 16,
      description:
        'Retired vendor public keys (PEM files): still recognized, but their signatures no longer count (key rotation).',
    },
    threshold: {
      type: 'integer',
      default: 1,
      min: 1,
      max: 16,
      description:
        'Signatures from distinct trusted keys a package needs (k of n); at most the number of firmware.trustedKeys.',
    },
    maxPackageBytes: {
      type: 'integer',
      default: 512 * MIB,
      min: MIB,
      max: 4096 * MIB,
      unit: 'bytes',
      description:
        'Largest firmware package accepted by upload or sync; a larger one is refused (413 FIRMWARE_TOO_LARGE) as soon as it passes the limit.',
    },
    syncUrl: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 2048,
      description:
        'Vendor firmware repository to sync the catalog from: https://host/path/ (reads index.json there) or ftp://[user:password@]host[:port]/path/ (lists *.tar files). Null: no sync.',
    },
    syncIntervalMinutes: {
      type: 'integer',
      default: 1440,
      min: 0,
      max: 43_200,
      unit: 'min',
      description: 'Time between catalog syncs when firmware.syncUrl is set; 0: manual only.',
    },
    allowedHosts: {
      type: 'list',
      item: 'hostPattern',
      default: ['h19002.www1.hp.com', 'h19002.www1.hp.com:21'],
      maxItems: 32,
      description:
        'The only hosts the catalog sync may connect to (host, host:port or *.domain; a bare host means port 443, write host:21 for FTP). Checked before any connection, and for every redirect.',
    },
    caFile: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 4096,
      description:
        'Extra CA certificate (PEM) trusted for an https:// firmware repository (e.g. a private mirror); the CAs bundled with Node.js stay trusted.',
    },
    proxy: {
      type: 'string',
      default: 'environment',
      maxLength: 2048,
      format: 'proxySetting',
      description:
        'Proxy for https:// sync: "environment" (HTTPS_PROXY, NO_PROXY), "none", or http://[user:password@]host:port. FTP always connects directly.',
    },
    downloadTimeoutSeconds: {
      type: 'integer',
      default: 900,
      min: 5,
      max: 86_400,
      unit: 's',
      description:
        'Longest one package download may take during a sync; then it is abandoned and reported.',
    },
    syncTimeoutSeconds: {
      type: 'integer',
      default: 3600,
      min: 10,
      max: 86_400,
      unit: 's',
      description:
        'Longest a whole sync may take; packages not reached by then wait for the next sync.',
    },
    rolloutPushTimeoutSeconds: {
      type: 'integer',
      default: 900,
      min: 10,
      max: 86_400,
      unit: 's',
      description:
        'Longest one device may take in a rollout, from transfer to reporting the new version; then it is marked failed.',
    },
    rolloutMaxConcurrency: {
      type: 'integer',
      default: 16,
      min: 1,
      max: 256,
      description:
        'Most devices a rollout may update at once (a rollout that gives no concurrency uses 4).',
    },
  },
  doctor: {
    endpoints: {
      type: 'list',
      item: 'endpoint',
      default: [
        'www.printos.com:443',
        '3dpconf.heleni.me:443',
        's3.amazonaws.com:443',
        'h19002.www1.hp.com:21/ftp',
      ],
      maxItems: 32,
      description:
        'Endpoints the network doctor checks (host:port for HTTPS, host:port/ftp for FTP); the first HTTPS one that answers is the clock reference.',
    },
    timeoutMs: {
      type: 'integer',
      default: 5000,
      min: 100,
      max: 120_000,
      unit: 'ms',
      description:
        'Timeout of each doctor check; a whole run is bounded by ten times this (two paths of each endpoint run a few at a time).',
    },
    bandwidthUrl: {
      type: 'string',
      default: null,
      nullable: true,
      maxLength: 2048,
      format: 'webUrl',
      description:
        'A large file (http:// or https://) the doctor downloads, through the proxy when one applies, to estimate bandwidth; null skips the estimate.',
    },
    minBandwidthKbps: {
      type: 'integer',
      default: 2000,
      min: 64,
      max: 10_000_000,
      unit: 'kbit/s',
      description: 'The "DSL or better" requirement: a slower download is a doctor warning.',
    },
  },
  demo: {
    enabled: {
      type: 'boolean',
      default: false,
      description: 'Run a simulated fleet in the same process (npm start turns it on).',
    },
    devices: {
      type: 'integer',
      default: 12,
      min: 0,
      max: 1000,
      description: 'Size of the demo fleet.',
    },
    cloud: {
      type: 'boolean',
      default: true,
      description:
        'With demo.enabled, also run the reference cloud receiver on 127.0.0.1 and point the uplink at it (enroll from the Cloud page with the organization and token printed at start).',
    },
    speed: {
      type: 'integer',
      default: 20,
      min: 1,
      max: 1000,
      description: 'Time multiplier of the demo fleet (20: a two-hour build takes six minutes).',
    },
  },
};

/** Every field with its dotted key, in schema order. */
export function listFields(
  spec: SectionSpec = CONFIG_SCHEMA,
  prefix = '',
): Array<[string, FieldSpec]> {
  const out: Array<[string, FieldSpec]> = [];
  for (const [key, child] of Object.entries(spec)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isFieldSpec(child)) out.push([path, child]);
    else out.push(...listFields(child, path));
  }
  return out;
}

/** `ingest.batchDelayMs` → `CC_INGEST__BATCH_DELAY_MS`. */
export function envName(key: string): string {
  return `CC_${key
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('__')}`;
}

/** `CC_INGEST__BATCH_DELAY_MS` → `ingest.batchDelayMs`; null when the name is not of that form. */
export function keyForEnvName(name: string): string | null {
  if (!/^CC_[A-Z][A-Z0-9]*(_[A-Z][A-Z0-9]*)*(__[A-Z][A-Z0-9]*(_[A-Z][A-Z0-9]*)*)*$/.test(name))
    return null;
  return name
    .slice(3)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()))
    .join('.');
}
