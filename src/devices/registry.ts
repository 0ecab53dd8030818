// The device registry: devices an admin added by their Web Services address, the certificate
// pinned for each (trust on first use, confirmed by an admin), their sealed credential, and the
// name and site the admin gave them. A changed certificate stops polling and raises an alert until
// an admin approves the new one.

import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../auth/index.js';
import { CcError, toIso, type FleetState, type FleetUpdate } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import type { AuditEntry, DeviceRegistration, Store } from '../store/index.js';
import { normalizeFingerprint } from './fingerprint.js';
import {
  normalizeBaseUrl,
  type DeviceEndpoint,
  type ProbeResult,
  type WsClient,
} from './ws-client.js';

export const CERTIFICATE_CHANGED = 'CERTIFICATE_CHANGED';

/** The part of ingest the registry uses: apply changes to fleet state durably. */
export interface FleetPort {
  mutate(change: (fleet: FleetState) => FleetUpdate | readonly FleetUpdate[]): Promise<void>;
}

/** Who asks, for the audit log. */
export interface Actor {
  name: string;
  source: string | null;
}

export const SYSTEM_ACTOR: Actor = { name: 'system', source: null };

export interface AddDeviceRequest {
  url: string;
  username: string;
  password: string;
  /** When given, the certificate is pinned at once if it matches; otherwise an admin confirms. */
  fingerprint?: string;
  name?: string | null;
  siteId?: string | null;
}

/** What clients see of a registration: never the credential. */
export interface RegistrationView {
  deviceId: string;
  baseUrl: string | null;
  pinState: DeviceRegistration['pinState'];
  fingerprint256: string | null;
  presentedFingerprint256: string | null;
  displayName: string | null;
  siteId: string | null;
  hasCredential: boolean;
  createdAt: string;
  updatedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
}

export interface AddDeviceResult {
  registration: RegistrationView;
  identity: ProbeResult['identity'];
  certificate: ProbeResult['certificate'] & { fingerprint256: string };
}

/** The poller's side of the registry: told when a device may or may not be polled. */
export interface PollControl {
  schedule(deviceId: string): void;
  unschedule(deviceId: string): void;
}

export interface DeviceRegistryDeps {
  store: Store;
  fleet: FleetPort;
  client: WsClient;
  secrets: SecretBox;
  logger: Logger;
  now?: () => number;
}

export interface DeviceRegistry {
  probe(url: string): Promise<ProbeResult & { baseUrl: string }>;
  add(request: AddDeviceRequest, actor: Actor): Promise<AddDeviceResult>;
  /** Pins the fingerprint the device presented; `fingerprint` must be exactly that one. */
  approve(deviceId: string, fingerprint: string, actor: Actor): Promise<RegistrationView>;
  update(
    deviceId: string,
    changes: { name?: string | null; siteId?: string | null; username?: string; password?: string },
    actor: Actor,
  ): Promise<RegistrationView>;
  remove(deviceId: string, actor: Actor): Promise<void>;
  get(deviceId: string): Promise<RegistrationView | undefined>;
  list(): Promise<RegistrationView[]>;
  /** Where and how to reach a pinned device; undefined when it is not (or no longer) polled. */
  endpoint(deviceId: string): Promise<DeviceEndpoint | undefined>;
  /** Devices that may be polled now. */
  pollable(): Promise<string[]>;
  /** The poller saw another certificate: stop trusting it, tell the admin. */
  reportMismatch(deviceId: string, presented: string): Promise<void>;
  /** Connects the poller (set once at wiring). */
  attachPoller(control: PollControl): void;
  /** Applies every registration's name, site and address to fleet state (at start). */
  load(): Promise<void>;
}

function credentialContext(deviceId: string): string {
  return `device-credential:${deviceId}`;
}

export function viewOf(r: DeviceRegistration): RegistrationView {
  return {
    deviceId: r.deviceId,
    baseUrl: r.baseUrl,
    pinState: r.pinState,
    fingerprint256: r.fingerprint256,
    presentedFingerprint256: r.presentedFingerprint256,
    displayName: r.displayName,
    siteId: r.siteId,
    hasCredential: r.credentialSealed !== null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    approvedBy: r.approvedBy,
    approvedAt: r.approvedAt,
  };
}

const NAME_MAX = 256;
const SITE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkName(name: string | null | undefined): string | null | undefined {
  if (name === undefined || name === null) return name;
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > NAME_MAX || /[\u0000-\u001f]/.test(trimmed)) {
    throw new CcError('VALIDATION_FAILED', `a device name is 1–${NAME_MAX} printable characters`);
  }
  return trimmed;
}

function checkSite(siteId: string | null | undefined): string | null | undefined {
  if (siteId === undefined || siteId === null) return siteId;
  if (!SITE_PATTERN.test(siteId)) {
    throw new CcError(
      'VALIDATION_FAILED',
      'a site id is 1–64 of A-Z a-z 0-9 . _ - and starts with a letter or digit',
    );
  }
  return siteId;
}

function checkCredential(username: string, password: string): void {
  if (username.length === 0 || username.length > 128 || username.includes(':')) {
    throw new CcError('VALIDATION_FAILED', 'the device user name is 1–128 characters without ":"');
  }
  if (password.length === 0 || password.length > 1024) {
    throw new CcError('VALIDATION_FAILED', 'the device password is 1–1024 characters');
  }
}

export function createDeviceRegistry(deps: DeviceRegistryDeps): DeviceRegistry {
  const { store, fleet, client, secrets } = deps;
  const log = deps.logger;
  const now = deps.now ?? Date.now;
  let poller: PollControl | undefined;

  async function audit(
    actor: Actor,
    action: string,
    target: string,
    outcome: AuditEntry['outcome'],
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await store.audit.append({
      id: randomUUID(),
      at: toIso(now()),
      actor: actor.name,
      action,
      target,
      outcome,
      source: actor.source,
      details,
    });
  }

  async function mustGet(deviceId: string): Promise<DeviceRegistration> {
    const reg = await store.registrations.get(deviceId);
    if (reg === undefined) {
      throw new CcError('DEVICE_NOT_FOUND', `no device ${deviceId} is registered`);
    }
    return reg;
  }

  async function applySettings(reg: DeviceRegistration): Promise<void> {
    await fleet.mutate((f) =>
      f.configure(reg.deviceId, {
        displayName: reg.displayName,
        siteId: reg.siteId,
        address: reg.baseUrl,
      }),
    );
  }

  async function probe(url: string): Promise<ProbeResult & { baseUrl: string }> {
    const baseUrl = normalizeBaseUrl(url);
    const result = await client.probe(baseUrl);
    return { ...result, baseUrl };
  }

  return {
    probe,

    async add(request, actor) {
      checkCredential(request.username, request.password);
      const displayName = checkName(request.name) ?? null;
      const siteId = checkSite(request.siteId) ?? null;
      const expected =
        request.fingerprint === undefined ? undefined : normalizeFingerprint(request.fingerprint);
      const found = await probe(request.url);
      const deviceId = found.identity.id;
      const existing = await store.registrations.get(deviceId);
      if (existing?.baseUrl != null) {
        throw new CcError(
          'DEVICE_EXISTS',
          `device ${deviceId} is already registered at ${existing.baseUrl}`,
        );
      }
      if (expected !== undefined && expected !== found.fingerprint256) {
        await audit(actor, 'device.add', deviceId, 'refused', {
          baseUrl: found.baseUrl,
          expected,
          presented: found.fingerprint256,
        });
        throw new CcError(
          'CONFLICT',
          `the certificate of ${found.baseUrl} has fingerprint ${found.fingerprint256}, not ${expected}`,
        );
      }
      const at = toIso(now());
      const pinned = expected !== undefined;
      const reg: DeviceRegistration = {
        deviceId,
        baseUrl: found.baseUrl,
        pinState: pinned ? 'pinned' : 'pending',
        fingerprint256: pinned ? found.fingerprint256 : null,
        presentedFingerprint256: pinned ? null : found.fingerprint256,
        credentialSealed: secrets.seal(
          JSON.stringify({ username: request.username, password: request.password }),
          credentialContext(deviceId),
        ),
        displayName: displayName ?? existing?.displayName ?? null,
        siteId: siteId ?? existing?.siteId ?? null,
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
        approvedBy: pinned ? actor.name : null,
        approvedAt: pinned ? at : null,
      };
      await store.registrations.put(reg);
      await applySettings(reg);
      await audit(actor, 'device.add', deviceId, 'ok', {
        baseUrl: reg.baseUrl,
        fingerprint256: found.fingerprint256,
        pinned,
      });
      log.info({ deviceId, baseUrl: reg.baseUrl, pinned }, 'device added');
      if (pinned) poller?.schedule(deviceId);
      return {
        registration: viewOf(reg),
        identity: found.identity,
        certificate: { ...found.certificate, fingerprint256: found.fingerprint256 },
      };
    },

    async approve(deviceId, fingerprint, actor) {
      const reg = await mustGet(deviceId);
      const wanted = normalizeFingerprint(fingerprint);
      if (reg.presentedFingerprint256 === null) {
        throw new CcError('CONFLICT', `device ${deviceId} has no certificate waiting for approval`);
      }
      if (wanted !== reg.presentedFingerprint256) {
        await audit(actor, 'device.approve', deviceId, 'refused', {
          presented: reg.presentedFingerprint256,
          given: wanted,
        });
        throw new CcError(
          'CONFLICT',
          `device ${deviceId} presented ${reg.presentedFingerprint256}, not ${wanted}`,
        );
      }
      const at = toIso(now());
      const next: DeviceRegistration = {
        ...reg,
        pinState: 'pinned',
        fingerprint256: wanted,
        presentedFingerprint256: null,
        updatedAt: at,
        approvedBy: actor.name,
        approvedAt: at,
      };
      await store.registrations.put(next);
      await fleet.mutate((f) => f.clearServerAlert(deviceId, CERTIFICATE_CHANGED, at));
      await audit(actor, 'device.approve', deviceId, 'ok', {
        fingerprint256: wanted,
        previous: reg.fingerprint256,
      });
      if (reg.baseUrl !== null) await client.forget(reg.baseUrl);
      poller?.schedule(deviceId);
      return viewOf(next);
    },

    async update(deviceId, changes, actor) {
      const reg =
        (await store.registrations.get(deviceId)) ??
        (await (async (): Promise<DeviceRegistration> => {
          // A device known only over MQTT gets a registration for its name and site.
          if ((await store.devices.get(deviceId)) === undefined) {
            throw new CcError('DEVICE_NOT_FOUND', `no device ${deviceId}`);
          }
          const at = toIso(now());
          return {
            deviceId,
            baseUrl: null,
            pinState: 'none',
            fingerprint256: null,
            presentedFingerprint256: null,
            credentialSealed: null,
            displayName: null,
            siteId: null,
            createdAt: at,
            updatedAt: at,
            approvedBy: null,
            approvedAt: null,
          };
        })());
      const name = checkName(changes.name);
      const siteId = checkSite(changes.siteId);
      let credentialSealed = reg.credentialSealed;
      if (changes.username !== undefined || changes.password !== undefined) {
        if (changes.username === undefined || changes.password === undefined) {
          throw new CcError('VALIDATION_FAILED', 'give both the device user name and password');
        }
        checkCredential(changes.username, changes.password);
        credentialSealed = secrets.seal(
          JSON.stringify({ username: changes.username, password: changes.password }),
          credentialContext(deviceId),
        );
      }
      const next: DeviceRegistration = {
        ...reg,
        displayName: name === undefined ? reg.displayName : name,
        siteId: siteId === undefined ? reg.siteId : siteId,
        credentialSealed,
        updatedAt: toIso(now()),
      };
      await store.registrations.put(next);
      await applySettings(next);
      await audit(actor, 'device.update', deviceId, 'ok', {
        ...(name !== undefined ? { name } : {}),
        ...(siteId !== undefined ? { siteId } : {}),
        ...(credentialSealed !== reg.credentialSealed ? { credential: 'changed' } : {}),
      });
      if (credentialSealed !== reg.credentialSealed && next.pinState === 'pinned') {
        poller?.schedule(deviceId);
      }
      return viewOf(next);
    },

    async remove(deviceId, actor) {
      const reg = await store.registrations.get(deviceId);
      const known = await store.devices.get(deviceId);
      if (reg === undefined && known === undefined) {
        throw new CcError('DEVICE_NOT_FOUND', `no device ${deviceId}`);
      }
      poller?.unschedule(deviceId);
      if (reg?.baseUrl != null) await client.forget(reg.baseUrl);
      await store.devices.remove(deviceId);
      await store.registrations.remove(deviceId);
      await fleet.mutate((f) => f.remove(deviceId));
      await audit(actor, 'device.remove', deviceId, 'ok', { baseUrl: reg?.baseUrl ?? null });
      log.info({ deviceId }, 'device removed');
    },

    async get(deviceId) {
      const reg = await store.registrations.get(deviceId);
      return reg && viewOf(reg);
    },

    async list() {
      return (await store.registrations.all()).map(viewOf);
    },

    async endpoint(deviceId) {
      const reg = await store.registrations.get(deviceId);
      if (reg?.pinState !== 'pinned' || reg.baseUrl === null || reg.fingerprint256 === null) {
        return undefined;
      }
      if (reg.credentialSealed === null) return undefined;
      const opened = JSON.parse(
        secrets.open(reg.credentialSealed, credentialContext(deviceId)),
      ) as { username: string; password: string };
      return {
        baseUrl: reg.baseUrl,
        fingerprint256: reg.fingerprint256,
        credential: { username: opened.username, password: opened.password },
      };
    },

    async pollable() {
      return (await store.registrations.all())
        .filter((r) => r.pinState === 'pinned' && r.baseUrl !== null)
        .map((r) => r.deviceId);
    },

    async reportMismatch(deviceId, presented) {
      const reg = await store.registrations.get(deviceId);
      if (reg === undefined) return;
      poller?.unschedule(deviceId);
      if (reg.pinState === 'mismatch' && reg.presentedFingerprint256 === presented) return;
      const at = toIso(now());
      await store.registrations.put({
        ...reg,
        pinState: 'mismatch',
        presentedFingerprint256: presented,
        updatedAt: at,
      });
      await fleet.mutate((f) =>
        f.raiseServerAlert(
          deviceId,
          {
            code: CERTIFICATE_CHANGED,
            severity: 'critical',
            message:
              `The device presented a different certificate (${presented}); polling stopped ` +
              'until an admin approves it.',
          },
          at,
        ),
      );
      await audit(SYSTEM_ACTOR, 'device.certificate-changed', deviceId, 'refused', {
        pinned: reg.fingerprint256,
        presented,
      });
      log.warn(
        { deviceId, pinned: reg.fingerprint256, presented },
        'device certificate changed; polling stopped until an admin approves it',
      );
    },

    attachPoller(control) {
      poller = control;
    },

    async load() {
      for (const reg of await store.registrations.all()) await applySettings(reg);
    },
  };
}
