// The declared classification of every field an uplink report can carry: the one table the
// classifier applies (classify.ts) and docs/protocols/uplink-report.md is generated from. A field
// missing here cannot leave the site: the classifier refuses undeclared paths.

import {
  ALERT_SEVERITIES,
  CONSUMABLE_STATUSES,
  DEVICE_KINDS,
  DEVICE_STATES,
  JOB_STATES,
} from '../../domain/index.js';

/** What the customer can consent to share in clear, one switch per category. */
export const CONSENT_CATEGORIES = [
  'identity',
  'production',
  'labels',
  'network',
  'freeText',
] as const;
export type ConsentCategory = (typeof CONSENT_CATEGORIES)[number];

export const CONSENT_CATEGORY_DESCRIPTIONS: Readonly<Record<ConsentCategory, string>> = {
  identity: 'names of people: job owners, users who acknowledged an alert',
  production: 'what the site builds: job names (usually the part or file name)',
  labels: 'ids and names the site gave its devices and sites',
  network: 'the server host name and addresses, device Web Services addresses',
  freeText: 'text written by people or devices that may hold anything: alert messages',
};

export type FieldClass = 'anonymous' | ConsentCategory;

/**
 * `keep`: sent as is (anonymous fields only). `pseudonymize`: replaced by a keyed hash, so equal
 * values stay correlatable while the value stays at the site. `drop`: left out.
 */
export type WithoutConsent = 'keep' | 'pseudonymize' | 'drop';

/**
 * One report field: its path (`a.b` for an object member, `a[]` for the items of a list of
 * objects), its class and what is sent without consent for that class. A non-anonymous field is
 * a string, null or a list of strings; with consent for its class its clear value is sent.
 */
export type FieldRule =
  | { path: string; class: 'anonymous'; withoutConsent: 'keep'; description: string }
  | {
      path: string;
      class: ConsentCategory;
      withoutConsent: 'pseudonymize' | 'drop';
      description: string;
    };

function anonymous(path: string, description: string): FieldRule {
  return { path, class: 'anonymous', withoutConsent: 'keep', description };
}

function pseudonymized(path: string, category: ConsentCategory, description: string): FieldRule {
  return { path, class: category, withoutConsent: 'pseudonymize', description };
}

function dropped(path: string, category: ConsentCategory, description: string): FieldRule {
  return { path, class: category, withoutConsent: 'drop', description };
}

function oneOf(values: readonly string[]): string {
  return `${values.slice(0, -1).join(', ')} or ${values.at(-1) ?? ''}`;
}

/** Counts keyed by an enumerated value: one declared field per key, absent when zero. */
function counts(prefix: string, keys: readonly string[], what: string): FieldRule[] {
  return keys.map((k) => anonymous(`${prefix}.${k}`, `${what} ${k} (absent when 0)`));
}

/** An alert as reported, in the device list and as the trigger of a critical report. */
function alertFields(prefix: string): FieldRule[] {
  return [
    anonymous(`${prefix}.code`, 'machine-readable alert code set by the device maker'),
    anonymous(`${prefix}.severity`, oneOf(ALERT_SEVERITIES)),
    anonymous(`${prefix}.acked`, 'whether someone acknowledged the alert'),
    pseudonymized(`${prefix}.ackedBy`, 'identity', 'user who acknowledged it (absent when nobody)'),
    dropped(`${prefix}.message`, 'freeText', 'alert text: may quote names, paths or notes'),
  ];
}

// Frozen: the table is the policy, and nothing at run time may add to or loosen it.
export const REPORT_FIELDS: readonly FieldRule[] = Object.freeze(
  [
    anonymous('v', 'report format version (1)'),
    anonymous('kind', 'periodic (every 5 minutes) or critical (sent when a critical alert opens)'),
    anonymous('generatedAt', 'RFC 3339 UTC time the report was built'),
    anonymous('since', 'RFC 3339 UTC start of the window the job counts cover'),

    anonymous('fleet.devices', 'number of devices in the fleet'),
    ...counts('fleet.states', DEVICE_STATES, 'devices in state'),
    ...counts('fleet.jobs', JOB_STATES, 'jobs of the window now in state'),
    ...counts('fleet.alerts', ALERT_SEVERITIES, 'open alerts of severity'),

    pseudonymized('trigger.device', 'labels', 'id of the device the alert is on'),
    anonymous(
      'trigger.raisedAt',
      'RFC 3339 UTC time the alert was raised (null: not a valid time)',
    ),
    ...alertFields('trigger'),

    pseudonymized('devices[].id', 'labels', 'device id: set by the site, may carry names'),
    dropped('devices[].name', 'labels', 'display name typed by people'),
    pseudonymized('devices[].site', 'labels', 'id of the site the device belongs to (null: none)'),
    anonymous('devices[].kind', oneOf(DEVICE_KINDS)),
    anonymous('devices[].model', 'model, as set by the device maker'),
    anonymous('devices[].serial', 'serial number, as set by the device maker'),
    dropped('devices[].address', 'network', 'Web Services base URL (host name or IP address)'),
    anonymous('devices[].state', oneOf(DEVICE_STATES)),
    anonymous('devices[].firmware', 'installed firmware version'),
    anonymous('devices[].seenAgoS', 'seconds since the device was last heard from (null: never)'),

    pseudonymized('devices[].job.name', 'production', 'name of the current job'),
    pseudonymized('devices[].job.owner', 'identity', 'user who submitted the current job'),
    anonymous('devices[].job.state', oneOf(JOB_STATES)),
    anonymous('devices[].job.progress', 'progress, 0–100'),
    anonymous('devices[].job.layer', 'current layer (null: unknown)'),
    anonymous('devices[].job.layers', 'total layers (null: unknown)'),
    anonymous('devices[].job.materialG', 'material used so far, grams (null: unknown)'),
    anonymous('devices[].job.remainingS', 'seconds to the estimated end (null: unknown)'),
    ...counts('devices[].jobs', JOB_STATES, 'jobs of the window now in state'),

    anonymous('devices[].consumables[].slot', 'slot name, as set by the device maker'),
    anonymous('devices[].consumables[].type', 'agent, printhead, material, filter, lamp …'),
    anonymous('devices[].consumables[].level', 'level, 0–100'),
    anonymous('devices[].consumables[].status', oneOf(CONSUMABLE_STATUSES)),

    ...alertFields('devices[].alerts[]'),
    anonymous('devices[].alerts[].ageS', 'seconds since the alert was raised'),
    anonymous('devices[].moreAlerts', 'open alerts left out of the list to bound its size'),

    anonymous('server.version', 'Command Center version'),
    anonymous('server.runtime', 'Node.js version'),
    anonymous('server.uptimeS', 'seconds since the server started'),
    pseudonymized('server.hostName', 'network', 'host name of the server'),
    dropped('server.addresses', 'network', 'IP addresses of the server'),
    anonymous('server.health.storeReady', 'whether the store answered its last check'),
    anonymous('server.health.mqttClients', 'MQTT clients connected now'),
    anonymous('server.health.malformedMessages', 'malformed device messages dropped in the window'),
    anonymous('server.health.outboxPending', 'sealed reports waiting to be sent'),
    anonymous('server.health.rssBytes', 'resident memory of the server process, bytes'),
    anonymous('server.health.load1', 'one-minute load average of the host'),
    anonymous('server.health.diskFreeBytes', 'free bytes on the data directory (null: unknown)'),
  ].map((rule) => Object.freeze(rule)),
);
