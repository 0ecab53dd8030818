// Who may connect and what each device may do: the aedes hooks for authentication, the per-device
// ACL, and the ingest hook that makes a QoS 1 PUBACK mean "committed to the store".

import type { AedesOptions, AuthenticateError, Client, PublishPacket } from 'aedes';
import type { Logger } from '../observability/index.js';
import { CcError, isCcError, isValidDeviceId } from '../domain/index.js';
import type { Ingest } from '../ingest/ingest-types.js';
import type { DeviceCredentialRepository } from '../store/store.js';
import type { BrokerMetrics } from './broker-metrics.js';
import { verifyDeviceToken } from './device-tokens.js';
import { canDevicePublish, canDeviceSubscribe } from './device-topics.js';

// MQTT 3.1.1 CONNACK return codes (§3.2.2.3).
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export interface DeviceAccessDeps {
  log: Logger;
  metrics: BrokerMetrics;
  credentials: DeviceCredentialRepository;
  ingest: Pick<Ingest, 'handle'>;
}

export type DeviceAccessHooks = Required<
  Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
>;

export interface DeviceAccess {
  hooks: DeviceAccessHooks;
  /** True for the payload of a message ingest refused: it is neither retained nor forwarded. */
  isDropped(payload: Buffer | string): boolean;
}

/** aedes reads `returnCode` (2–5) from the error to fill the CONNACK. */
function refusal(returnCode: number, message: string): AuthenticateError {
  const err = new Error(message);
  // Defined rather than assigned: aedes types the field as an ambient const enum.
  Object.defineProperty(err, 'returnCode', { value: returnCode, enumerable: true });
  return err as AuthenticateError;
}

/** Ids in log lines come from the network: keep them short and printable. */
export function printable(value: string | undefined | null): string | undefined {
  return value == null ? undefined : value.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');
}

export function createDeviceAccess(deps: DeviceAccessDeps): DeviceAccess {
  const { log, metrics } = deps;
  // Payload buffers of messages ingest refused: aedes copies the payload reference into every
  // packet it derives for retained storage and delivery, so marking the buffer marks them all.
  const dropped = new WeakSet<Buffer>();
  // The CONNECT's will, seen in preConnect and checked in authenticate: aedes itself checks a will
  // only when it publishes it, and a device must not leave a will it could not publish.
  const willTopics = new WeakMap<Client, string>();

  const authenticate: DeviceAccessHooks['authenticate'] = (client, username, password, done) => {
    const fail = (reason: string, returnCode: number): void => {
      metrics.authFailures.inc({ reason });
      log.warn(
        { deviceId: printable(username), clientId: printable(client.id), reason },
        'MQTT connection refused',
      );
      done(refusal(returnCode, `connection refused: ${reason}`), false);
    };
    if (username === undefined || username === '' || password === undefined) {
      fail('missing-credentials', BAD_USERNAME_OR_PASSWORD);
      return;
    }
    if (!isValidDeviceId(username)) {
      fail('invalid-device-id', BAD_USERNAME_OR_PASSWORD);
      return;
    }
    // One session per device: the client id is the device id, so a reconnecting device takes
    // over its previous session instead of running two (MQTT-3.1.4-2).
    if (client.id !== username) {
      fail('client-id-mismatch', IDENTIFIER_REJECTED);
      return;
    }
    const willTopic = willTopics.get(client);
    if (willTopic !== undefined && !canDevicePublish(username, willTopic)) {
      fail('will-topic-denied', NOT_AUTHORIZED);
      return;
    }
    verifyDeviceToken(deps.credentials, username, password.toString('utf8')).then(
      (ok) => {
        if (ok) done(null, true);
        else fail('bad-token', BAD_USERNAME_OR_PASSWORD);
      },
      (err: unknown) => {
        metrics.authFailures.inc({ reason: 'store-error' });
        log.error({ err, deviceId: username }, 'device credential lookup failed');
        done(refusal(SERVER_UNAVAILABLE, 'credential store unavailable'), false);
      },
    );
  };

  const authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ): void => {
    // aedes publishes a will left by a client that is already gone with a null client; the will
    // packet then carries the client id, which is the device id.
    const deviceId = client?.id ?? (packet as { clientId?: string }).clientId;
    const target = deviceId === undefined ? undefined : canDevicePublish(deviceId, packet.topic);
    if (deviceId === undefined || target === undefined) {
      metrics.aclDenials.inc({ action: 'publish' });
      log.warn(
        { deviceId: printable(deviceId), topic: printable(packet.topic) },
        'publish outside the device prefix refused; closing the connection',
      );
      callback(new CcError('FORBIDDEN', 'publish not allowed on this topic'));
      return;
    }
    if (target.kind === 'command-result') {
      // A result answers one command once; retaining it would replay a stale answer.
      packet.retain = false;
      metrics.messagesIn.inc({ channel: 'command-result' });
      callback(null);
      return;
    }
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    packet.payload = payload;
    metrics.messagesIn.inc({ channel: target.channel });
    // The callback waits for ingest: aedes writes the PUBACK right after it (lib/handlers/
    // publish.js), so an acknowledged QoS 1 message is already committed to the store. Calls reach
    // ingest in arrival order; only their completion overlaps.
    Promise.resolve()
      .then(() => deps.ingest.handle(target.deviceId, target.channel, payload))
      .then(
        (outcome) => {
          if (!outcome.accepted) {
            packet.retain = false;
            dropped.add(payload);
            metrics.payloadsDropped.inc({ channel: target.channel });
          }
          callback(null);
        },
        (err: unknown) => {
          metrics.ingestFailures.inc();
          if (isCcError(err) && err.code === 'STORAGE_FULL') {
            // The full disk is logged once where it is detected, not for every refused message.
            log.debug({ deviceId }, 'storage full; closing the connection without an ack');
          } else {
            log.error({ err, deviceId }, 'ingest failed; closing the connection without an ack');
          }
          callback(err instanceof Error ? err : new Error('ingest failed'));
        },
      );
  };

  return {
    hooks: {
      preConnect(client, packet, callback) {
        if (packet.will) willTopics.set(client, packet.will.topic);
        callback(null, true);
      },
      authenticate,
      authorizePublish,
      authorizeSubscribe(client, subscription, callback) {
        if (canDeviceSubscribe(client.id, subscription.topic)) {
          callback(null, subscription);
          return;
        }
        // Refused per topic with SUBACK 0x80; the connection stays up (MQTT 3.1.1 §3.9.3).
        metrics.aclDenials.inc({ action: 'subscribe' });
        log.warn(
          { deviceId: printable(client.id), topic: printable(subscription.topic) },
          'subscription refused',
        );
        callback(null, null);
      },
      authorizeForward(_client, packet) {
        return typeof packet.payload !== 'string' && dropped.has(packet.payload) ? null : packet;
      },
    },
    isDropped(payload) {
      return typeof payload !== 'string' && dropped.has(payload);
    },
  };
}
