// The embedded MQTT 3.1.1 broker (aedes) on TCP or TLS: connection limits, the frame-size guard,
// server-side publish/subscribe and the `cc/v1/fleet/…` republish of normalized fleet changes.

import type { EventEmitter } from 'node:events';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/index.js';
import type { FleetChange } from '../domain/index.js';
import { CcError } from '../domain/index.js';
import type { Ingest } from '../ingest/ingest-types.js';
import type { DeviceCredentialRepository } from '../store/store.js';
import { createBrokerMetrics } from './broker-metrics.js';
import { createDeviceAccess, printable } from './device-access.js';
import { FLEET_TOPIC_ROOT } from './device-topics.js';
import { limitFrames } from './frame-limited-socket.js';

export interface EmbeddedBrokerDeps {
  logger: Logger;
  metrics: Registry;
  credentials: DeviceCredentialRepository;
  ingest: Pick<Ingest, 'handle'>;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** Largest MQTT packet (fixed header included); a larger one closes only its sender. */
  maxPacketBytes: number;
  /** CONNECTs asking for a longer keep-alive (or none) are refused; 0 = no limit. */
  keepaliveLimitSeconds: number;
  /** MQTT over TLS instead of plain TCP. */
  tls?: TlsOptions;
  /** A second listener, MQTT over TLS, beside the first (devices pick plain or TLS). */
  tlsListener?: { port: number; tls: TlsOptions };
}

export interface ServerPublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

export interface EmbeddedBroker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Republishes a normalized fleet change on `cc/v1/fleet/…` for read-only subscribers. */
  publishFleetChange(change: FleetChange): void;
  /** Publishes as the server (no ACL), e.g. a command to `cc/v1/devices/{id}/commands`. */
  publish(topic: string, payload: Buffer | string, options: ServerPublishOptions): Promise<void>;
  /**
   * Subscribes the server itself (no ACL); messages ingest dropped are not delivered. Resolves
   * with the function that ends the subscription.
   */
  subscribe(
    filter: string,
    listener: (topic: string, payload: Buffer) => void,
  ): Promise<() => Promise<void>>;
  /** The message the broker holds retained on `topic`, if any. */
  retained(topic: string): Promise<Buffer | undefined>;
  address(): { host: string; port: number };
  /** Closes the device's connection, if it has one (after its token was revoked or replaced). */
  disconnect(deviceId: string): boolean;
  isConnected(deviceId: string): boolean;
  /** The second (TLS) listener's address, when there is one. */
  tlsAddress(): { host: string; port: number } | undefined;
  connectedDevices(): number;
}

const CONNECT_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 30_000;
/** Packets a client may send before its CONNACK is out; more closes it. */
const QUEUE_LIMIT = 42;
/** Device ids are at most 64 characters (domain DEVICE_ID_PATTERN). */
const MAX_CLIENT_ID_LENGTH = 64;

/** The part of aedes' persistence used to read retained messages (not in aedes' typings). */
interface RetainedSource {
  persistence: { createRetainedStream(pattern: string): AsyncIterable<{ payload: Buffer }> };
}

/** `body: null` publishes an empty payload (clears a retained message). */
function fleetTopic(change: FleetChange): { topic: string; retain: boolean; body: unknown } {
  switch (change.type) {
    case 'device':
      // Retained: a subscriber sees every device's latest view at once.
      return {
        topic: `${FLEET_TOPIC_ROOT}devices/${change.device.id}`,
        retain: true,
        body: change.device,
      };
    case 'job':
      return { topic: `${FLEET_TOPIC_ROOT}jobs/${change.job.id}`, retain: false, body: change.job };
    case 'alert':
      return {
        topic: `${FLEET_TOPIC_ROOT}alerts/${change.alert.id}`,
        retain: false,
        body: change.alert,
      };
    case 'device-removed':
      // An empty retained message clears the device's retained view for new subscribers.
      return { topic: `${FLEET_TOPIC_ROOT}devices/${change.deviceId}`, retain: true, body: null };
    case 'command':
      return {
        topic: `${FLEET_TOPIC_ROOT}commands/${change.command.id}`,
        retain: false,
        body: change.command,
      };
  }
}

export function createEmbeddedBroker(
  deps: EmbeddedBrokerDeps,
  options: EmbeddedBrokerOptions,
): EmbeddedBroker {
  const log = deps.logger.child({ subsystem: 'broker' });
  let aedes: Aedes | undefined;
  let servers: Server[] = [];
  let bound: { host: string; port: number } | undefined;
  let boundTls: { host: string; port: number } | undefined;
  const sockets = new Set<Socket>();
  /** Connected clients by id (= device id), to close one whose token changed. */
  const clients = new Map<string, Client>();
  const metrics = createBrokerMetrics(deps.metrics, () => aedes?.connectedClients ?? 0);
  const access = createDeviceAccess({
    log,
    metrics,
    credentials: deps.credentials,
    ingest: deps.ingest,
  });

  function running(): Aedes {
    if (!aedes || aedes.closed) throw new CcError('INTERNAL', 'MQTT broker is not running');
    return aedes;
  }

  function onConnection(socket: Socket): void {
    const broker = aedes;
    if (!broker || broker.closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const conn = limitFrames(socket, options.maxPacketBytes, (verdict) => {
      metrics.frameViolations.inc({ reason: verdict.reason });
      log.warn(
        { remoteAddress: socket.remoteAddress, ...verdict },
        'MQTT frame limit broken; closing the connection',
      );
    });
    broker.handle(conn);
  }

  async function listen(srv: Server, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new CcError('INTERNAL', `MQTT broker cannot listen on ${options.host}:${port}`, {
            cause: err.message,
          }),
        );
      };
      srv.once('error', onError);
      srv.listen(port, options.host, () => {
        srv.off('error', onError);
        resolve();
      });
    });
    srv.on('error', (err) => log.error({ err }, 'MQTT server error'));
    const addr = srv.address();
    return addr !== null && typeof addr === 'object'
      ? { host: addr.address, port: addr.port }
      : { host: options.host, port };
  }

  function createListener(tls: TlsOptions | undefined): Server {
    const srv = tls ? createTlsServer(tls, onConnection) : createTcpServer(onConnection);
    srv.on('tlsClientError', (err: Error) => {
      log.debug({ err: err.message }, 'MQTT TLS handshake failed');
    });
    servers.push(srv);
    return srv;
  }

  async function start(): Promise<void> {
    const broker = await Aedes.createBroker({
      connectTimeout: CONNECT_TIMEOUT_MS,
      keepaliveLimit: options.keepaliveLimitSeconds,
      drainTimeout: DRAIN_TIMEOUT_MS,
      queueLimit: QUEUE_LIMIT,
      maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
      ...access.hooks,
    });
    aedes = broker;
    broker.on('client', (client) => clients.set(client.id, client));
    broker.on('clientDisconnect', (client) => {
      if (clients.get(client.id) === client) clients.delete(client.id);
    });
    // Errors of one client never concern the others; aedes closes that client itself.
    broker.on('clientError', (client, err) => {
      log.debug({ deviceId: printable(client.id), err: err.message }, 'MQTT client error');
    });
    broker.on('connectionError', (_client, err) => {
      log.debug({ err: err.message }, 'MQTT connection error');
    });
    // aedes' periodic will sweep reports failures as 'error' (absent from its typings); without a
    // listener that would end the process.
    (broker as EventEmitter).on('error', (err: unknown) => {
      log.error({ err }, 'MQTT broker error');
    });

    try {
      bound = await listen(createListener(options.tls), options.port);
      if (options.tlsListener) {
        boundTls = await listen(createListener(options.tlsListener.tls), options.tlsListener.port);
      }
    } catch (err) {
      await stop();
      throw err;
    }
    log.info(
      { ...bound, tls: Boolean(options.tls), tlsPort: boundTls?.port ?? null },
      'MQTT broker listening',
    );
  }

  async function stop(): Promise<void> {
    const listening = servers;
    const broker = aedes;
    servers = [];
    const closed = Promise.all(
      listening
        .filter((srv) => srv.listening)
        .map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))),
    );
    // aedes closes every client (publishing the wills of those that did not say goodbye).
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
    aedes = undefined;
  }

  function publish(
    topic: string,
    payload: Buffer | string,
    publishOptions: ServerPublishOptions,
  ): Promise<void> {
    const broker = running();
    return new Promise((resolve, reject) => {
      broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
          qos: publishOptions.qos,
          retain: publishOptions.retain,
          dup: false,
        },
        (err) => {
          if (err) reject(err);
          else resolve();
        },
      );
    });
  }

  async function subscribe(
    filter: string,
    listener: (topic: string, payload: Buffer) => void,
  ): Promise<() => Promise<void>> {
    const broker = running();
    const deliver = (packet: AedesPublishPacket, done: () => void): void => {
      if (!access.isDropped(packet.payload)) {
        const payload =
          typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        listener(packet.topic, payload);
      }
      done();
    };
    await new Promise<void>((resolve) => broker.subscribe(filter, deliver, resolve));
    return () =>
      new Promise<void>((resolve) => {
        if (broker.closed) resolve();
        else broker.unsubscribe(filter, deliver, resolve);
      });
  }

  async function retained(topic: string): Promise<Buffer | undefined> {
    const broker = running() as unknown as RetainedSource;
    let found: Buffer | undefined;
    for await (const packet of broker.persistence.createRetainedStream(topic)) {
      found = packet.payload;
    }
    return found;
  }

  return {
    start,
    stop,
    publish,
    subscribe,
    retained,
    publishFleetChange(change) {
      if (!aedes || aedes.closed) return;
      const { topic, retain, body } = fleetTopic(change);
      const payload = body === null ? Buffer.alloc(0) : JSON.stringify(body);
      publish(topic, payload, { qos: 0, retain }).catch((err: unknown) => {
        log.warn({ err, topic }, 'fleet republish failed');
      });
    },
    tlsAddress() {
      return boundTls;
    },
    isConnected: (deviceId) => clients.has(deviceId),
    disconnect(deviceId) {
      const client = clients.get(deviceId);
      if (client === undefined) return false;
      client.close();
      log.info({ deviceId: printable(deviceId) }, 'device disconnected: its token changed');
      return true;
    },
    address() {
      if (!bound) throw new CcError('INTERNAL', 'MQTT broker is not started');
      return bound;
    },
    connectedDevices() {
      return aedes?.connectedClients ?? 0;
    },
  };
}
